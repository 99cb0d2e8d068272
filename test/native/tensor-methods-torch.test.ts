/**
 * The Tensor methods and functions that mirror torch's softmax, logSoftmax, logsumexp, cumprod,
 * bmm, outer, einsum, scatter, scatterAdd, roll, tril, triu, diag, unique, nonzero, isnan, isinf,
 * nanToNum, half and allclose, against PyTorch 1.13: values, and for the differentiable ones the
 * gradients of sum(out * w) for a fixed weight w. All cases go to one Python process.
 */
import { F, Tensor, allclose, arange, einsum, tensor, tidy, type DType } from '../../src';
import { errorOf } from '../helpers/error-of';
import { describePytorch, runPythonJson } from '../helpers/pytorch';

// JSON carries no NaN or ±Infinity: they cross as strings on both sides.
type Value = number | string;

interface Input {
  shape: number[];
  data: Value[];
  dtype: DType;
  grad?: boolean;
}

interface Case {
  name: string;
  inputs: Record<string, Input>;
  /** A Python expression over the inputs; a tuple for several outputs. */
  py: string;
  js: (t: Record<string, Tensor>) => Tensor | Tensor[] | boolean;
}

interface Result {
  shape: number[];
  dtype: string;
  values: Value[];
}

interface Reference {
  outputs: Result[];
  grads: Record<string, Value[]>;
}

const encode = (v: number): Value => (Number.isFinite(v) ? v : String(v));

// A fixed pseudo-random sequence (an LCG), so that inputs do not depend on a seed of either library.
let state = 12345;
function randoms(n: number, lo = -2, hi = 2): number[] {
  return Array.from({ length: n }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return lo + ((hi - lo) * state) / 2147483648;
  });
}

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const f64 = (shape: number[], grad = true, lo = -2, hi = 2): Input => ({ shape, data: randoms(numel(shape), lo, hi), dtype: 'float64', grad });
const i64 = (shape: number[], data: number[]): Input => ({ shape, data, dtype: 'int64' });
const SPECIAL = [1, NaN, -Infinity, 2.5, Infinity, -0.5, NaN, 0].map(encode);

const cases: Case[] = [];
function add(name: string, inputs: Record<string, Input>, py: string, js: Case['js']): void {
  cases.push({ name, inputs, py, js });
}

for (const dim of [0, 1, -1, -3]) {
  add(`softmax(${dim})`, { x: f64([2, 3, 4]) }, `x.softmax(${dim})`, ({ x }) => x.softmax(dim));
  add(`logSoftmax(${dim})`, { x: f64([2, 3, 4]) }, `x.log_softmax(${dim})`, ({ x }) => x.logSoftmax(dim));
}
add('logsumexp(-1)', { x: f64([3, 4]) }, 'x.logsumexp(-1)', ({ x }) => x.logsumexp(-1));
add('logsumexp([0, -1], true)', { x: f64([2, 3, 4]) }, 'x.logsumexp([0, -1], True)', ({ x }) => x.logsumexp([0, -1], true));
add('logsumexp of large values', { x: { shape: [3], data: [1000, 1001, 999], dtype: 'float64', grad: true } }, 'x.logsumexp(0)', ({ x }) => x.logsumexp(0));
for (const dim of [0, -1]) add(`cumprod(${dim})`, { x: f64([3, 4]) }, `x.cumprod(${dim})`, ({ x }) => x.cumprod(dim));
add('bmm', { a: f64([2, 3, 4]), b: f64([2, 4, 5]) }, 'a.bmm(b)', ({ a, b }) => a.bmm(b));
add('outer', { a: f64([3]), b: f64([4]) }, 'a.outer(b)', ({ a, b }) => a.outer(b));
add("einsum('ij,jk->ik')", { a: f64([2, 3]), b: f64([3, 4]) }, "torch.einsum('ij,jk->ik', a, b)", ({ a, b }) => einsum('ij,jk->ik', a, b));
add("einsum('bij,bkj->bik')", { a: f64([2, 3, 4]), b: f64([2, 5, 4]) }, "torch.einsum('bij,bkj->bik', a, b)", ({ a, b }) => einsum('bij,bkj->bik', a, b));
add("einsum('ii->i') (diagonal)", { a: f64([3, 3]) }, "torch.einsum('ii->i', a)", ({ a }) => einsum('ii->i', a));
add("einsum('i,j', [a, b]) (implicit output, operands in an array)", { a: f64([3]), b: f64([2]) }, "torch.einsum('i,j', [a, b])", ({ a, b }) => einsum('i,j', [a, b]));
add("einsum('...ij->...') (ellipsis, full reduction)", { a: f64([2, 3, 4]) }, "torch.einsum('...ij->...', a)", ({ a }) => einsum('...ij->...', a));
// Distinct indices per column (dim 0) or per row (dim -1): scatter with repeats has no defined winner.
add('scatter(0, ...)', { x: f64([3, 5]), i: i64([2, 5], [0, 1, 2, 0, 1, 2, 0, 1, 1, 2]), s: f64([2, 5]) }, 'x.scatter(0, i, s)', ({ x, i, s }) => x.scatter(0, i, s));
add('scatter(-1, ...)', { x: f64([3, 5]), i: i64([3, 2], [4, 0, 1, 3, 2, 4]), s: f64([3, 2]) }, 'x.scatter(-1, i, s)', ({ x, i, s }) => x.scatter(-1, i, s));
add('scatter(1, index, 2.5)', { x: f64([3, 5]), i: i64([3, 2], [4, 0, 1, 3, 2, 4]) }, 'x.scatter(1, i, 2.5)', ({ x, i }) => x.scatter(1, i, 2.5));
add('scatterAdd(0, ...) with repeated indices', { x: f64([3, 4]), i: i64([3, 4], [0, 0, 2, 1, 0, 1, 2, 1, 0, 0, 0, 1]), s: f64([3, 4]) },
  'x.scatter_add(0, i, s)', ({ x, i, s }) => x.scatterAdd(0, i, s));
