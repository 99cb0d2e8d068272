/**
 * GradScaler against torch.cuda.amp.GradScaler of PyTorch 1.13 (/usr/bin/python3). That class needs
 * CUDA, so its update rule is reimplemented in Python float64 from torch 1.13's
 * `_amp_update_scale_` kernel (a float32 scale times a double factor, stored back in float32; the
 * growth tracker counts successful steps; growth is skipped when the grown scale is not finite) and
 * from `unscale_` (gradients times the float32 of the float64 reciprocal of the scale); both are
 * driven through the same sequence of finite and non-finite gradients as ours. What the live class
 * can show without CUDA is read from it: its defaults and its state_dict keys.
 */
import { GradScaler, fromTypedArray, tidy, type Tensor } from '../../src';
import { describePytorch, runPytorch } from '../helpers/pytorch';

const REFERENCE = `
import inspect, struct
from torch.cuda.amp import GradScaler

def f32(x):
    try:
        return struct.unpack('f', struct.pack('f', x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)

def drive(cfg, kinds, raw):
    scale, tracker = f32(cfg['initScale']), 0
    scales, trackers, stepped, grads = [], [], [], []
    for kind in kinds:
        scaled = [f32(f32(g) * scale) for g in raw]
        if kind == 'inf':
            scaled[1] = math.inf
        elif kind == 'nan':
            scaled[2] = math.nan
        inv = f32(1.0 / scale)
        unscaled = [f32(g * inv) for g in scaled]
        found_inf = any(not math.isfinite(g) for g in unscaled)
        stepped.append(not found_inf)
        if not found_inf:
            grads.append(unscaled)
        if found_inf:
            scale, tracker = f32(scale * cfg['backoffFactor']), 0
        elif tracker + 1 == cfg['growthInterval']:
            grown = f32(scale * cfg['growthFactor'])
            if math.isfinite(grown):
                scale = grown
            tracker = 0
        else:
            tracker += 1
        scales.append(scale)
        trackers.append(tracker)
    return {'scales': scales, 'trackers': trackers, 'stepped': stepped, 'grads': grads}

sig = inspect.signature(GradScaler.__init__).parameters
defaults = {k: sig[k].default for k in ['init_scale', 'growth_factor', 'backoff_factor', 'growth_interval']}
s = GradScaler(enabled=False)
keys_disabled = sorted(s.state_dict().keys())
s._enabled, s._init_scale, s._scale, s._growth_factor, s._backoff_factor = True, 8.0, None, 2.0, 0.5
s._growth_interval, s._init_growth_tracker, s._growth_tracker = 3, 1, None
keys = sorted(s.state_dict().keys())
try:
    s.load_state_dict({})
    empty_refused = False
except RuntimeError:
    empty_refused = True
res = {'defaults': defaults, 'keys': keys, 'keysDisabled': keys_disabled, 'emptyRefused': empty_refused,
       'runs': [drive(r['cfg'], r['kinds'], args['raw']) for r in args['runs']]}
`;

type Kind = 'finite' | 'inf' | 'nan';
interface Config {
  initScale: number;
  growthFactor: number;
  backoffFactor: number;
  growthInterval: number;
}
interface Run {
  scales: number[];
  trackers: number[];
  stepped: boolean[];
  grads: number[][];
}

// Small enough that RAW · scale stays finite up to float32's largest scale.
const RAW = [1e-3, -2.5e-2, 3e-5, 7.25e-3];

/** The gradient a backward of a loss scaled by `scale` leaves: RAW · scale in float32, one value spoilt by `kind`. */
function scaledGrad(scale: number, kind: Kind): Tensor {
  const g = Float32Array.from(RAW, (v) => Math.fround(v) * scale);
  if (kind === 'inf') g[1] = Infinity;
  if (kind === 'nan') g[2] = NaN;
  return fromTypedArray(g, [g.length]);
}

