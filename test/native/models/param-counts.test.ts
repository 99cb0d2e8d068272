/**
 * Parameter counts: the published numbers where they exist, and otherwise closed forms written
 * here from each architecture's definition (not from the models' own output). Masks are buffers,
 * so they never count.
 */
import { createModel, type Model } from '../../../src';

/** Counts of the building blocks: a k x k conv (optional bias), a BatchNorm, a linear layer. */
const conv = (cin: number, cout: number, k: number, bias = false): number => cin * cout * k * k + (bias ? cout : 0);
const bn = (c: number): number => 2 * c;
const linear = (fin: number, fout: number): number => fin * fout + fout;

function count(name: string, options: Record<string, unknown> = {}): number {
  const model: Model = createModel(name, options);
  const n = model.numParameters();
  model.dispose();
  return n;
}

/** He et al. 2016 CIFAR ResNet of depth 6n+2 with option-B (1x1 conv + BN) or option-A shortcuts. */
function cifarResNetClosedForm(depth: number, classes: number, shortcut: 'projection' | 'padding' = 'projection', width = 16): number {
  const n = (depth - 2) / 6;
  let total = conv(3, width, 3) + bn(width);
  let cin = width;
  for (let stage = 0; stage < 3; stage++) {
    const cout = width * 2 ** stage;
    for (let b = 0; b < n; b++) {
      total += conv(cin, cout, 3) + bn(cout) + conv(cout, cout, 3) + bn(cout);
      if (cin !== cout && shortcut === 'projection') total += conv(cin, cout, 1) + bn(cout);
      cin = cout;
    }
  }
  return total + linear(4 * width, classes);
}

/** torchvision ResNet: basic (expansion 1) or bottleneck (expansion 4) blocks. */
function resNetClosedForm(block: 'basic' | 'bottleneck', layers: number[], classes: number, stem: 'imagenet' | 'cifar'): number {
  const e = block === 'basic' ? 1 : 4;
  let total = conv(3, 64, stem === 'imagenet' ? 7 : 3) + bn(64);
  let cin = 64;
  layers.forEach((blocks, stage) => {
    const p = 64 * 2 ** stage;
    for (let b = 0; b < blocks; b++) {
      total += block === 'basic'
        ? conv(cin, p, 3) + bn(p) + conv(p, p, 3) + bn(p)
        : conv(cin, p, 1) + bn(p) + conv(p, p, 3) + bn(p) + conv(p, p * e, 1) + bn(p * e);
      if (b === 0 && (stage > 0 || cin !== p * e)) total += conv(cin, p * e, 1) + bn(p * e);
      cin = p * e;
    }
  });
  return total + linear(cin, classes);
}

/** VGG-bn for CIFAR: 3x3 convs with bias + BN per plan entry, then one linear layer. */
function vggClosedForm(plan: (number | 'M')[], classes: number): number {
  let total = 0;
  let cin = 3;
  for (const v of plan) {
    if (v === 'M') continue;
    total += conv(cin, v, 3, true) + bn(v);
    cin = v;
  }
  return total + linear(cin, classes);
}

/** Zagoruyko & Komodakis WRN-d-k, pre-activation blocks, 1x1 conv shortcuts (no BN) where the shape changes. */
function wrnClosedForm(depth: number, k: number, classes: number): number {
  const n = (depth - 4) / 6;
  const widths = [16 * k, 32 * k, 64 * k];
  let total = conv(3, 16, 3);
  let cin = 16;
  widths.forEach((cout, stage) => {
    for (let b = 0; b < n; b++) {
      total += bn(cin) + conv(cin, cout, 3) + bn(cout) + conv(cout, cout, 3);
      if (cin !== cout || (stage > 0 && b === 0)) total += conv(cin, cout, 1);
      cin = cout;
    }
  });
  return total + bn(cin) + linear(cin, classes);
}

const VGG = {
  11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  19: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
} as Record<number, (number | 'M')[]>;