add('scatterAdd(-1, ...)', { x: f64([2, 3]), i: i64([2, 4], [0, 2, 2, 0, 1, 1, 1, 0]), s: f64([2, 4]) }, 'x.scatter_add(-1, i, s)', ({ x, i, s }) => x.scatterAdd(-1, i, s));
add('roll(2)', { x: f64([2, 3], false) }, 'x.roll(2)', ({ x }) => x.roll(2));
add('roll([1, -1], [0, -1])', { x: f64([3, 4], false) }, 'x.roll([1, -1], [0, -1])', ({ x }) => x.roll([1, -1], [0, -1]));
add('roll(-1, 1)', { x: f64([2, 3, 2], false) }, 'x.roll(-1, 1)', ({ x }) => x.roll(-1, 1));
for (const d of [0, 1, -1, -5]) {
  add(`tril(${d})`, { x: f64([3, 4], false) }, `x.tril(${d})`, ({ x }) => x.tril(d));
  add(`triu(${d}) batched`, { x: f64([2, 3, 3], false) }, `x.triu(${d})`, ({ x }) => x.triu(d));
}
for (const d of [0, 1, -2]) {
  add(`diag(${d}) of a vector`, { x: f64([3], false) }, `x.diag(${d})`, ({ x }) => x.diag(d));
  add(`diag(${d}) of a matrix`, { x: f64([3, 4], false) }, `x.diag(${d})`, ({ x }) => x.diag(d));
}
add('tril() default', { x: f64([3, 3], false) }, 'x.tril()', ({ x }) => x.tril());
add('diag() default', { x: f64([3, 3], false) }, 'x.diag()', ({ x }) => x.diag());
const repeats = i64([2, 5], [3, 1, 3, -2, 7, 1, 1, -2, 3, 0]);
add('unique()', { x: repeats }, 'torch.unique(x)', ({ x }) => x.unique());
add('unique(true, false, true)', { x: repeats }, 'torch.unique(x, sorted=True, return_counts=True)', ({ x }) => {
  const r = x.unique(true, false, true);
  return [r.values, r.counts!];
});
add('unique(true, true, true)', { x: repeats }, 'torch.unique(x, return_inverse=True, return_counts=True)', ({ x }) => {
  const r = x.unique(true, true, true);
  return [r.values, r.inverse!, r.counts!];
});
add('unique(false, true) of floats', { x: { shape: [6], data: [0.5, -1, 0.5, 2, -1, 0.5], dtype: 'float64' } }, 'torch.unique(x, sorted=False, return_inverse=True)', ({ x }) => {
  const r = x.unique(false, true);
  return [r.values, r.inverse!];
});
add('nonzero of a matrix', { x: { shape: [3, 4], data: [0, 1, 0, 2, 3, 0, 0, 0, 0, 0, -1, 4], dtype: 'float64' } }, 'x.nonzero()', ({ x }) => x.nonzero());
add('nonzero of a vector', { x: { shape: [5], data: [0, 1, 0, 0, 7], dtype: 'int64' } }, 'x.nonzero()', ({ x }) => x.nonzero());
add('isnan', { x: { shape: [2, 4], data: SPECIAL, dtype: 'float64' } }, 'x.isnan()', ({ x }) => x.isnan());
add('isinf', { x: { shape: [2, 4], data: SPECIAL, dtype: 'float64' } }, 'x.isinf()', ({ x }) => x.isinf());
add('isinf of an int tensor', { x: i64([3], [1, 2, 3]) }, 'x.isinf()', ({ x }) => x.isinf());
add('nanToNum() float32', { x: { shape: [8], data: SPECIAL, dtype: 'float32' } }, 'x.nan_to_num()', ({ x }) => x.nanToNum());
add('nanToNum(1.5, 9, -9)', { x: { shape: [8], data: SPECIAL, dtype: 'float64' } }, 'x.nan_to_num(1.5, 9, -9)', ({ x }) => x.nanToNum(1.5, 9, -9));
add('nanToNum(0, 100)', { x: { shape: [8], data: SPECIAL, dtype: 'float64' } }, 'x.nan_to_num(0, 100)', ({ x }) => x.nanToNum(0, 100));
add('half', { x: { shape: [4], data: [0.1, 65504, 70000, -1 / 3], dtype: 'float64' } }, 'x.half()', ({ x }) => x.half());
const near = { a: { shape: [3], data: [1, 2, 3], dtype: 'float64' as DType }, b: { shape: [3], data: [1 + 5e-6, 2, 3 - 2e-5], dtype: 'float64' as DType } };
add('allclose() defaults', near, 'torch.allclose(a, b)', ({ a, b }) => allclose(a, b));
add('allclose(rtol 1e-4)', near, 'torch.allclose(a, b, 1e-4)', ({ a, b }) => allclose(a, b, 1e-4));
add('allclose(rtol 0, atol 3e-5)', near, 'torch.allclose(a, b, 0, 3e-5)', ({ a, b }) => allclose(a, b, 0, 3e-5));
add('allclose broadcasting', { a: f64([2, 3], false), b: f64([3], false) }, 'torch.allclose(a, b)', ({ a, b }) => allclose(a, b));

