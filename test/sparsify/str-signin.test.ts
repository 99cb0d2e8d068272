/**
 * STR with Sign-In: the raw weight w = m ⊙ v (m² − v² = β at the split and at each reset), m and v
 * trained by SGD from ∂L/∂w, θ = sign(w)·relu(|w| − σ(s)). Checked against PyTorch autograd +
 * torch.optim.SGD on (m, v, s) in float64 over four steps with a reset between them; in the
 * Trainer (mask = θ ≠ 0, the layer's own factors a split of θ); resumed from a checkpoint
 * bit-identical to a run done in one go; and from a config through trainFromConfig, where θ in
 * the checkpoint is recomputed in float64 from the saved m, v and s, and a run restarted from
 * the epoch-1 checkpoint ends with the same tensors.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import {
  Str, applySignIn, loadCheckpoint, sparsifyCallbacksFromConfig, loadSafetensorsWithMetadata, maskedLayers, noGrad, saveCheckpoint, setLogger, signinFactors, tidy,
  type Callback, type MaskedLayer, type Module, type Tensor,
} from '../../src';
import { createRunDir, parseConfig, readMetrics, runPaths } from '../../src/experiments';
import { trainFromConfig } from '../../src/experiments/runner';
import { fashionImages, tmpDir, writeIdxSet } from '../helpers/data-fixtures';
import { dedent, describePytorch, expectClose, fromPy, randnArray, runPytorch, seeded, toPy, type PyArray } from '../helpers/pytorch';
import { createToyModel } from '../helpers/toy-model';
import { InvariantProbe, fixedSource, toySetup, train } from './helpers';

const LAYERS = ['conv1', 'conv2', 'fc'] as const;
const BETA: Record<string, number> = { conv1: 2, conv2: 2, fc: 0.5 };

function layer(model: Module, name: string): MaskedLayer {
  return model.getModule(name) as unknown as MaskedLayer;
}

function values(t: Tensor): number[] {
  return Array.from(tidy(() => t.detach().to('float64').contiguous().toArray()) as ArrayLike<number>);
}

/** Every tensor of the model and of the STR state, as float64 lists, for bit-for-bit comparisons. */
function snapshot(model: Module, str: Str): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [k, t] of model.stateDict()) out[`model.${k}`] = values(t);
  for (const [k, t] of str.getState().tensors!) out[`str.${k}`] = values(t);
  return out;
}

