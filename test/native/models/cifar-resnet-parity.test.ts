/**
 * ResNet-20 with one input channel and option-B shortcuts (the Fashion-MNIST model of issue 12)
 * against an independent PyTorch definition (test/helpers/cifar_resnet.py, which the SynFlow
 * reference and the PyTorch benchmarks also use): the same state-dict keys and shapes, and the
 * same logits in eval mode and in train mode (BatchNorm on batch statistics) for the same weights.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel, loadPyTorchStateDict, loadSafetensors, noGrad, pytorchStateDict, setNumThreads, tidy, type Tensor } from '../../../src';
import { hasTorchvision, runPython } from '../../helpers/torchvision';

const suite = hasTorchvision() ? describe : describe.skip;

function maxAbsDiff(a: Tensor, b: Tensor): number {
  return tidy(() => a.sub(b).abs().max().item());
}

suite('cifar_resnet_20, 1 channel, option B: parity with an independent PyTorch ResNet-20', () => {
  let dir: string;

  beforeAll(() => {
    setNumThreads(1);
    dir = mkdtempSync(join(tmpdir(), 'signin-r20-'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("same keys and shapes, same logits in eval and train mode; 'B' names the projection shortcut", () => {
    const out = runPython(`
import sys, torch, torch.nn as nn
from cifar_resnet import CifarResNet
d = sys.argv[1]
torch.manual_seed(7)
m = CifarResNet(20, in_channels=1, num_classes=10)
with torch.no_grad():
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 1.5)
            mod.weight.uniform_(0.5, 1.5)
            mod.bias.uniform_(-0.5, 0.5)
x = torch.randn(4, 1, 28, 28)
m.eval()
with torch.no_grad():
    y_eval = m(x)
# Saved before the train-mode pass, which updates the running statistics.
save(f'{d}/ref.safetensors', m.state_dict())
m.train()
with torch.no_grad():
    y_train = m(x)
save(f'{d}/io.safetensors', {'x': x, 'y_eval': y_eval, 'y_train': y_train})
print(sum(p.numel() for p in m.parameters()))
`, [dir]);
    const refParams = Number(out.trim());

    tidy(() => {
      const model = createModel('cifar_resnet_20', { inChannels: 1, inputSize: 28, numClasses: 10, shortcut: 'B' });
      const ref = loadSafetensors(join(dir, 'ref.safetensors'));
      const ours = pytorchStateDict(model);
      const shapes = (m: Map<string, Tensor>) => Object.fromEntries([...m].filter(([k]) => !k.endsWith('num_batches_tracked')).map(([k, t]) => [k, t.shape]));
      expect(shapes(ours)).toEqual(shapes(ref));
      expect(model.parameters().reduce((s, p) => s + p.numel, 0)).toBe(refParams);

      const result = loadPyTorchStateDict(model, ref);
      expect(result.unexpectedKeys).toEqual([]);
      expect(result.missingKeys.every((k) => k.endsWith('_mask'))).toBe(true);

      const io = loadSafetensors(join(dir, 'io.safetensors'));
      const x = io.get('x')!;
      model.eval();
      const yEval = noGrad(() => model.forward(x));
      model.train();
      const yTrain = noGrad(() => model.forward(x));
      expect(maxAbsDiff(yEval, io.get('y_eval')!)).toBeLessThan(1e-4);
      expect(maxAbsDiff(yTrain, io.get('y_train')!)).toBeLessThan(1e-4);
      // The two modes differ, so each comparison checks its own BatchNorm path.
      expect(maxAbsDiff(yEval, yTrain)).toBeGreaterThan(1e-2);
      model.dispose();
    });
  });

  test("'A' is option A (no shortcut parameters); other letters are refused by name", () => {
    const a = createModel('cifar_resnet_20', { inChannels: 1, shortcut: 'A' });
    const b = createModel('cifar_resnet_20', { inChannels: 1, shortcut: 'B' });
    const count = (m: typeof a) => m.parameters().reduce((s, p) => s + p.numel, 0);
    // Option B adds a 1x1 conv + BN at the two downsampling blocks: 16·32 + 2·32 + 32·64 + 2·64.
    expect(count(b) - count(a)).toBe(16 * 32 + 2 * 32 + 32 * 64 + 2 * 64);
    a.dispose();
    b.dispose();
    expect(() => createModel('cifar_resnet_20', { shortcut: 'C' as 'B' })).toThrow(/one of 'projection', 'padding', 'B', 'A' for options\.shortcut/);
  });
});