function drive(cfg: Config, kinds: Kind[]): Run {
  const scaler = new GradScaler(cfg);
  let optimizerSteps = 0;
  const optimizer = { step: () => { optimizerSteps++; } };
  const w = fromTypedArray(new Float32Array(RAW.length), [RAW.length]).requiresGrad_(true);
  const run: Run = { scales: [], trackers: [], stepped: [], grads: [] };
  kinds.forEach((kind, i) => {
    tidy(() => {
      w.grad = scaledGrad(scaler.getScale(), kind);
      // Every third step unscales first, as a loop that clips does.
      if (i % 3 === 0) scaler.unscale([w]);
      const stepped = scaler.step(optimizer, [w]);
      run.stepped.push(stepped);
      if (stepped) run.grads.push(Array.from(w.grad.data() as Float32Array));
      scaler.update();
      run.scales.push(scaler.getScale());
      run.trackers.push(scaler.stateDict().growthTracker!);
    });
  });
  w.grad = undefined;
  expect(optimizerSteps).toBe(run.stepped.filter(Boolean).length);
  return run;
}

/** The default scaler over 4,100 steps: two growths at 2,000 good steps, back-offs, NaN and inf. */
function defaultKinds(): Kind[] {
  const bad: Record<number, Kind> = { 5: 'inf', 2100: 'inf', 2101: 'nan', 3000: 'nan', 4050: 'inf' };
  return Array.from({ length: 4100 }, (_, i) => bad[i] ?? 'finite');
}

/** Factors that are not powers of two (float32 rounding of each product) and growth up to float32's limit. */
function roughKinds(): Kind[] {
  return Array.from({ length: 400 }, (_, i) => (i % 97 === 40 ? 'inf' : i % 89 === 30 ? 'nan' : 'finite'));
}

describePytorch('GradScaler against torch.cuda.amp.GradScaler (1.13)', () => {
  const runs: { cfg: Config; kinds: Kind[] }[] = [
    { cfg: { initScale: 2 ** 16, growthFactor: 2, backoffFactor: 0.5, growthInterval: 2000 }, kinds: defaultKinds() },
    { cfg: { initScale: 1000.3, growthFactor: 3.1, backoffFactor: 0.3, growthInterval: 2 }, kinds: roughKinds() },
  ];
  let ref: {
    defaults: Record<string, number>; keys: string[]; keysDisabled: string[]; emptyRefused: boolean; runs: Run[];
  };

  beforeAll(() => {
    ref = runPytorch(REFERENCE, {}, { raw: RAW, runs }).res as typeof ref;
  });

  it('has the same defaults', () => {
    const s = new GradScaler();
    expect({ init_scale: s.getScale(), growth_factor: s.growthFactor, backoff_factor: s.backoffFactor, growth_interval: s.growthInterval }).toEqual(ref.defaults);
  });

  it('saves the same state entries ({} when disabled) and refuses an empty state', () => {
    const camel = (k: string) => k.replace(/^_/, '').replace(/_(\w)/g, (_m, c: string) => c.toUpperCase());
    expect(Object.keys(new GradScaler().stateDict()).sort()).toEqual(ref.keys.map(camel).sort());
    expect(Object.keys(new GradScaler({ enabled: false }).stateDict())).toEqual(ref.keysDisabled);
    expect(ref.emptyRefused).toBe(true);
    expect(() => new GradScaler().loadStateDict({})).toThrow(/GradScaler state/);
  });

  it.each([0, 1])('takes the same steps with the same scales and gradients (run %i)', (r) => {
    const ours = drive(runs[r].cfg, runs[r].kinds);
    const theirs = ref.runs[r];
    expect(ours.stepped).toEqual(theirs.stepped);
    expect(ours.scales).toEqual(theirs.scales);
    expect(ours.trackers).toEqual(theirs.trackers);
    expect(ours.grads).toEqual(theirs.grads);
    // The sequences exercise what they are meant to: growth, back-off, and (run 1) the float32 ceiling.
    const grew = theirs.scales.some((s, i) => i > 0 && s > theirs.scales[i - 1]);
    const backedOff = theirs.scales.some((s, i) => i > 0 && s < theirs.scales[i - 1]);
    expect([grew, backedOff]).toEqual([true, true]);
    if (r === 1) expect(Math.max(...theirs.scales) * runs[1].cfg.growthFactor).toBeGreaterThan(3.4028234663852886e38);
  });
});