describePytorch('STR + Sign-In against PyTorch', () => {
  it('four steps with a reset after the second match autograd + torch.optim.SGD on m, v and s (float64)', () => {
    const rand = seeded(11);
    const model = createToyModel();
    const inputs: Record<string, PyArray> = {};
    for (const n of LAYERS) {
      inputs[`w_${n}`] = randnArray(layer(model, n).weight.shape, rand, 0.5);
      noGrad(() => tidy(() => { layer(model, n).weight.copy_(fromPy(inputs[`w_${n}`])); }));
    }
    applySignIn(model, { beta: (name) => BETA[name] });
    const str = new Str({ sInit: -1.5, momentum: 0.9, weightDecay: 0.05 });
    str.initialize(model);
    const lrs = [0.5, 0.3, 0.4, 0.2];
    const resetAfter = 2;
    let betaBefore = NaN;
    lrs.forEach((lr, r) => {
      if (r === resetAfter) {
        betaBefore = str.innerScaling();
        expect(str.resetFactors(model)).toBe(3);
      }
      for (const n of LAYERS) {
        inputs[`G${r}_${n}`] = randnArray(layer(model, n).weight.shape, rand, 0.3);
        layer(model, n).weight.grad = fromPy(inputs[`G${r}_${n}`]);
      }
      str.step(model, lr);
    });
    const ref = runPytorch(dedent(`
      names, lrs, betas, reset_after = args['names'], args['lrs'], args['betas'], args['resetAfter']
      def split(w, beta):
          m = torch.sqrt((beta + torch.sqrt(beta * beta + 4 * w * w)) / 2)
          return m, w / m
      tot, cnt = 0.0, 0
      for n in names:
          m0, v0 = split(inp['w_' + n], betas[n])
          m = m0.clone().requires_grad_(True)
          v = v0.clone().requires_grad_(True)
          s = torch.tensor([-1.5], dtype=torch.float64, requires_grad=True)
          opt = torch.optim.SGD([m, v, s], lr=lrs[0], momentum=0.9, weight_decay=0.05)
          for r, lr in enumerate(lrs):
              if r == reset_after:
                  with torch.no_grad():
                      tot += (m * m - v * v).sum().item()
                      cnt += m.numel()
                      m1, v1 = split(m * v, betas[n])
                      m.copy_(m1)
                      v.copy_(v1)
              for g in opt.param_groups: g['lr'] = lr
              opt.zero_grad()
              w = m * v
              theta = torch.sign(w) * torch.relu(torch.abs(w) - torch.sigmoid(s))
              (theta * inp['G%d_%s' % (r, n)]).sum().backward()
              opt.step()
          with torch.no_grad():
              w = m * v
              theta = torch.sign(w) * torch.relu(torch.abs(w) - torch.sigmoid(s))
          out['theta_' + n] = theta
          out['mask_' + n] = (theta != 0).double()
          out['m_' + n] = m.detach()
          out['v_' + n] = v.detach()
          out['thr_' + n] = torch.sigmoid(s).detach()
      out['beta_before'] = torch.tensor([tot / cnt], dtype=torch.float64)
    `), inputs, { names: LAYERS, lrs, betas: BETA, resetAfter });

    const thr = str.thresholds();
    const state = str.getState().tensors!;
    for (const n of LAYERS) {
      const l = layer(model, n);
      expectClose(toPy(l.weight), ref.out[`theta_${n}`], 1e-5, 1e-6, `θ of ${n}`);
      expectClose(toPy(state.get(`${n}.m`)!), ref.out[`m_${n}`], 1e-5, 1e-6, `m of ${n}`);
      expectClose(toPy(state.get(`${n}.v`)!), ref.out[`v_${n}`], 1e-5, 1e-6, `v of ${n}`);
      expect(Math.abs(thr[n] - ref.out[`thr_${n}`].data[0])).toBeLessThan(1e-7);
      // Entries within float32 rounding of the threshold may fall either way; there are none here.
      expect(values(l.mask)).toEqual(Array.from(ref.out[`mask_${n}`].data));
      // The layer stays a Sign-In layer: its own factors are a split of θ with its β.
      const f = signinFactors(l)!;
      expect(f.beta).toBe(BETA[n]);
      expect(tidy(() => l.weight.ne(f.m.mul(f.w)).sum().item())).toBe(0);
      expect(tidy(() => f.w.ne(0).logicalAnd(l.mask.eq(0)).sum().item())).toBe(0);
    }
    // Weight decay and noise wore β down before the reset, and the reference agrees on how much.
    expect(Math.abs(betaBefore - ref.out.beta_before.data[0])).toBeLessThan(1e-5);
    const numel = (n: string) => layer(model, n).weight.numel;
    const betaSplit = LAYERS.reduce((a, n) => a + BETA[n] * numel(n), 0) / LAYERS.reduce((a, n) => a + numel(n), 0);
    expect(betaBefore).toBeLessThan(betaSplit - 1e-3);
    // The thresholds pruned something (otherwise the comparison would be weak).
    expect(Array.from(ref.out.mask_conv2.data).some((v) => v === 0)).toBe(true);
    str.dispose();
  });
});

