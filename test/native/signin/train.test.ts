/**
 * A short training of the masked toy net with Sign-In through the fused SGD and the reset
 * schedule, against an independent PyTorch reference (torch 1.13 on the same libtorch): there m
 * and w are nn.Parameters, θ = mask·m·w is computed with ordinary ops in forward (autograd gives
 * ∂L/∂m and ∂L/∂w), torch.optim.SGD updates every parameter and the reset is the closed form.
 * float64 on both sides, so they agree to rounding. Also: θ and w stay exactly 0 outside the mask
 * after every step.
 */
import { SGD } from '../../../src/optim/sgd';
import {
  F, SignInResetSchedule, applySignIn, keep, manualSeed, maskedLayers, signinParameters, tidy, type Tensor,
} from '../../../src';
import { describeWithTorch, expectClose, runTorch } from '../../helpers/torch-ref';
import { toyBatch } from '../../helpers/toy-model';
import { maskedToy, outsideMask } from './helpers';
import { signinFactors } from '../../../src/signin/parametrization';

const REFERENCE = `
dt = torch.float64
A = json.loads(${'${ARGS}'})
P = {}
for k, t in inp.items():
    if k.startswith('x') or k.startswith('y') or k.endswith('_mask') or 'running' in k or 'num_batches' in k:
        continue
    if k.endswith('.weight') and (k + '_m') in inp:
        continue  # θ: computed from m and w
    P[k] = t.clone().to(dt).requires_grad_()
params = list(P.values())
opt = torch.optim.SGD(params, lr=A['lr'], momentum=A['momentum'], weight_decay=A['wd'])
bn = {}
for name in ['bn1', 'bn2']:
    bn[name] = {'rm': inp[name + '.running_mean'].clone(), 'rv': inp[name + '.running_var'].clone()}

def theta(name):
    return P[name + '.weight_m'] * P[name + '.weight_w'] * inp[name + '.weight_mask']

def bnorm(x, name):
    return F.batch_norm(x, bn[name]['rm'], bn[name]['rv'], P[name + '.weight'], P[name + '.bias'], True, 0.1, 1e-5)

def forward(x):
    y = F.max_pool2d(F.relu(bnorm(F.conv2d(x, theta('conv1'), None, padding=1), 'bn1')), 2)
    y = F.relu(bnorm(F.conv2d(y, theta('conv2'), None, padding=1), 'bn2'))
    y = F.adaptive_avg_pool2d(y, 1).flatten(1)
    return F.linear(y, theta('fc'), P['fc.bias'])

losses = []
for s in range(A['steps']):
    b = s % A['batches']
    opt.zero_grad()
    loss = F.cross_entropy(forward(inp['x%d' % b]), inp['y%d' % b])
    loss.backward()
    opt.step()
    losses.append(loss.item())
    if (s + 1) % A['period'] == 0:
        with torch.no_grad():
            for name in ['conv1', 'conv2', 'fc']:
                m, w, mask = P[name + '.weight_m'], P[name + '.weight_w'], inp[name + '.weight_mask']
                t = m * w * mask
                beta = A['beta']
                mn = torch.sqrt((beta + torch.sqrt(beta * beta + 4 * t * t)) / 2)
                m.copy_(mn)
                w.copy_(t / mn)
                if A['zero']:
                    opt.state[m]['momentum_buffer'].zero_()
                    opt.state[w]['momentum_buffer'].zero_()
for name in ['conv1', 'conv2', 'fc']:
    out[name + '.theta'] = theta(name)
    out[name + '.m'] = P[name + '.weight_m'] * inp[name + '.weight_mask']
    out[name + '.w'] = P[name + '.weight_w']
for name in ['bn1', 'bn2']:
    out[name + '.weight'] = P[name + '.weight']
    out[name + '.bias'] = P[name + '.bias']
    out[name + '.running_mean'] = bn[name]['rm']
    out[name + '.running_var'] = bn[name]['rv']
out['fc.bias'] = P['fc.bias']
js['losses'] = losses
`;

interface RunOptions {
  steps: number;
  period: number;
  beta: number;
  momentum: 'keep' | 'zero';
}

function train(seed: number, o: RunOptions) {
  manualSeed(seed);
  const model = maskedToy(seed, 0.4, { width: 4 });
  model.to('float64');
  applySignIn(model, { beta: o.beta });
  const batches = [0, 1].map(() => {
    const b = toyBatch(8, { inChannels: 1, imageSize: 8 });
    const x = keep(tidy(() => b.x.to('float64')));
    b.x.dispose();
    return { x, y: b.y };
  });
  // The initial state for the reference (copies).
  const init: Record<string, Tensor> = {};
  for (const [k, t] of model.stateDict()) init[k] = keep(tidy(() => t.clone()));
  batches.forEach((b, i) => { init[`x${i}`] = b.x; init[`y${i}`] = b.y; });

  const opt = SGD.forModel(model, { lr: 0.05, momentum: 0.9, weightDecay: 1e-3 });
  const schedule = new SignInResetSchedule(model, { period: o.period, unit: 'steps', momentum: o.momentum, beta: o.beta, optimizer: opt });
  const losses: number[] = [];
  let maskViolations = 0;
  for (let s = 0; s < o.steps; s++) {
    const b = batches[s % batches.length];
    losses.push(tidy(() => {
      const loss = F.crossEntropy(model.forward(b.x), b.y);
      loss.backward();
      return loss.item();
    }));
    opt.step();
    opt.zeroGrad();
    schedule.onStepEnd(s + 1, 0);
    for (const [, l] of maskedLayers(model)) {
      maskViolations += outsideMask(l.weight, l.mask).filter((v) => !Object.is(v, 0)).length;
      maskViolations += outsideMask(signinFactors(l)!.w, l.mask).filter((v) => !Object.is(v, 0)).length;
    }
  }
  return { model, opt, schedule, init, losses, maskViolations, batches };
}

