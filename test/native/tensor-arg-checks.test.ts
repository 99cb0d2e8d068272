/**
 * Every Tensor method and function that takes a dim, dims, an index tensor, a k, a start or a
 * tolerance checks it in one place (src/tensor/dim-args.ts): a value PyTorch 1.13 refuses is
 * ERR_INVALID_ARG naming the argument (libtorch's ERR_TORCH_INDEX / ERR_TORCH named none), and
 * the edge values PyTorch accepts (negative dims, dim = ndim for unsqueeze and stack, 0-d
 * tensors, k = 0, an empty narrow) give PyTorch's results. Both sides run in one Python process.
 */
import { allclose, cat, stack, tensor, tidy, type Tensor } from '../../src';
import { errorOf } from '../helpers/error-of';
import { describePytorch, runPythonJson } from '../helpers/pytorch';

// Fixed values, the same on both sides: x is 2×3, y is 2×3×4, s is 0-d.
const X = [[0.5, -1.25, 2], [3.5, 0.25, -0.75]];
const Y = Array.from({ length: 2 }, (_, i) => Array.from({ length: 3 }, (_, j) => Array.from({ length: 4 }, (_, k) => ((i * 12 + j * 4 + k) * 7) % 11 - 5)));
const S = 3.25;
const PY_INPUTS = `x = torch.tensor(${JSON.stringify(X)}, dtype=torch.float64)
y = torch.tensor(${JSON.stringify(Y)}, dtype=torch.float64)
s = torch.tensor(${S}, dtype=torch.float64)
li = torch.tensor([[0, 2, 1], [1, 0, 0]])`;

interface Inputs { x: Tensor; y: Tensor; s: Tensor; li: Tensor }
const inputs = (): Inputs => ({
  x: tensor(X, { dtype: 'float64' }), y: tensor(Y, { dtype: 'float64' }), s: tensor(S, { dtype: 'float64' }), li: tensor([[0, 2, 1], [1, 0, 0]], { dtype: 'int64' }),
});