describe('STR + Sign-In in the Trainer', () => {
  it('keeps mask = (θ ≠ 0) and θ = m_layer ⊙ w_layer after every step, and resets the raw weight every epoch', async () => {
    const { model, optimizer } = toySetup(true);
    const src = fixedSource(4);
    const str = new Str({ sInit: -4, momentum: 0.9, weightDecay: 0.5 });
    const probe = new InvariantProbe(optimizer);
    const bad: number[] = [];
    const metrics: Record<string, unknown>[] = [];
    await train(model, optimizer, src, 3, [str, probe, {
      name: 'mask-is-support',
      onStepEnd(ctx) {
        for (const [, l] of maskedLayers(ctx.model)) bad.push(tidy(() => l.weight.ne(0).ne(l.mask.ne(0)).sum().item()));
      },
      onEpochEnd(_ctx, m) { metrics.push({ ...m }); },
    }]);
    // STR's regrown entries start at sign(w)(|w| − σ(s)), not 0: only the off-mask checks apply.
    expect(probe.failures.filter((f) => !/Grown/.test(f))).toEqual([]);
    expect(probe.changes).toBeGreaterThan(0);
    expect(bad.every((v) => v === 0)).toBe(true);
    expect(bad.length).toBe(12 * 3);
    // β of the raw weight's factors (toySetup's β = 2) worn down within each epoch, reset at its end.
    expect(metrics.map((m) => m.strSigninResets)).toEqual([1, 2, 3]);
    for (const m of metrics) expect(m.strBeta as number).toBeLessThan(2 - 1e-3);
    expect(Math.abs(str.innerScaling() - 2)).toBeLessThan(1e-5);
    str.dispose(); probe.dispose(); optimizer.dispose(); src.dispose();
  });

  it('resumes from a checkpoint bit-identical to an uninterrupted run (resets every 3 steps)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'str-signin-resume-'));
    const file = path.join(dir, 'ckpt.safetensors');
    const make = () => new Str({ sInit: -3, momentum: 0.9, weightDecay: 0.2, signinReset: { period: 3, unit: 'steps' } });
    try {
      const src = fixedSource(4);
      const a = toySetup(true);
      const strA = make();
      const saver: Callback = {
        name: 'saver',
        onEpochEnd(ctx) {
          if (ctx.epoch === 2) saveCheckpoint(file, { model: a.model, optimizer: a.optimizer, callbacks: [strA], position: { epoch: ctx.epoch, step: ctx.step } });
        },
      };
      await train(a.model, a.optimizer, src, 4, [strA, saver]);

      const b = toySetup(true, 77);
      const strB = make();
      const { position } = loadCheckpoint(file, { model: b.model, optimizer: b.optimizer, callbacks: [strB] });
      expect(position).toEqual({ epoch: 2, step: 8 });
      await train(b.model, b.optimizer, src, 4, [strB], position);
      expect(snapshot(b.model, strB)).toEqual(snapshot(a.model, strA));
      expect(strB.thresholds()).toEqual(strA.thresholds());
      strA.dispose(); strB.dispose(); a.optimizer.dispose(); b.optimizer.dispose(); src.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a state without the Sign-In factors, naming the missing tensor', () => {
    const str = new Str();
    const w = tidy(() => fromPy({ shape: [2], data: Float64Array.from([1, 2]) }));
    const state = { tensors: new Map([['fc.w', w]]), json: { steps: 1, s: { fc: [-3, 0] }, signin: { fc: 1 } } };
    expect(() => str.setState(state)).toThrow(/state\.tensors\['fc\.m'\]/);
    expect(() => new Str({ signinReset: 3 as never })).toThrow(/signinReset/);
    expect(() => new Str({ signinReset: { period: 0 } })).toThrow(/period/);
    w.dispose();
  });
});