describe('parameter counts', () => {
  test('torchvision ResNets match the published counts (1000 classes)', () => {
    expect(count('resnet18')).toBe(11_689_512);
    expect(count('resnet34')).toBe(21_797_672);
    expect(count('resnet50')).toBe(25_557_032);
    expect(resNetClosedForm('basic', [2, 2, 2, 2], 1000, 'imagenet')).toBe(11_689_512);
    expect(resNetClosedForm('bottleneck', [3, 4, 6, 3], 1000, 'imagenet')).toBe(25_557_032);
  });

  test('CIFAR-stem ResNet-18/34/50 (3x3 stem: 9·3·64 weights instead of 49·3·64)', () => {
    expect(count('cifar_resnet18', { numClasses: 10 })).toBe(11_173_962);
    expect(count('cifar_resnet18', { numClasses: 100 })).toBe(resNetClosedForm('basic', [2, 2, 2, 2], 100, 'cifar'));
    expect(count('cifar_resnet34', { numClasses: 100 })).toBe(resNetClosedForm('basic', [3, 4, 6, 3], 100, 'cifar'));
    expect(count('cifar_resnet50', { numClasses: 100 })).toBe(resNetClosedForm('bottleneck', [3, 4, 6, 3], 100, 'cifar'));
  });

  test('CIFAR ResNet-20 has 272,474 parameters (option B), 269,722 with option A', () => {
    expect(cifarResNetClosedForm(20, 10)).toBe(272_474);
    expect(count('cifar_resnet_20')).toBe(272_474);
    expect(count('cifar_resnet_20', { shortcut: 'padding' })).toBe(269_722);
    expect(cifarResNetClosedForm(20, 10, 'padding')).toBe(269_722);
  });

  test.each([32, 44, 56, 110])('CIFAR ResNet-%i matches its closed form', (depth) => {
    expect(count(`cifar_resnet_${depth}`)).toBe(cifarResNetClosedForm(depth, 10));
  });

  test('CIFAR ResNet options change the count as the closed form says', () => {
    expect(count('cifar_resnet_20', { numClasses: 100 })).toBe(cifarResNetClosedForm(20, 100));
    expect(count('cifar_resnet', { depth: 8, width: 32 })).toBe(cifarResNetClosedForm(8, 10, 'projection', 32));
  });

  test.each([11, 16, 19])('VGG-%i-bn (CIFAR, one linear classifier) matches its closed form', (depth) => {
    expect(count(`vgg${depth}_bn`)).toBe(vggClosedForm(VGG[depth], 10));
  });

  test('VGG-16-bn: features as torchvision (14,723,136) + 512·10 + 10', () => {
    expect(count('vgg16_bn')).toBe(14_723_136 + 5_130);
  });

  test('wide ResNets: WRN-28-10 has 36,479,194 (published), others match the closed form', () => {
    expect(wrnClosedForm(28, 10, 10)).toBe(36_479_194);
    expect(count('wrn_28_10')).toBe(36_479_194);
    expect(count('wrn_16_8', { numClasses: 100 })).toBe(wrnClosedForm(16, 8, 100));
    expect(count('wide_resnet', { depth: 10, widenFactor: 2 })).toBe(wrnClosedForm(10, 2, 10));
  });

  test('LeNet-5 (61,706) and LeNet-300-100 (266,610) on 28x28', () => {
    const lenet = conv(1, 6, 5, true) + conv(6, 16, 5, true) + linear(16 * 5 * 5, 120) + linear(120, 84) + linear(84, 10);
    expect(lenet).toBe(61_706);
    expect(count('lenet5')).toBe(lenet);
    expect(count('lenet5', { inChannels: 3, inputSize: 32 })).toBe(conv(3, 6, 5, true) + conv(6, 16, 5, true) + linear(16 * 6 * 6, 120) + linear(120, 84) + linear(84, 10));
    expect(count('lenet5', { batchNorm: true })).toBe(lenet + bn(6) + bn(16) + bn(120) + bn(84));
    expect(count('mlp')).toBe(linear(784, 300) + linear(300, 100) + linear(100, 10));
    expect(count('mlp')).toBe(266_610);
    expect(count('mlp', { hidden: [] })).toBe(linear(784, 10));
  });
});