// [what, ours, PyTorch's expression, the argument named, what it expects]
const REFUSED: [string, (t: Inputs) => unknown, string, string, string][] = [
  ['sum dim 2', ({ x }) => x.sum(2), 'x.sum(2)', 'dim', 'integer in [-2, 1]'],
  ['sum a repeated dim', ({ x }) => x.sum([0, -2]), 'x.sum([0, -2])', 'dim', 'distinct dims in [-2, 1] (dim 0 is given twice)'],
  ['mean dim -3', ({ x }) => x.mean(-3), 'x.mean(-3)', 'dim', 'integer in [-2, 1]'],
  ['var dim 2', ({ x }) => x.var(2), 'x.var(2)', 'dim', 'integer in [-2, 1]'],
  ['std dims [1, 1]', ({ x }) => x.std([1, 1]), 'x.std([1, 1])', 'dim', 'distinct dims in [-2, 1] (dim 1 is given twice)'],
  ['norm dim 2', ({ x }) => x.norm(2, 2), 'x.norm(2, 2)', 'dim', 'integer in [-2, 1]'],
  ['prod dim 2', ({ x }) => x.prod(2), 'x.prod(2)', 'dim', 'integer in [-2, 1]'],
  ['all dim -3', ({ x }) => x.all(-3), 'x.all(-3)', 'dim', 'integer in [-2, 1]'],
  ['any dim 2', ({ x }) => x.any(2), 'x.any(2)', 'dim', 'integer in [-2, 1]'],
  ['maxDim dim 2', ({ x }) => x.maxDim(2), 'x.max(2)', 'dim', 'integer in [-2, 1]'],
  ['minDim dim -3', ({ x }) => x.minDim(-3), 'x.min(-3)', 'dim', 'integer in [-2, 1]'],
  ['argmax dim 2', ({ x }) => x.argmax(2), 'x.argmax(2)', 'dim', 'integer in [-2, 1]'],
  ['argmin dim 1.5', ({ x }) => x.argmin(1.5), 'x.argmin(1.5)', 'dim', 'integer in [-2, 1]'],
  ['topk dim 2', ({ x }) => x.topk(1, 2), 'x.topk(1, 2)', 'dim', 'integer in [-2, 1]'],
  ['topk k larger than the dim', ({ x }) => x.topk(4, 1), 'x.topk(4, 1)', 'k', 'integer in [0, 3]'],
  ['kthvalue k 0', ({ x }) => x.kthvalue(0, 1), 'x.kthvalue(0, 1)', 'k', 'integer in [1, 3]'],
  ['kthvalue dim -3', ({ x }) => x.kthvalue(1, -3), 'x.kthvalue(1, -3)', 'dim', 'integer in [-2, 1]'],
  ['sort dim 2', ({ x }) => x.sort(2), 'x.sort(2)', 'dim', 'integer in [-2, 1]'],
  ['cumsum dim 2', ({ x }) => x.cumsum(2), 'x.cumsum(2)', 'dim', 'integer in [-2, 1]'],
  ['countNonzero dim 2', ({ x }) => x.countNonzero(2), 'x.count_nonzero(2)', 'dim', 'integer in [-2, 1]'],
  ['flatten startDim 3', ({ y }) => y.flatten(3), 'y.flatten(3)', 'startDim', 'integer in [-3, 2]'],
  ['flatten endDim before startDim', ({ y }) => y.flatten(2, 1), 'y.flatten(2, 1)', 'endDim', 'a dim at or after startDim (2)'],
  ['permute a repeated dim', ({ y }) => y.permute([0, 1, -3]), 'y.permute([0, 1, -3])', 'dims', 'distinct dims in [-3, 2] (dim 0 is given twice)'],
  ['permute too few dims', ({ y }) => y.permute([1, 0]), 'y.permute([1, 0])', 'dims', "a permutation of the tensor's 3 dims"],
  ['transpose dim1 2', ({ x }) => x.transpose(0, 2), 'x.transpose(0, 2)', 'dim1', 'integer in [-2, 1]'],
  ['squeeze dim -3', ({ x }) => x.squeeze(-3), 'x.squeeze(-3)', 'dim', 'integer in [-2, 1]'],
  ['unsqueeze dim 3', ({ x }) => x.unsqueeze(3), 'x.unsqueeze(3)', 'dim', 'integer in [-3, 2]'],
  ['flip a repeated dim', ({ x }) => x.flip([1, -1]), 'x.flip([1, -1])', 'dims', 'distinct dims in [-2, 1] (dim 1 is given twice)'],
  ['flip dim 2', ({ x }) => x.flip([2]), 'x.flip([2])', 'dims', 'integer in [-2, 1]'],
  ['slice dim 2', ({ x }) => x.slice(2, 0, 1), 'x[:, :, 0:1]', 'dim', 'integer in [-2, 1]'],
  ['narrow past the end', ({ x }) => x.narrow(1, 1, 3), 'x.narrow(1, 1, 3)', 'length', 'integer in [0, 2]'],
  ['narrow start -4', ({ x }) => x.narrow(1, -4, 1), 'x.narrow(1, -4, 1)', 'start', 'integer in [-3, 3]'],
  ['narrow a 0-d tensor', ({ s }) => s.narrow(0, 0, 1), 's.narrow(0, 0, 1)', 'self', 'a Tensor of at least 1 dim (narrow() cannot be applied to a 0-d tensor)'],
  ['select index 2 of 2', ({ x }) => x.select(0, 2), 'x.select(0, 2)', 'index', 'integer in [-2, 1]'],
  ['select a 0-d tensor', ({ s }) => s.select(0, 0), 's.select(0, 0)', 'self', 'a Tensor of at least 1 dim (select() cannot be applied to a 0-d tensor)'],
  ['indexSelect a float index', ({ x }) => x.indexSelect(1, tensor([0, 1])), 'x.index_select(1, torch.tensor([0., 1.]))', 'index', 'a 0-d or 1-D int64 or int32 Tensor'],
  ['indexSelect a 2-D index', ({ x, li }) => x.indexSelect(1, li), 'x.index_select(1, li)', 'index', 'a 0-d or 1-D int64 or int32 Tensor'],
  ['indexSelect dim 2', ({ x }) => x.indexSelect(2, tensor([0], { dtype: 'int64' })), 'x.index_select(2, torch.tensor([0]))', 'dim', 'integer in [-2, 1]'],
  ['gather a float index', ({ x, li }) => x.gather(1, li.double()), 'x.gather(1, li.double())', 'index', 'an int64 Tensor'],
  ['gather dim -3', ({ x, li }) => x.gather(-3, li), 'x.gather(-3, li)', 'dim', 'integer in [-2, 1]'],
  ['chunk 0 chunks', ({ x }) => x.chunk(0, 0), 'x.chunk(0, 0)', 'chunks', 'positive integer'],
  ['chunk dim 2', ({ x }) => x.chunk(2, 2), 'x.chunk(2, 2)', 'dim', 'integer in [-2, 1]'],
  ['split size 0', ({ x }) => x.split(0, 1), 'x.split(0, 1)', 'size', 'positive integer'],
  ['split dim -3', ({ x }) => x.split(1, -3), 'x.split(1, -3)', 'dim', 'integer in [-2, 1]'],
  ['cat dim 2', ({ x }) => cat([x, x], 2), 'torch.cat([x, x], 2)', 'dim', 'integer in [-2, 1]'],
  ['stack dim 3', ({ x }) => stack([x, x], 3), 'torch.stack([x, x], 3)', 'dim', 'integer in [-3, 2]'],
  ['allclose rtol -1', ({ x }) => allclose(x, x, -1), 'torch.allclose(x, x, -1.0)', 'rtol', 'a number >= 0'],
  ['allclose atol NaN', ({ x }) => allclose(x, x, 1e-5, NaN), "torch.allclose(x, x, 1e-5, float('nan'))", 'atol', 'a number >= 0'],
];