describe("a config with sparsify.method 'str' and signin.enabled", () => {
  const dir = tmpDir('str-signin-run-');
  writeIdxSet(path.join(dir, 'data'), fashionImages(600), false);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  beforeAll(() => setLogger(pino({ level: 'silent' })));

  const config = parseConfig({
    dataset: { name: 'mnist', root: path.join(dir, 'data'), augment: false, maxTrainBatches: 3 },
    model: { name: 'lenet5' },
    pruning: { method: 'none' },
    sparsify: { method: 'str', sparsity: 0.9, sInit: -6 },
    signin: { enabled: true, beta: 1, resetPeriod: 1 },
    optimizer: { lr: 0.1, momentum: 0.9, weightDecay: 5e-3 },
    epochs: 2,
    batchSize: 64,
    threads: 1,
  });

  test("passes the run's Sign-In reset schedule to STR, and none when resets or Sign-In are off", () => {
    const build = (signin: object) => sparsifyCallbacksFromConfig(parseConfig({ ...config, signin: { ...config.signin, ...signin } }), 3)[0] as Str;
    expect(build({ resetPeriod: 2, resetUnit: 'steps', stopResetAfterEpoch: 1, momentumAtReset: 'zero' }).signinReset).toEqual({
      period: 2, unit: 'steps', stopAfterEpoch: 1, epochs: 2, momentum: 'zero', beta: undefined,
    });
    expect(build({ resetPeriod: 0 }).signinReset).toBeUndefined();
    expect(build({ enabled: false }).signinReset).toBeUndefined();
  });

  test('trains, θ in the checkpoint is STR of m ⊙ v, and a restart from the epoch-1 checkpoint ends the same', async () => {
    const { dir: runA } = createRunDir(path.join(dir, 'runs-a'), config);
    await trainFromConfig(config, runA);
    const rows = readMetrics(runA);
    expect(rows.map((r) => r.epoch)).toEqual([1, 2]);
    for (const r of rows) expect(Number.isFinite(r.trainLoss)).toBe(true);
    const raw = rows as unknown as Record<string, unknown>[];
    // One reset of the raw weight's factors, after epoch 1 (none once training is over).
    expect(raw.map((r) => r.strSigninResets)).toEqual([1, 1]);
    expect(raw[1].strBeta as number).toBeLessThan(0.9999);

    // θ = sign(w)·relu(|w| − σ(s)) with w = m·v, in float64 from the saved factors and s.
    const { tensors, metadata } = loadSafetensorsWithMetadata(runPaths(runA).checkpoint);
    try {
      const s = (JSON.parse(metadata!.signin_torch) as { callbacks: { str: { s: Record<string, [number, number]> } } }).callbacks.str.s;
      expect(Object.keys(s).length).toBeGreaterThan(0);
      let kept = 0;
      let total = 0;
      for (const name of Object.keys(s)) {
        const [m, v, lm, lw, mask] = [`cb.str.${name}.m`, `cb.str.${name}.v`, `model.${name}.weight_m`, `model.${name}.weight_w`, `model.${name}.weight_mask`]
          .map((k) => values(tensors.get(k)!));
        const tau = 1 / (1 + Math.exp(-s[name][0]));
        const want = m.map((mi, i) => { const w = Math.fround(mi * v[i]); return Math.sign(w) * Math.max(Math.abs(w) - tau, 0); });
        const got = lm.map((x, i) => x * lw[i] * mask[i]);
        expectClose(got, want, 1e-6, 1e-7, `θ of ${name}`);
        expect(mask).toEqual(want.map((x) => (x !== 0 ? 1 : 0)));
        kept += mask.filter((x) => x !== 0).length;
        total += mask.length;
      }
      // sInit −6 with weight decay has pruned some weights: the comparison covers both sides.
      expect(kept).toBeLessThan(total);
    } finally {
      for (const t of tensors.values()) t.dispose();
    }

    // A run killed after its epoch-1 checkpoint: its run dir holds that checkpoint and nothing later.
    const { dir: runB } = createRunDir(path.join(dir, 'runs-b'), config);
    fs.copyFileSync(runPaths(runA).checkpointPrev, runPaths(runB).checkpoint);
    const r = await trainFromConfig(config, runB);
    expect(r.resumedFrom).toBe(1);
    const end = (run: string) => {
      const { tensors: t } = loadSafetensorsWithMetadata(runPaths(run).checkpoint);
      const out = Object.fromEntries([...t].filter(([k]) => !k.startsWith('rng.')).map(([k, x]) => [k, values(x)]));
      for (const x of t.values()) x.dispose();
      return out;
    };
    expect(end(runB)).toEqual(end(runA));
  });
});
