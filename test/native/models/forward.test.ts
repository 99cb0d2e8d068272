/** Forward shapes of every model on small batches, tensor hygiene, training mode and init options. */
import {
  BatchNorm2d, BasicBlock, Bottleneck, CifarResNet, F, createModel, memory, noGrad, randint, randn, setNumThreads, tidy,
} from '../../../src';

beforeAll(() => setNumThreads(1));

const CASES: [name: string, options: Record<string, unknown>, input: number[], classes: number][] = [
  ['cifar_resnet_20', {}, [2, 3, 32, 32], 10],
  ['cifar_resnet_20', { shortcut: 'padding', numClasses: 100 }, [2, 3, 32, 32], 100],
  ['cifar_resnet_32', {}, [1, 3, 32, 32], 10],
  ['resnet18', { numClasses: 7 }, [2, 3, 64, 64], 7],
  ['resnet34', {}, [2, 3, 32, 32], 1000],
  ['resnet50', { numClasses: 10 }, [1, 3, 64, 64], 10],
  ['cifar_resnet18', { numClasses: 100 }, [2, 3, 32, 32], 100],
  ['cifar_resnet50', {}, [1, 3, 32, 32], 10],
  ['vgg11_bn', {}, [2, 3, 32, 32], 10],
  ['vgg16_bn', { numClasses: 100 }, [2, 3, 32, 32], 100],
  ['vgg19_bn', { inputSize: 64 }, [1, 3, 64, 64], 10],
  ['wrn_16_8', {}, [2, 3, 32, 32], 10],
  ['wide_resnet', { depth: 10, widenFactor: 2, dropRate: 0.3 }, [2, 3, 32, 32], 10],
  ['lenet5', {}, [4, 1, 28, 28], 10],
  ['lenet5', { inChannels: 3, inputSize: 32 }, [2, 3, 32, 32], 10],
  ['mlp', {}, [4, 1, 28, 28], 10],
  ['mlp', { hidden: [64], inChannels: 3, inputSize: 32, numClasses: 5 }, [2, 3, 32, 32], 5],
];

describe('forward', () => {
  test.each(CASES)('%s %j: [N, classes] logits in train and eval mode, no leaked tensors', (name, options, input, classes) => {
    const model = createModel(name, options);
    const before = memory().numTensors;
    tidy(() => {
      const x = randn(input);
      const y = model.forward(x);
      expect(y.shape).toEqual([input[0], classes]);
      expect(tidy(() => y.isfinite().all().item())).toBe(1);
      model.eval();
      const z = noGrad(() => model.forward(x));
      expect(z.shape).toEqual([input[0], classes]);
      model.train();
    });
    expect(memory().numTensors).toBe(before);
    model.dispose();
  });

  test('cifar_resnet_20: backward reaches every parameter', () => {
    const model = createModel('cifar_resnet_20');
    tidy(() => {
      const loss = F.crossEntropy(model.forward(randn([4, 3, 32, 32])), randint(0, 10, [4]));
      loss.backward();
      for (const [name, p] of model.namedParameters()) {
        const g = p.grad;
        expect([name, g?.shape]).toEqual([name, p.shape]);
      }
    });
    model.dispose();
  });

  test('zeroInitResidual zeroes the last BN weight of every block (off by default)', () => {
    const lastBns = (m: ReturnType<typeof createModel>) => [...m.namedModules()]
      .filter(([, b]) => b instanceof BasicBlock || b instanceof Bottleneck)
      .map(([, b]) => (b as BasicBlock | Bottleneck).lastBn);
    for (const name of ['cifar_resnet_20', 'resnet50']) {
      const off = createModel(name);
      const on = createModel(name, { zeroInitResidual: true });
      expect(lastBns(on).length).toBeGreaterThan(0);
      for (const bn of lastBns(on)) expect(tidy(() => bn.weight!.abs().sum().item())).toBe(0);
      for (const bn of lastBns(off)) expect(tidy(() => bn.weight!.sum().item())).toBe(bn.numFeatures);
      off.dispose();
      on.dispose();
    }
  });

  test('torchvision init: convs N(0, 2/fan_out), BN weight 1 bias 0', () => {
    const model = createModel('resnet18');
    const w = model.getModule('layer4.0.conv2')!.getParameter('weight')!; // 512x512x3x3: fan_out 4608
    const std = tidy(() => w.std().item());
    expect(std).toBeGreaterThan(Math.sqrt(2 / 4608) * 0.97);
    expect(std).toBeLessThan(Math.sqrt(2 / 4608) * 1.03);
    const bn = model.getModule('layer1.0.bn1') as BatchNorm2d;
    expect(bn.weight!.toArray().every((v) => v === 1)).toBe(true);
    expect(bn.bias!.toArray().every((v) => v === 0)).toBe(true);
    model.dispose();
  });

  test('option A shortcut: subsampled input with zero-padded channels, no parameters', () => {
    const model = createModel('cifar_resnet_20', { shortcut: 'padding' }) as CifarResNet;
    const block = model.getModule('layer2.0')!;
    const shortcut = block.getModule('downsample')!;
    expect([...shortcut.namedParameters()]).toEqual([]);
    tidy(() => {
      const x = randn([1, 16, 8, 8]);
      const y = shortcut.forward(x);
      expect(y.shape).toEqual([1, 32, 4, 4]);
      expect(tidy(() => y.slice(1, 8, 24).sub(x.slice(2, 0, undefined, 2).slice(3, 0, undefined, 2)).abs().max().item())).toBe(0);
      expect(tidy(() => y.slice(1, 0, 8).abs().sum().item() + y.slice(1, 24, 32).abs().sum().item())).toBe(0);
    });
    model.dispose();
  });
});
