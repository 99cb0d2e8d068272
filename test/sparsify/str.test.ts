/**
 * STR against PyTorch autograd in float64: θ = sign(w)·relu(|w| − σ(s)) differentiated by
 * PyTorch, stepped by torch.optim.SGD (momentum, weight decay) on w and s, over three steps with
 * different upstream gradients; then a Trainer run keeps mask = (θ ≠ 0) and θ = 0 outside it.
 * STR with Sign-In: str-signin.test.ts.
 */
import { Str, maskedLayers, noGrad, tidy, type Module, type Tensor } from '../../src';
import { dedent, describePytorch, expectClose, fromPy, randnArray, runPytorch, seeded, toPy, type PyArray } from '../helpers/pytorch';
import { createToyModel } from '../helpers/toy-model';
import { InvariantProbe, fixedSource, toySetup, train } from './helpers';

const LAYERS = ['conv1', 'conv2', 'fc'] as const;

function layer(model: Module, name: string): { weight: Tensor; mask: Tensor } {
  return model.getModule(name) as unknown as { weight: Tensor; mask: Tensor };
}

describePytorch('STR', () => {
  it('three steps match PyTorch autograd + torch.optim.SGD on w and s (float64 reference)', () => {
    const rand = seeded(7);
    const model = createToyModel();
    const inputs: Record<string, PyArray> = {};
    for (const n of LAYERS) {
      inputs[`w_${n}`] = randnArray(layer(model, n).weight.shape, rand, 0.5);
      noGrad(() => tidy(() => { layer(model, n).weight.copy_(fromPy(inputs[`w_${n}`])); }));
    }
    const str = new Str({ sInit: -1.5, momentum: 0.9, weightDecay: 0.05 });
    str.initialize(model);
    const lrs = [0.5, 0.3, 0.2];
    lrs.forEach((lr, r) => {
      for (const n of LAYERS) {
        inputs[`G${r}_${n}`] = randnArray(layer(model, n).weight.shape, rand, 0.3);
        layer(model, n).weight.grad = fromPy(inputs[`G${r}_${n}`]);
      }
      str.step(model, lr);
    });
    const ref = runPytorch(dedent(`
      names, lrs = args['names'], args['lrs']
      for n in names:
          w = inp['w_' + n].clone().requires_grad_(True)
          s = torch.tensor([-1.5], dtype=torch.float64, requires_grad=True)
          opt = torch.optim.SGD([w, s], lr=lrs[0], momentum=0.9, weight_decay=0.05)
          for r, lr in enumerate(lrs):
              for g in opt.param_groups: g['lr'] = lr
              opt.zero_grad()
              theta = torch.sign(w) * torch.relu(torch.abs(w) - torch.sigmoid(s))
              (theta * inp['G%d_%s' % (r, n)]).sum().backward()
              opt.step()
          with torch.no_grad():
              theta = torch.sign(w) * torch.relu(torch.abs(w) - torch.sigmoid(s))
          out['theta_' + n] = theta
          out['mask_' + n] = (theta != 0).double()
          out['thr_' + n] = torch.sigmoid(s)
    `), inputs, { names: LAYERS, lrs });
    const thr = str.thresholds();
    for (const n of LAYERS) {
      expectClose(toPy(layer(model, n).weight), ref.out[`theta_${n}`], 1e-5, 1e-6, `θ of ${n}`);
      expect(Math.abs(thr[n] - ref.out[`thr_${n}`].data[0])).toBeLessThan(1e-7);
      const ours = Array.from(toPy(layer(model, n).mask).data);
      const theirs = Array.from(ref.out[`mask_${n}`].data);
      // Entries within float32 rounding of the threshold may fall either way; there are none here.
      expect(ours).toEqual(theirs);
    }
    // The thresholds moved and pruned something (otherwise the comparison would be weak).
    expect(Math.abs(thr.conv2 - 1 / (1 + Math.exp(1.5)))).toBeGreaterThan(1e-2);
    expect(Array.from(ref.out.mask_conv2.data).some((v) => v === 0)).toBe(true);
    str.dispose();
  });
});

describe('STR in the Trainer', () => {
  it('keeps mask = (θ ≠ 0) after every step, and weight decay raises sparsity', async () => {
    const { model, optimizer } = toySetup(false);
    const src = fixedSource(4);
    const str = new Str({ sInit: -4, momentum: 0.9, weightDecay: 0.5 });
    const probe = new InvariantProbe(optimizer);
    const bad: number[] = [];
    await train(model, optimizer, src, 3, [str, probe, {
      name: 'mask-is-support',
      onStepEnd(ctx) {
        for (const [, l] of maskedLayers(ctx.model)) bad.push(tidy(() => l.weight.ne(0).ne(l.mask.ne(0)).sum().item()));
      },
    }]);
    // STR's regrown entries start at sign(w)(|w| − σ(s)), not 0: only the off-mask checks apply.
    expect(probe.failures.filter((f) => !/Grown/.test(f))).toEqual([]);
    expect(bad.every((v) => v === 0)).toBe(true);
    expect(bad.length).toBe(12 * 3);
    const kept = maskedLayers(model).reduce((a, [, l]) => a + l.density() * l.weight.numel, 0);
    const total = maskedLayers(model).reduce((a, [, l]) => a + l.weight.numel, 0);
    expect(kept / total).toBeLessThan(0.99);
    str.dispose(); optimizer.dispose(); src.dispose();
  });
});
