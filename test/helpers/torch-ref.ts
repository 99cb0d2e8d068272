/**
 * Tensor-level front end to test/helpers/pytorch.ts (which runs snippets with the Debian python's
 * torch 1.13, on the same libtorch, exchanging raw float64 bytes; nothing of ours runs there):
 * inputs are this toolkit's Tensors and arrive in Python in their own dtype; outputs come back
 * as float64 Tensors (exact for every float32/float16/bfloat16 value and for integers < 2^53).
 *
 * The snippet sees `inp` (name -> tensor), `torch`, `nn`, `F`, `json`; it fills `out` (tensors)
 * and `js` (any JSON values). Without an interpreter that has torch, suites fail unless
 * SIGNIN_TORCH_SKIP_PYTORCH=1 (pytorch.ts's policy).
 */
import type { Tensor } from '../../src';
import { dedent, fromPy, pytorchAvailable, runPytorch, toPy, type PyArray } from './pytorch';

export { pytorchAvailable as torchAvailable } from './pytorch';

/**
 * `describe` for suites that need PyTorch (with .each, .only, ...). Without it the suites run and
 * fail on their first reference, unless SIGNIN_TORCH_SKIP_PYTORCH=1 skips them.
 */
export const describeWithTorch: jest.Describe =
  pytorchAvailable() || process.env.SIGNIN_TORCH_SKIP_PYTORCH !== '1' ? describe : describe.skip;

const PRELUDE = `
import json
import torch.nn as nn
import torch.nn.functional as F
for _k, _dt in args['dtypes'].items():
    inp[_k] = inp[_k].to(getattr(torch, _dt))
js = {}
`;

export interface TorchResult {
  out: Record<string, Tensor>;
  js: Record<string, unknown>;
}

/** Runs `code` in PyTorch with `inputs`; returns its `out` tensors (float64) and `js` values. */
export function runTorch(code: string, inputs: Record<string, Tensor> = {}): TorchResult {
  const arrays: Record<string, PyArray> = {};
  const dtypes: Record<string, string> = {};
  for (const [k, t] of Object.entries(inputs)) {
    arrays[k] = toPy(t);
    dtypes[k] = t.dtype;
  }
  const r = runPytorch(`${PRELUDE}\n${dedent(code)}\nres = js\n`, arrays, { dtypes });
  const out: Record<string, Tensor> = {};
  for (const [k, a] of Object.entries(r.out)) out[k] = fromPy(a, 'float64');
  return { out, js: (r.res ?? {}) as Record<string, unknown> };
}

/** The largest |a - b| relative to the tolerance atol + rtol·|b| (≤ 1 means close). */
export function maxViolation(a: Tensor, b: Tensor, rtol = 1e-4, atol = 1e-5): number {
  expect(a.shape).toEqual(b.shape);
  const x = a.toArray();
  const y = b.toArray();
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i] - y[i]);
    const v = d === 0 ? 0 : d / (atol + rtol * Math.abs(y[i]));
    if (!(v <= worst)) worst = Number.isNaN(v) ? Infinity : v;
  }
  return worst;
}

/** Asserts a ≈ b elementwise (|a - b| <= atol + rtol·|b|). */
export function expectClose(a: Tensor, b: Tensor, rtol = 1e-4, atol = 1e-5): void {
  expect(maxViolation(a, b, rtol, atol)).toBeLessThanOrEqual(1);
}
