/**
 * Results of add, sub, mul and div held in the addon's slot table (native/slots.h) instead of one
 * NativeTensor each: they count in memory(), are freed by dispose() and tidy(), move into a handle
 * when one is needed, and one that no scope frees is freed by the GC (src/tensor/slots.ts), while
 * a late registry callback never frees a newer tensor in a reused slot. A handle used repeatedly as
 * an operand is passed by an alias slot that ends with the handle. The GC cases run in a child
 * process started with --expose-gc; the values are checked against closed forms.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as S from '../../src';
import { native } from '../../src/native';

const ROOT = path.resolve(__dirname, '../..');

function runChild(body: string): { status: number | null; stdout: string; stderr: string } {
  // turns(): garbage collections with event-loop turns between them, so that finalizers and
  // FinalizationRegistry callbacks run.
  const turns = 'const turns = async () => { for (let k = 0; k < 20; k++) { global.gc(); await new Promise((res) => setTimeout(res, 5)); } };';
  const script = `const S = require('./src');\n${turns}\n(async () => {\n${body}\n})().catch((e) => { console.error(e); process.exit(1); });`;
  return spawnSync(process.execPath, ['--expose-gc', '--require', require.resolve('tsx/cjs'), '-e', script], {
    encoding: 'utf8', timeout: 60000, cwd: ROOT,
  });
}

function err(f: () => unknown): [string | undefined, string] | null {
  try {
    f();
  } catch (e) {
    return [(e as { code?: string }).code, (e as Error).message];
  }
  return null;
}

describe('slot tensors', () => {
  it('hold a result in a slot that counts in memory() until dispose, and move into a handle on demand', () => {
    const a = S.tensor([1, 2, 3, 4]);
    const b = S.tensor([10, 20, 30, 40]);
    const before = S.memory();
    const c = a.add(b, 2);
    expect(c.slot).toBeGreaterThanOrEqual(0);
    expect(S.memory()).toEqual({ numTensors: before.numTensors + 1, numBytes: before.numBytes + 16 });
    // Slot operands stay slots: ((a + 2b) * b - a) / 2 and an in-place step, against the closed form.
    const d = S.tidy(() => c.mul(b).sub(a).div(2));
    expect(d.slot).toBeGreaterThanOrEqual(0);
    d.add_(c, -1);
    const want = [1, 2, 3, 4].map((x, i) => {
      const bi = [10, 20, 30, 40][i];
      return ((x + 2 * bi) * bi - x) / 2 - (x + 2 * bi);
    });
    expect(d.toArray()).toEqual(want);
    expect(d.slot).toBe(-1);
    expect(S.memory().numTensors).toBe(before.numTensors + 2);
    c.dispose();
    expect(c.isDisposed).toBe(true);
    c.dispose();
    d.dispose();
    expect(S.memory()).toEqual(before);
    expect(() => c.add(1)).toThrow(S.TensorDisposedError);
    expect(() => a.mul(c)).toThrow(S.TensorDisposedError);
    a.dispose();
    b.dispose();
  });

  it('are freed by tidy(), which hands a returned one to the enclosing scope; keep() survives', () => {
    const a = S.keep(S.tensor([1, 2]));
    const before = S.memory().numTensors;
    let kept: S.Tensor | undefined;
    const out = S.tidy(() => {
      const inner = S.tidy(() => a.mul(3).add(1));
      kept = S.keep(a.sub(1));
      a.add(a);
      return inner.mul(inner);
    });
    expect(S.memory().numTensors).toBe(before + 2);
    expect(out.toArray()).toEqual([16, 49]);
    expect(kept!.toArray()).toEqual([0, 1]);
    out.dispose();
    kept!.dispose();
    a.dispose();
    expect(S.memory().numTensors).toBe(before - 1);
  });

  it('the raw entry points name what is wrong with a slot and keep the process alive', () => {
    const N = native();
    const a = S.tensor([1, 2]);
    const ha = a.handle;
    const s = N.binaryOp(0, ha, ha) as number;
    expect(typeof s).toBe('number');
    N.slotRelease(s, false);
    expect([
      err(() => N.slotRelease('x' as never, false)),
      err(() => N.slotRelease(1e9, false)),
      err(() => N.slotRelease(-1, false)),
      err(() => N.slotRelease(s, false)),
      err(() => N.slotRelease(s, 'yes' as never)),
      err(() => N.binaryOp(8, s, ha)),
      err(() => N.binaryOp(16, ha, 0.5 as never)),
      err(() => N.slotToHandle(s, false)),
    ]).toEqual([
      ['ERR_INVALID_ARG', "Expected a tensor slot (a number that binaryOp returned) for slot but received 'x' of type string"],
      ['ERR_INVALID_ARG', 'Expected a tensor slot (a number that binaryOp returned) for slot but received 1000000000 of type number'],
      ['ERR_INVALID_ARG', 'Expected a tensor slot (a number that binaryOp returned) for slot but received -1 of type number'],
      ['ERR_INVALID_ARG', `Expected a slot in use for slot but received ${s} of type number, a free one`],
      ['ERR_INVALID_ARG', "Expected a boolean for park but received 'yes' of type string"],
      ['ERR_TENSOR_DISPOSED', expect.stringContaining('Tensor is disposed')],
      ['ERR_INVALID_ARG', 'Expected a tensor slot (a number that binaryOp returned) for other but received 0.5 of type number'],
      ['ERR_TENSOR_DISPOSED', expect.stringContaining('Tensor is disposed')],
    ]);
    a.dispose();
  });

  it('a handle used again as an operand goes by an alias slot, which ends with the handle', () => {
    const N = native();
    const a = S.tensor([1, 2, 3]);
    const b = S.tensor([4, 5, 6]);
    const before = S.memory();
    a.add(b).dispose();
    const prod = a.mul(b);
    const alias = N.slotAlias(a.handle);
    expect(alias).toBeGreaterThanOrEqual(0);
    expect(N.slotAlias(a.handle)).toBe(alias);
    expect(prod.toArray()).toEqual([4, 10, 18]);
    // The alias is the handle's own tensor: not counted again, and written by an in-place op.
    expect(S.memory().numTensors).toBe(before.numTensors + 1);
    a.add_(b, 2);
    expect(a.toArray()).toEqual([9, 12, 15]);
    const viaAlias = N.slotToHandle(N.binaryOp(8 + 1, alias, b.handle) as number, false);
    expect(new S.Tensor(viaAlias).toArray()).toEqual([5, 7, 9]);
    expect([err(() => N.slotRelease(alias, false)), err(() => N.slotToHandle(alias, false))]).toEqual([
      ['ERR_INVALID_ARG', `Expected a slot that binaryOp returned for slot but received ${alias} of type number, the alias of a handle (freed with its handle)`],
      ['ERR_INVALID_ARG', `Expected a slot that binaryOp returned for slot but received ${alias} of type number, the alias of a handle (freed with its handle)`],
    ]);
    // A disposed handle's alias names no tensor, and its number is not reused while the handle object lives.
    const h = a.handle;
    a.dispose();
    expect(err(() => N.binaryOp(8, alias, b.handle))).toEqual(['ERR_TENSOR_DISPOSED', expect.stringContaining('Tensor is disposed')]);
    expect(() => a.add(b)).toThrow(S.TensorDisposedError);
    const fresh = b.add(b);
    expect(fresh.slot).not.toBe(alias);
    expect(h.isDisposed()).toBe(true);
    // Disposing the handle behind the Tensor's back: the Tensor's alias fails as disposed, never aliases another tensor.
    const c = S.tensor([7]);
    c.mul(c).dispose();
    c.mul(c).dispose();
    c.handle.dispose();
    expect(() => c.mul(b)).toThrow(S.TensorDisposedError);
    expect(err(() => N.slotAlias(b as never))).toEqual(['ERR_INVALID_ARG', expect.stringContaining('Expected a Tensor handle for handle but received')]);
    prod.dispose();
    fresh.dispose();
    b.dispose();
  });

  it('an alias slot is freed when its handle is garbage, and only then reused', () => {
    const r = runChild(`
      const N = require('./src/native').native();
      const b = S.tensor([1, 2]);
      const alias = (() => {
        const t = S.tensor([10, 20]);
        t.add(b).dispose();
        t.add(b).dispose();
        return N.slotAlias(t.handle);
      })();
      const early = b.add(b);
      await turns();
      const late = b.mul(b);
      process.stdout.write(JSON.stringify({ early: early.slot !== alias, late: late.slot === alias, values: late.toArray() }));
    `);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ early: true, late: true, values: [1, 4] });
  });

  it('add, sub, mul and div of tensors without autograd agree with closed forms: broadcasting, views, promotion, errors', () => {
    const x = [[1, -2, 3], [4, 5, -6]];
    const a = S.tensor(x);
    const row = S.tensor([0.5, -1, 2]);
    const ints = S.tensor([7, -7, 9], { dtype: 'int64' });
    const three = S.tensor([2, 2, 4], { dtype: 'int64' });
    const flat = (t: S.Tensor) => t.toArray();
    expect(flat(a.add(row, 2))).toEqual([2, -4, 7, 5, 3, -2]);
    expect(flat(a.t().sub(S.tensor([[1], [1], [1]])))).toEqual([0, 3, -3, 4, 2, -7]);
    expect(flat(a.mul(row))).toEqual([0.5, 2, 6, 2, -5, -12]);
    const q = ints.div(three);
    expect(q.dtype).toBe('float32');
    expect(flat(q)).toEqual([3.5, -3.5, 2.25]);
    const mixed = ints.mul(S.tensor([0.5, 0.5, 0.5]));
    expect([mixed.dtype, flat(mixed)]).toEqual(['float32', [3.5, -3.5, 4.5]]);
    expect(flat(ints.sub(three, 3))).toEqual([1, -13, -3]);
    const bools = S.tensor([1, 0], { dtype: 'bool' });
    expect(() => bools.sub(bools)).toThrow(/Subtraction, the `-` operator, with two bool tensors is not supported/);
    expect(() => a.add(S.tensor([1, 2]))).toThrow(/size of tensor a \(3\) must match the size of tensor b \(2\)/);
    for (const t of [a, row, ints, three, q, mixed, bools]) t.dispose();
  });

  it('add, sub, mul and div still record autograd for an operand that requires grad', () => {
    const w = S.tensor([1, 2, 3]).requiresGrad_();
    const x = S.tensor([4, -5, 6]);
    S.tidy(() => x.mul(w).add(w.div(x)).sub(x, 2).sum().backward());
    expect(w.grad!.toArray()).toEqual([4 + 1 / 4, -5 - 1 / 5, 6 + 1 / 6].map(Math.fround));
    w.dispose();
    x.dispose();
  });

  it('one that no scope frees is freed by the GC; a late callback never frees a reused slot', () => {
    const r = runChild(`
      const a = S.tensor([1, 2]);
      const b = S.tensor([3, 4]);
      const base = S.memory().numTensors;
      for (let i = 0; i < 1000; i++) a.add(b);
      const dropped = S.memory().numTensors - base;
      await turns();
      const afterGc = S.memory().numTensors - base;
      // Released in the job that made it: never watched, so its slot is reused at once.
      const u = a.add(b);
      const su = u.slot;
      u.dispose();
      const immediate = a.add(b);
      const reusedAtOnce = immediate.slot === su;
      immediate.dispose();
      // Watched (it outlived its job), then released: its slot stays parked until it is garbage.
      const parked = await (async () => { const t1 = a.add(b); const s1 = t1.slot; await null; t1.dispose(); return s1; })();
      const t2 = a.mul(b);
      const distinct = t2.slot !== parked;
      await turns();
      const t3 = a.sub(b);
      process.stdout.write(JSON.stringify({ dropped, afterGc, reusedAtOnce, distinct, t2: t2.toArray(),
        reusedAfterGc: t3.slot === parked, live: S.memory().numTensors - base }));
    `);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      dropped: 1000, afterGc: 0, reusedAtOnce: true, distinct: true, t2: [3, 8], reusedAfterGc: true, live: 2,
    });
  });
});
