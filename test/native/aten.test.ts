/**
 * The typed op table (src/tensor/aten.ts): every operator resolves in the installed libtorch with
 * the schema it was generated from, the checked-in file is what the generator makes now, and the
 * generated functions pick the overload the arguments' types ask for (values against closed forms).
 */
import * as fs from 'node:fs';
import { InvalidArgumentError, tensor, zeros } from '../../src';
import { native } from '../../src/native';
import * as aten from '../../src/tensor/aten';
import { OUT_FILE, generate, readOpList } from '../../scripts/gen-aten';
import { describePytorch, runPythonJson } from '../helpers/pytorch';

function split(q: string): [string, string] {
  const dot = q.indexOf('.');
  return dot < 0 ? [q, ''] : [q.slice(0, dot), q.slice(dot + 1)];
}

const major = (v: string) => v.split('.')[0];
// The table is generated from Debian's libtorch 1.13; the 2.x addon of scripts/libtorch2-check.sh
// is checked against it too.
const otherMajor = major(native().torchVersion()) !== major(aten.TORCH_VERSION);

/**
 * Against a libtorch of another major version, schemas differ in spelling only: 2.x types many int
 * arguments as SymInt (the generator maps both to number) and prints a repeated int-list default
 * in full (`int[2] stride=1` became `SymInt[2] stride=[1, 1]`). Both sides are then compared in
 * one spelling, which still tells a missing operator, a renamed, added or reordered argument, or
 * another default.
 */
function spelling(text: string, version: string): string {
  if (!otherMajor) return text;
  return text
    .split(version).join('<libtorch version>')
    .replace(/\bSymInt\b/g, 'int')
    .replace(/=\[(-?\d+)(?:, \1)*\]/g, '=$1');
}

describe('aten op table', () => {
  it('holds exactly the operators of scripts/gen-aten-ops.txt', () => {
    expect(Object.keys(aten.SCHEMAS).sort()).toEqual(readOpList().sort());
  });

  it('resolves every operator and overload in the installed libtorch, with the recorded schema', () => {
    const n = native();
    const got: Record<string, string> = {};
    const want: Record<string, string> = {};
    for (const [q, schema] of Object.entries(aten.SCHEMAS)) {
      got[q] = spelling(n.opSchema(n.opHandle(...split(q))), n.torchVersion());
      want[q] = spelling(schema, aten.TORCH_VERSION);
    }
    expect(got).toEqual(want);
    if (!otherMajor) expect(n.torchVersion()).toBe(aten.TORCH_VERSION);
  });

  it('is what scripts/gen-aten.ts generates now (npm run gen:aten)', () => {
    const version = native().torchVersion();
    expect(spelling(generate(), version)).toBe(spelling(fs.readFileSync(OUT_FILE, 'utf8'), aten.TORCH_VERSION));
  });
});

describePytorch('aten op table against PyTorch', () => {
  it("has every recorded schema in PyTorch's own registry (torch._C._jit_get_all_schemas)", () => {
    const known = runPythonJson<string[]>(
      'import json, sys, torch\nwant = json.load(sys.stdin)\nhave = set(str(s) for s in torch._C._jit_get_all_schemas())\nprint(json.dumps([w for w in want if w in have]))',
      Object.values(aten.SCHEMAS),
    );
    expect(known.sort()).toEqual(Object.values(aten.SCHEMAS).sort());
  });
});

describe('overload choice by argument types', () => {
  const a = tensor([1, 2, 3], { dtype: 'float64' });
  const b = tensor([10, 20, 30], { dtype: 'float64' });

  it('Tensor or Scalar operand (add.Tensor / add.Scalar, with alpha)', () => {
    expect(aten.add(a, b).toArray()).toEqual([11, 22, 33]);
    expect(aten.add(a, 2).toArray()).toEqual([3, 4, 5]);
    expect(aten.add(a, b, 0.5).toArray()).toEqual([6, 12, 18]);
    expect(aten.add(a, 2, 3).toArray()).toEqual([7, 8, 9]);
  });

  it('where: the four overloads', () => {
    const cond = tensor([true, false, true]);
    expect(aten.where(cond, a, b).toArray()).toEqual([1, 20, 3]);
    expect(aten.where(cond, 0, b).toArray()).toEqual([0, 20, 0]);
    expect(aten.where(cond, a, -1).toArray()).toEqual([1, -1, 3]);
    expect(aten.where(cond, 7, -1).toArray()).toEqual([7, -1, 7]);
  });

  it('by arity and list arguments: sum / sum.dim_IntList, var / var.dim, squeeze / squeeze.dim', () => {
    const m = tensor([[1, 2], [3, 5]], { dtype: 'float64' });
    expect(aten.sum(m).item()).toBe(11);
    expect(aten.sum(m, [0], false).toArray()).toEqual([4, 7]);
    expect(aten.sum(m, [1], true).shape).toEqual([2, 1]);
    // Unbiased variance of [1, 2, 3, 5]: mean 2.75, Σ(x - mean)² = 8.75, / 3.
    expect(aten.var(m, true).item()).toBeCloseTo(8.75 / 3, 12);
    expect(aten.var(m, [1], false, false).toArray()).toEqual([0.25, 1]);
    const z = zeros([1, 3, 1]);
    expect(aten.squeeze(z).shape).toEqual([3]);
    expect(aten.squeeze(z, 0).shape).toEqual([3, 1]);
  });

  it('a tuple return for max.dim, a single tensor for max', () => {
    const m = tensor([[1, 9], [4, 2]]);
    expect(aten.max(m).item()).toBe(9);
    const [values, indices] = aten.max(m, 1);
    expect([values.toArray(), indices.toArray()]).toEqual([[9, 4], [1, 0]]);
  });

  it('view by shape or by dtype', () => {
    expect(aten.view(tensor([1, 2, 3, 4]), [2, 2]).shape).toEqual([2, 2]);
    // float32 1.0 is 0x3f800000.
    expect(aten.view(tensor([1]), 'int32').toArray()).toEqual([0x3f800000]);
  });

  it('in place: add_ mutates its first argument', () => {
    const t = tensor([1, 2], { dtype: 'float64' });
    aten.add_(t, 1);
    aten.add_(t, t, 2);
    expect(t.toArray()).toEqual([6, 9]);
  });

  it('arguments that fit no overload go to the first one, whose conversion names the bad argument', () => {
    const call = () => (aten.add as (...a: unknown[]) => unknown)(a, 'x');
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow("Expected a Tensor for 'other' of aten::add.Tensor but received 'x' of type string");
  });
});
