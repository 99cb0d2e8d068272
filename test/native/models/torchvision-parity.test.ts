/**
 * Weights move between our ResNets and torchvision's by name, both ways, and give the same logits
 * (eval mode, float32, same libtorch). torchvision → ours: torchvision's state dict (BN stats and
 * affine randomised so eval is not the identity) is loaded with loadPyTorchStateDict, which only
 * tolerates the absent `*_mask` keys. Ours → torchvision: a partly pruned model is exported with
 * pytorchStateDict and loaded by torchvision with strict=True.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchNorm2d, createModel, loadPyTorchStateDict, loadSafetensors, manualSeed, noGrad, pytorchStateDict, randn, rand,
  saveSafetensors, setNumThreads, tidy, type Model, type Tensor,
} from '../../../src';
import { hasTorchvision, runPython } from '../../helpers/torchvision';

const ARCHS = ['resnet18', 'resnet50'] as const;
const SHAPE = [2, 3, 64, 64];
const NUM_CLASSES = 10;

function maxAbsDiff(a: Tensor, b: Tensor): number {
  return tidy(() => a.sub(b).abs().max().item());
}

function maxAbs(a: Tensor): number {
  return tidy(() => a.abs().max().item());
}

/** Random BN statistics and affine parameters, so eval-mode BN is not the identity. */
function randomiseBatchNorm(model: Model): void {
  noGrad(() => tidy(() => {
    for (const [, m] of model.namedModules()) {
      if (!(m instanceof BatchNorm2d)) continue;
      m.runningMean!.copy_(rand([m.numFeatures]).sub(0.5));
      m.runningVar!.copy_(rand([m.numFeatures]).add(0.5));
      m.weight!.copy_(rand([m.numFeatures]).add(0.5));
      m.bias!.copy_(rand([m.numFeatures]).sub(0.5));
    }
  }));
}

const suite = hasTorchvision() ? describe : describe.skip;

suite('torchvision parity (ResNet-18/50, eval logits, both directions)', () => {
  let dir: string;

  beforeAll(() => {
    setNumThreads(1);
    dir = mkdtempSync(join(tmpdir(), 'signin-tv-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('torchvision → ours: load by name, same logits', () => {
    const out = runPython(String.raw`
import sys, torch, torchvision
d = sys.argv[1]
for i, arch in enumerate(sys.argv[2].split(',')):
    torch.manual_seed(1234 + i)
    m = getattr(torchvision.models, arch)(num_classes=${NUM_CLASSES})
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 1.5)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.5, 0.5)
    m.eval()
    x = torch.randn(${SHAPE.join(', ')})
    with torch.no_grad():
        y = m(x)
    save(f'{d}/{arch}.safetensors', m.state_dict())
    save(f'{d}/{arch}.io.safetensors', {'x': x, 'y': y})
print('ok')
`, [dir, ARCHS.join(',')]);
    expect(out.trim()).toBe('ok');

    for (const arch of ARCHS) {
      tidy(() => {
        const model = createModel(arch, { numClasses: NUM_CLASSES });
        const state = loadSafetensors(join(dir, `${arch}.safetensors`));
        const result = loadPyTorchStateDict(model, state);
        // The only keys torchvision lacks are our masks.
        expect(result.unexpectedKeys).toEqual([]);
        expect(result.missingKeys.length).toBe(model.maskedLayers().length);
        expect(result.missingKeys.every((k) => k.endsWith('.weight_mask'))).toBe(true);
        // The plain strict:false load reports exactly the same missing keys.
        const loose = model.loadStateDict(state, { strict: false });
        expect(loose.missingKeys.sort()).toEqual([...result.missingKeys].sort());
        expect(loose.unexpectedKeys).toEqual([]);

        const io = loadSafetensors(join(dir, `${arch}.io.safetensors`));
        model.eval();
        const y = noGrad(() => model.forward(io.get('x')!));
        const ref = io.get('y')!;
        expect(y.shape).toEqual([SHAPE[0], NUM_CLASSES]);
        expect(maxAbs(ref)).toBeGreaterThan(0.1);
        expect(maxAbsDiff(y, ref)).toBeLessThan(1e-4 * Math.max(1, maxAbs(ref)));
        model.dispose();
      });
    }
  });

  test('ours (partly pruned) → torchvision: export by name, strict load, same logits', () => {
    for (const [i, arch] of ARCHS.entries()) {
      tidy(() => {
        manualSeed(99 + i);
        const model = createModel(arch, { numClasses: NUM_CLASSES });
        randomiseBatchNorm(model);
        // Prune half of two layers: the export must carry the zeros, not the masks.
        for (const [name, layer] of model.maskedLayers()) {
          if (name === 'layer1.0.conv1' || name === 'fc') layer.setMask(rand(layer.weight.shape).lt(0.5));
        }
        model.eval();
        const x = randn(SHAPE);
        const y = noGrad(() => model.forward(x));
        const state = pytorchStateDict(model);
        expect([...state.keys()].some((k) => k.endsWith('_mask'))).toBe(false);
        state.set('__input__', x);
        state.set('__logits__', y);
        saveSafetensors(join(dir, `${arch}.ours.safetensors`), state);
        model.dispose();
      });
    }
    const out = runPython(String.raw`
import sys, json, torch, torchvision
d = sys.argv[1]
res = {}
for arch in sys.argv[2].split(','):
    sd = load(f'{d}/{arch}.ours.safetensors')
    x, y = sd.pop('__input__'), sd.pop('__logits__')
    m = getattr(torchvision.models, arch)(num_classes=${NUM_CLASSES})
    m.load_state_dict(sd, strict=True)
    m.eval()
    with torch.no_grad():
        z = m(x)
    res[arch] = {'diff': (z - y).abs().max().item(), 'scale': y.abs().max().item(),
                 'zeros_l1': int((m.layer1[0].conv1.weight == 0).sum()), 'numel_l1': m.layer1[0].conv1.weight.numel()}
print(json.dumps(res))
`, [dir, ARCHS.join(',')]);
    const res = JSON.parse(out.trim().split('\n').pop()!) as Record<string, { diff: number; scale: number; zeros_l1: number; numel_l1: number }>;
    for (const arch of ARCHS) {
      const r = res[arch];
      expect(r.scale).toBeGreaterThan(0.1);
      expect(r.diff).toBeLessThan(1e-4 * Math.max(1, r.scale));
      // About half of layer1.0.conv1 arrived as exact zeros.
      expect(r.zeros_l1 / r.numel_l1).toBeGreaterThan(0.4);
      expect(r.zeros_l1 / r.numel_l1).toBeLessThan(0.6);
    }
  });
});
