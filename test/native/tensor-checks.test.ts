/**
 * Tensor calls a PyTorch user writes where libtorch 1.13 misbehaves: masked_fill with a float or
 * int64 mask changed nothing (torch 2 refuses such a mask), aten::index with no index tensor
 * tripped an internal assert, and arange with step 0 was reported as a tensor of Infinity GiB.
 * The results that remain are PyTorch's. And noGrad(async () => ...), which ran the code after
 * its first await with grad recording back on.
 */
import { arange, enableGrad, isGradEnabled, noGrad, ones, tensor, tidy } from '../../src';
import { InvalidArgumentError } from '../../src/errors';
import { errorOf } from '../helpers/error-of';
import { describeWithTorch, runTorch } from '../helpers/torch-ref';

describeWithTorch('maskedFill', () => {
  it('takes a bool mask, with PyTorch\'s result, and refuses a float or int mask naming it', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    const ref = runTorch(`
      m = inp['m'] != 0
      out['y'] = inp['x'].masked_fill(m, -1)
      out['y_'] = inp['x'].clone().masked_fill_(m, 7)
    `, { x, m: tensor([[1, 0, 1], [0, 0, 1]]) }).out;
    const mask = tensor([[true, false, true], [false, false, true]]);
    expect(tidy(() => x.maskedFill(mask, -1).toArray())).toEqual(ref.y.toArray());
    expect(tidy(() => x.clone().maskedFill_(mask, 7).toArray())).toEqual(ref.y_.toArray());
    for (const dtype of ['float32', 'int64', 'uint8'] as const) {
      const m = tensor([[1, 0, 1], [0, 0, 1]], { dtype });
      for (const fn of [() => x.maskedFill(m, -1), () => x.clone().maskedFill_(m, -1)]) {
        const e = errorOf(fn);
        expect(e.code).toBe('ERR_INVALID_ARG');
        expect(e.message).toBe(`Expected a bool Tensor for mask but received a ${dtype} Tensor (a 0/1 mask becomes one with mask.ne(0))`);
      }
    }
    expect(errorOf(() => x.maskedFill([true] as never, 0)).code).toBe('ERR_INVALID_ARG');
  });
});

describeWithTorch('index', () => {
  it('needs one index tensor at least; with one, PyTorch\'s result', () => {
    const x = tensor([[1, 2], [3, 4], [5, 6]]);
    const i = tensor([2, 0], { dtype: 'int64' });
    const ref = runTorch("out['a'] = inp['x'][inp['i'].long()]; out['b'] = inp['x'][:, inp['i'].long()[1:]]", { x, i }).out;
    expect(tidy(() => x.index([i]).toArray())).toEqual(ref.a.toArray());
    expect(tidy(() => x.index([undefined, i.narrow(0, 1, 1)]).toArray())).toEqual(ref.b.toArray());
    for (const bad of [[], [undefined], [undefined, undefined], 5]) {
      const e = errorOf(() => x.index(bad as never));
      expect(e.code).toBe('ERR_INVALID_ARG');
      expect(e.message).toContain("an array with at least one index Tensor (undefined for ':') for indices");
    }
  });
});

describeWithTorch('arange', () => {
  it('refuses step 0 naming it, as PyTorch ("step must be nonzero"); other steps give PyTorch\'s values', () => {
    const ref = runTorch(`
      try:
          torch.arange(0, 1, 0)
          js['refused'] = False
      except RuntimeError:
          js['refused'] = True
      out['a'] = torch.arange(3, -1, -0.5)
    `);
    expect(ref.js.refused).toBe(true);
    const e = errorOf(() => arange(0, 1, 0));
    expect(e.code).toBe('ERR_INVALID_ARG');
    expect(e.message).toBe('Expected a non-zero number for step but received 0 of type number');
    expect(arange(3, -1, -0.5).toArray()).toEqual(ref.out.a.toArray());
  });
});

describe('noGrad and enableGrad', () => {
  it('refuse an async function, whose code after an await would run in the other mode', async () => {
    const w = ones([2]).requiresGrad_();
    let after: boolean | undefined;
    const e = errorOf(() => noGrad(async () => {
      await Promise.resolve();
      after = w.mul(2).requiresGrad;
    }));
    expect(e.code).toBe('ERR_TIDY_ASYNC');
    expect(e.message).toContain('noGrad() cannot hold the grad mode across await');
    expect(isGradEnabled()).toBe(true);
    await new Promise(setImmediate);
    // Past its await the function ran with grad recording on: why it is refused.
    expect(after).toBe(true);
    expect(errorOf(() => noGrad(() => enableGrad(async () => 1))).code).toBe('ERR_TIDY_ASYNC');
    expect(isGradEnabled()).toBe(true);
    expect(noGrad(() => w.mul(2).requiresGrad)).toBe(false);
    w.dispose();
  });
});

describe('a tensor in an error message', () => {
  it('is described by dtype, shape and device (the usual reason it is the wrong argument), or as disposed', () => {
    const x = ones([2, 3], { dtype: 'int64' });
    const received = (v: unknown) => new InvalidArgumentError('target', 'int64 Tensor of shape [2]', v).message.replace(/^.* but received /, '');
    expect(received(x)).toBe('a Tensor of dtype int64 and shape [2, 3] on cpu');
    x.dispose();
    expect(received(x)).toBe('a disposed Tensor');
  });
});

describeWithTorch('libtorch errors thrown as std::runtime_error', () => {
  it('are ERR_TORCH with PyTorch\'s RuntimeError message (they were ERR_NATIVE, the addon-bug code)', () => {
    const ref = runTorch(`
def err(f):
    try:
        f()
    except RuntimeError as e:
        return str(e)
x = torch.ones(2, 3, requires_grad=True)
js['reshape'] = err(lambda: x.reshape(5))
js['view'] = err(lambda: x.view(5))
js['leaf'] = err(lambda: (x * 2).requires_grad_(False))
`).js;
    const x = ones([2, 3]).requiresGrad_(true);
    const got = {
      reshape: errorOf(() => x.reshape([5])),
      view: errorOf(() => x.view([5])),
      leaf: errorOf(() => tidy(() => x.mul(2).requiresGrad_(false))),
    };
    for (const [k, e] of Object.entries(got)) {
      expect([k, e.code, e.message]).toEqual([k, 'ERR_TORCH', ref[k]]);
    }
    x.dispose();
  });
});
