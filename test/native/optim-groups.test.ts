/**
 * Parameter groups with their own lr under a schedule: setting the optimizer's lr scales every
 * group as PyTorch's LambdaLR scales each group's initial lr. Over a base lr of 0 a group's own
 * lr has no ratio to keep, and was silently replaced by the base lr at the first schedule step:
 * refused where it is given.
 */
import { AdamW, SGD, ones } from '../../src';
import { errorOf } from '../helpers/error-of';
import { describeWithTorch, runTorch } from '../helpers/torch-ref';

describeWithTorch('group learning rates under a schedule', () => {
  it('follow PyTorch LambdaLR (each group scaled from its own lr)', () => {
    const ref = runTorch(`
      a, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
      opt = torch.optim.SGD([{'params': [a]}, {'params': [b], 'lr': 0.5}], lr=0.1)
      sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: [1, 0.5, 0.25][min(step, 2)])
      r = []
      for _ in range(3):
          r.append([g['lr'] for g in opt.param_groups])
          opt.step(); sched.step()
      js['lrs'] = r
    `).js.lrs as number[][];
    const [a, b] = [ones([1]).requiresGrad_(), ones([1]).requiresGrad_()];
    const opt = new SGD([{ params: [a] }, { params: [b], lr: 0.5 }], { lr: 0.1 });
    const ours = [1, 0.5, 0.25].map((f) => {
      opt.lr = 0.1 * f;
      return opt.paramGroups.map((g) => g.lr);
    });
    ours.forEach((lrs, i) => lrs.forEach((lr, j) => expect(lr).toBeCloseTo(ref[i][j], 12)));
    opt.dispose();
  });

  it('a group of its own lr over a base lr of 0 is refused (SGD, AdamW), naming the group', () => {
    const [a, b] = [ones([1]).requiresGrad_(), ones([1]).requiresGrad_()];
    for (const make of [
      () => new SGD([{ params: [a] }, { params: [b], lr: 0.5 }], { lr: 0 }),
      () => new AdamW([{ params: [a] }, { params: [b], lr: 0.5 }], { lr: 0 }),
    ]) {
      const e = errorOf(make);
      expect(e.code).toBe('ERR_INVALID_ARG');
      expect(e.message).toContain('for params[1].lr but received 0.5');
    }
    const zero = new SGD([{ params: [a] }, { params: [b], lr: 0 }], { lr: 0 });
    zero.lr = 0.1;
    expect(zero.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.1]);
    zero.dispose();
  });
});