// Called as in PyTorch (x.max(1)), the all-elements reductions reduced everything and ignored the dim.
const NO_DIM: [string, (t: Inputs) => unknown, string][] = [
  ['max(1)', ({ x }) => (x.max as (d: number) => Tensor)(1), 'Expected no dim (max() reduces over all elements; maxDim(dim, keepdim)'],
  ['min(0)', ({ x }) => (x.min as (d: number) => Tensor)(0), 'Expected no dim (min() reduces over all elements; minDim(dim, keepdim)'],
];

// [what, ours (a tensor, a list of them, or a boolean), PyTorch's expression]
const ACCEPTED: [string, (t: Inputs) => Tensor | Tensor[] | boolean, string][] = [
  ['sum over dims [0, -1]', ({ y }) => y.sum([0, -1]), 'y.sum([0, -1])'],
  ['sum over no dims (all of them, as 1.13)', ({ x }) => x.sum([]), 'x.sum([])'],
  ['sum dim 0 of a 0-d tensor', ({ s }) => s.sum(0), 's.sum(0)'],
  ['mean dim -3', ({ y }) => y.mean(-3), 'y.mean(-3)'],
  ['var dims [-1, 0]', ({ y }) => y.var([-1, 0]), 'y.var([-1, 0])'],
  ['norm over dim -1', ({ y }) => y.norm(2, -1), 'y.norm(2, -1)'],
  ['prod dim 1', ({ x }) => x.prod(1), 'x.prod(1)'],
  ['prod dim -1 keepdim', ({ y }) => y.prod(-1, true), 'y.prod(-1, True)'],
  ['prod of all', ({ x }) => x.prod(), 'x.prod()'],
  ['all dim -1', ({ y }) => y.all(-1), 'y.all(-1)'],
  ['any dim 0 keepdim', ({ y }) => y.gt(3).any(0, true), 'y.gt(3).any(0, True)'],
  ['maxDim -1', ({ y }) => { const r = y.maxDim(-1); return [r.values, r.indices]; }, 'tuple(y.max(-1))'],
  ['max of all', ({ x }) => x.max(), 'x.max()'],
  ['argmax -2', ({ y }) => y.argmax(-2), 'y.argmax(-2)'],
  ['topk k 0', ({ x }) => { const r = x.topk(0, 1); return [r.values, r.indices]; }, 'tuple(x.topk(0, 1))'],
  ['topk k = the dim size', ({ x }) => x.topk(3, 1).values, 'x.topk(3, 1).values'],
  ['topk of a 0-d tensor', ({ s }) => s.topk(1, 0).values, 's.topk(1, 0).values'],
  ['kthvalue k = the dim size, dim -1', ({ x }) => { const r = x.kthvalue(3, -1); return [r.values, r.indices]; }, 'tuple(x.kthvalue(3, -1))'],
  ['sort dim -2', ({ x }) => x.sort(-2).values, 'x.sort(-2).values'],
  ['cumsum dim -2', ({ y }) => y.cumsum(-2), 'y.cumsum(-2)'],
  ['countNonzero dim -1', ({ y }) => y.countNonzero(-1), 'y.count_nonzero(-1)'],
  ['flatten(1, -1)', ({ y }) => y.flatten(1, -1), 'y.flatten(1, -1)'],
  ['flatten(-2, -2)', ({ y }) => y.flatten(-2, -2), 'y.flatten(-2, -2)'],
  ['flatten of a 0-d tensor', ({ s }) => s.flatten(), 's.flatten()'],
  ['permute with negative dims', ({ y }) => y.permute([2, -3, 1]), 'y.permute([2, -3, 1])'],
  ['transpose(-1, 0)', ({ y }) => y.transpose(-1, 0), 'y.transpose(-1, 0)'],
  ['squeeze dim -1 of size 1', ({ x }) => x.unsqueeze(2).squeeze(-1), 'x.unsqueeze(2).squeeze(-1)'],
  ['unsqueeze dim ndim', ({ y }) => y.unsqueeze(3), 'y.unsqueeze(3)'],
  ['unsqueeze dim -(ndim + 1)', ({ y }) => y.unsqueeze(-4), 'y.unsqueeze(-4)'],
  ['unsqueeze a 0-d tensor', ({ s }) => s.unsqueeze(-1), 's.unsqueeze(-1)'],
  ['flip([-1, 0])', ({ y }) => y.flip([-1, 0]), 'y.flip([-1, 0])'],
  ['slice dim -1', ({ y }) => y.slice(-1, 1, 3), 'y[..., 1:3]'],
  ['narrow start -1', ({ x }) => x.narrow(0, -1, 1), 'x.narrow(0, -1, 1)'],
  ['narrow an empty piece at the end', ({ x }) => x.narrow(1, 3, 0), 'x.narrow(1, 3, 0)'],
  ['select index -2', ({ y }) => y.select(1, -2), 'y.select(1, -2)'],
  ['indexSelect an int32 index', ({ x }) => x.indexSelect(-1, tensor([2, 0, 2], { dtype: 'int32' })), 'x.index_select(-1, torch.tensor([2, 0, 2], dtype=torch.int32))'],
  ['gather dim -1', ({ x, li }) => x.gather(-1, li), 'x.gather(-1, li)'],
  ['chunk 2 along -1', ({ y }) => y.chunk(2, -1), 'list(y.chunk(2, -1))'],
  ['split 2 along 1', ({ x }) => x.split(2, 1), 'list(x.split(2, 1))'],
  ['cat dim -2', ({ x }) => cat([x, x], -2), 'torch.cat([x, x], -2)'],
  ['stack dim -3', ({ x }) => stack([x, x], -3), 'torch.stack([x, x], -3)'],
  ['stack dim ndim', ({ x }) => stack([x, x], 2), 'torch.stack([x, x], 2)'],
  ['allclose rtol Infinity', ({ x, y }) => allclose(x, y.select(2, 0), Infinity), "torch.allclose(x, y.select(2, 0), float('inf'))"],
];