const PY = String.raw`
import json, math, sys, torch
torch.set_default_dtype(torch.float64)
DT = {'float64': torch.float64, 'float32': torch.float32, 'int64': torch.int64}
enc = lambda v: v if math.isfinite(v) else str(v).replace('inf', 'Infinity').replace('nan', 'NaN')
def result(o):
    if isinstance(o, bool):
        return {'shape': [], 'dtype': 'bool', 'values': [float(o)]}
    return {'shape': list(o.shape), 'dtype': str(o.dtype).replace('torch.', ''), 'values': [enc(v) for v in o.detach().double().flatten().tolist()]}
out = []
for c in json.load(sys.stdin):
    env = {'torch': torch}
    for k, i in c['inputs'].items():
        t = torch.tensor([float(v) for v in i['data']], dtype=torch.float64).to(DT[i['dtype']]).reshape(i['shape'])
        env[k] = t.requires_grad_() if i.get('grad') else t
    o = eval(c['py'], env)
    outs = list(o) if isinstance(o, tuple) else [o]
    grads = {}
    wanted = [k for k, i in c['inputs'].items() if i.get('grad')]
    if wanted:
        y = outs[0]
        w = torch.arange(y.numel(), dtype=y.dtype).reshape(y.shape) * 0.1 + 0.5
        (y * w).sum().backward()
        grads = {k: [enc(v) for v in env[k].grad.flatten().tolist()] for k in wanted}
    out.append({'outputs': [result(x) for x in outs], 'grads': grads})
print(json.dumps(out))
`;

function make(i: Input): Tensor {
  const t = tensor(i.data.map(Number), { dtype: 'float64' }).to(i.dtype).reshape(i.shape);
  return i.grad ? t.requiresGrad_() : t;
}

function expectValues(name: string, actual: Value[], expected: Value[]): void {
  expect([name, actual.length]).toEqual([name, expected.length]);
  actual.forEach((v, k) => {
    if (typeof v === 'string' || typeof expected[k] === 'string') expect([name, k, v]).toEqual([name, k, expected[k]]);
    else if (Math.abs(v - (expected[k] as number)) > 1e-9 * Math.max(1, Math.abs(expected[k] as number))) expect([name, k, v]).toEqual([name, k, expected[k]]);
  });
}