describe('Sign-In training keeps θ exactly zero outside the mask', () => {
  it('after every step and reset (fused SGD, momentum, weight decay, float32)', () => {
    manualSeed(3);
    const model = maskedToy(3, 0.2);
    applySignIn(model);
    const opt = SGD.forModel(model, { lr: 0.1, momentum: 0.9, weightDecay: 5e-4, nesterov: true });
    const schedule = new SignInResetSchedule(model, { period: 3, unit: 'steps', optimizer: opt });
    const { x, y } = toyBatch(8);
    const changed: boolean[] = [];
    const theta0 = maskedLayers(model).map(([, l]) => l.weight.toArray());
    for (let s = 1; s <= 10; s++) {
      tidy(() => F.crossEntropy(model.forward(x), y).backward());
      opt.step();
      opt.zeroGrad();
      schedule.onStepEnd(s, 0);
      for (const [, l] of maskedLayers(model)) {
        expect(outsideMask(l.weight, l.mask).every((v) => Object.is(v, 0))).toBe(true);
        expect(outsideMask(signinFactors(l)!.w, l.mask).every((v) => Object.is(v, 0))).toBe(true);
        const bufs = opt.entryBuffers(l.weight)!;
        expect(outsideMask(bufs.m, l.mask).every((v) => v === 0)).toBe(true);
        expect(outsideMask(bufs.w, l.mask).every((v) => v === 0)).toBe(true);
      }
    }
    maskedLayers(model).forEach(([, l], i) => changed.push(l.weight.toArray().some((v, j) => v !== theta0[i][j])));
    expect(changed).toEqual([true, true, true]);
    expect(schedule.history.map((e) => e.step)).toEqual([3, 6, 9]);
    expect(signinParameters(model)).toHaveLength(3);
    opt.dispose();
    model.dispose();
    x.dispose();
    y.dispose();
  });
});

describeWithTorch('Sign-In training equals the PyTorch reference (θ = mask·m·w by autograd, torch.optim.SGD)', () => {
  for (const momentum of ['keep', 'zero'] as const) {
    it(`8 steps, reset every 3 steps, β = 1.5, momentum '${momentum}' at resets`, () => {
      const o: RunOptions = { steps: 8, period: 3, beta: 1.5, momentum };
      const run = train(11, o);
      expect(run.maskViolations).toBe(0);
      const code = REFERENCE.replace('${ARGS}', JSON.stringify(JSON.stringify({
        lr: 0.05, momentum: 0.9, wd: 1e-3, steps: o.steps, batches: run.batches.length, period: o.period, beta: o.beta, zero: momentum === 'zero',
      })));
      const ref = runTorch(code, run.init);
      const losses = ref.js.losses as number[];
      run.losses.forEach((l, i) => expect(Math.abs(l - losses[i])).toBeLessThan(1e-10 * Math.max(1, Math.abs(l))));
      tidy(() => {
        for (const name of ['conv1', 'conv2', 'fc'] as const) {
          const l = run.model[name];
          expectClose(l.weight, ref.out[`${name}.theta`], 1e-9, 1e-12);
          expectClose(signinFactors(l)!.m.mul(l.mask), ref.out[`${name}.m`], 1e-9, 1e-12);
          expectClose(signinFactors(l)!.w, ref.out[`${name}.w`], 1e-9, 1e-12);
        }
        for (const name of ['bn1', 'bn2'] as const) {
          const bn = run.model[name];
          expectClose(bn.weight!, ref.out[`${name}.weight`], 1e-9, 1e-12);
          expectClose(bn.bias!, ref.out[`${name}.bias`], 1e-9, 1e-12);
          expectClose(bn.runningMean!, ref.out[`${name}.running_mean`], 1e-9, 1e-12);
          expectClose(bn.runningVar!, ref.out[`${name}.running_var`], 1e-9, 1e-12);
        }
        expectClose(run.model.fc.bias!, ref.out['fc.bias'], 1e-9, 1e-12);
      });
      // It really trained: θ moved well beyond rounding.
      for (const name of ['conv1', 'conv2', 'fc']) {
        expect(tidy(() => run.model[name as 'fc'].weight.sub(run.init[`${name}.weight`]).abs().max().item())).toBeGreaterThan(1e-3);
      }
      for (const t of Object.values(ref.out)) t.dispose();
      for (const t of Object.values(run.init)) t.dispose();
      run.opt.dispose();
      run.model.dispose();
    });
  }
});