const PY = String.raw`
import json, sys, torch
${PY_INPUTS}
def flat(o):
    if isinstance(o, bool): return [[1.0 if o else 0.0], []]
    if isinstance(o, (list, tuple)): return [flat(t) for t in o]
    return [o.double().flatten().tolist(), list(o.shape)]
c = json.load(sys.stdin)
refused = []
for e in c['refused']:
    try:
        eval(e)
        refused.append(False)
    except (RuntimeError, IndexError, TypeError, ValueError):
        refused.append(True)
print(json.dumps({'refused': refused, 'accepted': [flat(eval(e)) for e in c['accepted']]}))
`;

type Flat = [number[], number[]] | Flat[];
const flat = (o: Tensor | Tensor[] | boolean): Flat => {
  if (typeof o === 'boolean') return [[o ? 1 : 0], []];
  if (Array.isArray(o)) return o.map(flat) as Flat;
  return [o.double().toArray(), o.shape];
};

describePytorch('dims, indices and tolerances against PyTorch 1.13', () => {
  const reference = runPythonJson<{ refused: boolean[]; accepted: Flat[] }>(PY, { refused: REFUSED.map((r) => r[2]), accepted: ACCEPTED.map((a) => a[2]) });

  it.each(REFUSED.map((r, k) => [r[0], k] as const))('refused as PyTorch refuses it, naming the argument: %s', (_name, k) => {
    const [, fn, py, arg, expected] = REFUSED[k];
    tidy(() => {
      const e = errorOf(() => fn(inputs()));
      expect({ py, refusedByPytorch: reference.refused[k] }).toEqual({ py, refusedByPytorch: true });
      expect([e.code, e.message.slice(0, `Expected ${expected} for ${arg} but received`.length)]).toEqual(['ERR_INVALID_ARG', `Expected ${expected} for ${arg} but received`]);
    });
  });

  it.each(ACCEPTED.map((a, k) => [a[0], k] as const))("accepted as PyTorch accepts it, with PyTorch's result: %s", (_name, k) => {
    tidy(() => expect(flat(ACCEPTED[k][1](inputs()))).toEqual(reference.accepted[k]));
  });
});

it.each(NO_DIM)('%s, as PyTorch writes it, is refused rather than reducing over everything', (_name, fn, message) => {
  tidy(() => {
    const e = errorOf(() => fn(inputs()));
    expect([e.code, e.message.slice(0, message.length)]).toEqual(['ERR_INVALID_ARG', message]);
  });
});