describePytorch('Tensor methods against PyTorch 1.13', () => {
  const reference = runPythonJson<Reference[]>(PY, cases.map(({ name, inputs, py }) => ({ name, inputs, py })));

  it.each(cases.map((c, k) => [c.name, k] as const))('%s', (_name, k) => {
    const c = cases[k];
    const ref = reference[k];
    tidy(() => {
      const inputs = Object.fromEntries(Object.entries(c.inputs).map(([n, i]) => [n, make(i)]));
      const o = c.js(inputs);
      const outs = typeof o === 'boolean' ? [o] : Array.isArray(o) ? o : [o];
      expect(outs).toHaveLength(ref.outputs.length);
      outs.forEach((out, j) => {
        const r = ref.outputs[j];
        if (typeof out === 'boolean') {
          expect([out ? 1 : 0]).toEqual(r.values);
          return;
        }
        expect([out.shape, out.dtype]).toEqual([r.shape, r.dtype]);
        expectValues(`${c.name} output ${j}`, out.double().toArray().map(encode), r.values);
      });
      const wanted = Object.keys(ref.grads);
      if (wanted.length === 0) return;
      const y = outs[0] as Tensor;
      y.mul(arange(0, y.numel, 1, { dtype: y.dtype }).reshape(y.shape).mul(0.1).add(0.5)).sum().backward();
      for (const n of wanted) expectValues(`${c.name} grad of ${n}`, inputs[n].grad!.toArray().map(encode), ref.grads[n]);
    });
  });
});

describe('bad arguments name the argument', () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'float64' });
  const index = tensor([[0, 1, 0]], { dtype: 'int64' });

  it.each([
    ['softmax dim 2 of a 2-D tensor', () => x.softmax(2), 'dim', 'integer in [-2, 1]'],
    ['logSoftmax dim -3', () => x.logSoftmax(-3), 'dim', 'integer in [-2, 1]'],
    ['softmax dim 0.5', () => x.softmax(0.5), 'dim', 'integer in [-2, 1]'],
    ['F.softmax dim 2 (the same check)', () => F.softmax(x, 2), 'dim', 'integer in [-2, 1]'],
    ['F.logSoftmax dim -3 (the same check)', () => F.logSoftmax(x, -3), 'dim', 'integer in [-2, 1]'],
    ['cumprod dim 5', () => x.cumprod(5), 'dim', 'integer in [-2, 1]'],
    ['logsumexp dim list with 5', () => x.logsumexp([0, 5]), 'dim', 'integer in [-2, 1]'],
    ['logsumexp over no dims', () => x.logsumexp([]), 'dim', 'a dim or a non-empty list of dims'],
    ['unique with a string for returnCounts', () => x.unique(true, true, 'yes' as never), 'returnCounts', 'boolean'],
    ['scatter dim 2', () => x.scatter(2, index, x), 'dim', 'integer in [-2, 1]'],
    ['scatterAdd dim -3', () => x.scatterAdd(-3, index, x), 'dim', 'integer in [-2, 1]'],
    ['scatter with a float index', () => x.scatter(0, index.double(), x), 'index', 'an int64 Tensor'],
    ['scatterAdd with an int32 index', () => x.scatterAdd(0, index.to('int32'), x), 'index', 'an int64 Tensor'],
    ['scatter with a string src', () => x.scatter(0, index, '3' as never), 'src', 'Tensor'],
    ['scatterAdd with a number src', () => x.scatterAdd(0, index, 3 as never), 'src', 'Tensor'],
    ['roll dims out of range', () => x.roll(1, 4), 'dims', 'integer in [-2, 1]'],
    ['roll shifts and dims of other lengths', () => x.roll([1, 2], [0]), 'dims', 'as many dims as shifts (2)'],
    ['roll several shifts without dims', () => x.roll([1, 2]), 'shifts', 'one integer when dims is not given'],
    ['roll a non-integer shift', () => x.roll(1.5), 'shifts', 'integer or list of integers'],
    ['einsum a non-string equation', () => einsum(5 as never, x), 'equation', 'string'],
    ['einsum no operands', () => einsum('ij->i'), 'tensors', 'non-empty array of Tensors'],
    ['bmm of 2-D tensors', () => x.bmm(x), 'self', 'a 3-D Tensor'],
    ['outer with a matrix', () => x.select(0, 0).outer(x), 'other', 'a 1-D Tensor'],
    ['tril of a vector', () => x.select(0, 0).tril(), 'self', 'a Tensor with at least 2 dimensions'],
    ['triu diagonal 1.5', () => x.triu(1.5), 'diagonal', 'integer'],
    ['diag of a 3-D tensor', () => x.unsqueeze(0).diag(), 'self', 'a 1-D or 2-D Tensor'],
  ] as const)('%s', (_name, fn, arg, expected) => {
    const e = errorOf(fn);
    expect([e.code, e.message.startsWith(`Expected ${expected} for ${arg} but received`)]).toEqual(['ERR_INVALID_ARG', true]);
  });
});
