/**
 * What a researcher's own script does with nn/ where it used to go wrong quietly, against
 * PyTorch (the Debian python's torch 1.13, same libtorch): BatchNorm refuses batch statistics of
 * one value per channel (running_var turned NaN), Module.to keeps frozen parameters frozen and
 * refuses an integer dtype before moving anything and tells what still holds a replaced tensor why it
 * is gone, and Module's entry points name bad arguments.
 */
import {
  BatchNorm1d, BatchNorm2d, F, Linear, SGD, Sequential, ToolkitError, ones, tidy, zeros,
} from '../../src';
import { errorOf } from '../helpers/error-of';
import { describeWithTorch, runTorch } from '../helpers/torch-ref';

/** For each case [layer dims, input shape, training]: whether PyTorch's BatchNorm forward raised. */
function torchRefuses(cases: [number, number[], boolean][]): boolean[] {
  return runTorch(`
    r = []
    for dims, shape, training in ${JSON.stringify(cases).replace(/true/g, 'True').replace(/false/g, 'False')}:
        bn = (nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d)(shape[1]).train(training)
        try:
            bn(torch.ones(shape))
            r.append(False)
        except ValueError:
            r.append(True)
    js['refused'] = r
  `).js.refused as boolean[];
}

describeWithTorch('BatchNorm batch statistics', () => {
  const cases: [number, number[], boolean][] = [
    [2, [1, 2, 1, 1], true], [2, [1, 2, 2, 1], true], [2, [2, 2, 1, 1], true], [2, [0, 2, 3, 3], true], [2, [1, 2, 1, 1], false],
    [1, [1, 3], true], [1, [2, 3], true], [1, [1, 3, 1], true], [1, [1, 3, 2], true], [1, [1, 3], false],
  ];

  it('refuse one value per channel in training exactly where PyTorch does, leaving the layer as it was', () => {
    const expected = torchRefuses(cases);
    expect(expected).toContain(true);
    const ours = cases.map(([dims, shape, training]) => {
      const bn = (dims === 1 ? new BatchNorm1d(shape[1]) : new BatchNorm2d(shape[1])).train(training);
      try {
        tidy(() => bn.forward(ones(shape)));
        return false;
      } catch (e) {
        expect((e as ToolkitError).code).toBe('ERR_INVALID_ARG');
        expect((e as Error).message).toMatch(/more than 1 value per channel .* for input/);
        expect(bn.runningVar!.toArray().every(Number.isFinite)).toBe(true);
        expect(bn.numBatchesTracked!.item()).toBe(0);
        return true;
      } finally {
        bn.dispose();
      }
    });
    expect(ours).toEqual(expected);
  });

  it('F.batchNorm in training refuses the same; in eval mode it uses the running statistics', () => {
    const rm = zeros([2]);
    const rv = ones([2]);
    expect(errorOf(() => F.batchNorm(ones([1, 2]), rm, rv, undefined, undefined, { training: true })).code).toBe('ERR_INVALID_ARG');
    expect(rv.toArray()).toEqual([1, 1]);
    expect(tidy(() => F.batchNorm(ones([1, 2]), rm, rv).toArray())).toEqual(
      runTorch("out['y'] = F.batch_norm(torch.ones(1, 2), torch.zeros(2), torch.ones(2))").out.y.toArray(),
    );
  });
});

describeWithTorch('Module.to', () => {
  it('keeps requiresGrad as PyTorch does (a frozen layer stays frozen)', () => {
    const ref = runTorch(`
      m = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 2))
      m[0].weight.requires_grad_(False)
      m.double()
      js['rg'] = [p.requires_grad for p in m.parameters()]
    `).js.rg;
    const m = new Sequential(new Linear(3, 2), new Linear(2, 2));
    (m.at(0) as Linear).weight.requiresGrad_(false);
    m.to('float64');
    expect(m.parameters().map((p) => p.requiresGrad)).toEqual(ref);
    m.dispose();
  });

  it('refuses an integer dtype, as PyTorch, before any tensor moves', () => {
    const ref = runTorch(`
      try:
          nn.Linear(2, 2).to(torch.int64)
          js['refused'] = False
      except TypeError:
          js['refused'] = True
    `).js.refused;
    expect(ref).toBe(true);
    const m = new Sequential(new Linear(2, 2), new Linear(2, 2));
    const e = errorOf(() => m.to('int64'));
    expect(e.code).toBe('ERR_INVALID_ARG');
    expect(e.message).toContain('for target');
    expect(m.parameters().map((p) => p.dtype)).toEqual(['float32', 'float32', 'float32', 'float32']);
    expect(errorOf(() => m.to('gpu')).code).toBe('ERR_INVALID_ARG');
    m.dispose();
  });

  it('replaces the tensors, and what still holds an old one (an optimizer made before) is told that to() replaced it', () => {
    const m = new Linear(3, 2);
    const old = m.weight;
    const opt = new SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
    m.to('float64');
    expect(m.weight).not.toBe(old);
    const e = errorOf(() => old.sum());
    expect(e.code).toBe('ERR_TENSOR_DISPOSED');
    expect(e.message).toMatch(/^Tensor is disposed: it was replaced by Module\.to\(\).*make optimizers .* after moving the model$/);
    const step = errorOf(() => opt.step());
    expect(step.code).toBe('ERR_TENSOR_DISPOSED');
    expect(step.message).toMatch(/^Expected a live Tensor for parameter group0\.param0 but received a disposed one \(replaced by Module\.to\(\)/);
    const plain = zeros([1]);
    plain.dispose();
    expect(errorOf(() => plain.sum()).message).toBe('Tensor is disposed: it was released by dispose() or by the tidy() scope that created it');
    m.dispose();
  });
});

describe('Module entry points name their arguments', () => {
  it('loadStateDict, getModule and train refuse what is not a state dict, a path or a boolean', () => {
    const m = new Sequential(new Linear(2, 2));
    for (const [fn, name] of [
      [() => m.loadStateDict(null as never), 'state'],
      [() => m.loadStateDict(5 as never), 'state'],
      [() => m.loadStateDict(m.stateDict(), { strict: 'yes' as never }), 'strict'],
      [() => m.loadStateDict(m.stateDict(), null as never), 'options'],
      [() => m.getModule(5 as never), 'path'],
      [() => m.train('no' as never), 'mode'],
    ] as [() => unknown, string][]) {
      const e = errorOf(fn);
      expect(e.code).toBe('ERR_INVALID_ARG');
      expect(e.message).toContain(`for ${name}`);
    }
    expect(m.training).toBe(true);
    m.dispose();
  });
});
