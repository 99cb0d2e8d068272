/**
 * The op-call path (native/dispatch.cc, src/tensor/dispatch.ts): arguments whose conversion runs
 * JS (each such case in a child process, because the bug it guards against is a crash of the
 * whole process), the unboxed binaryOp against PyTorch eager, and the one-pass argument
 * conversion.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type { Tensor } from '../../src';

const ROOT = path.resolve(__dirname, '../..');

function runChild(body: string): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const script = `const { native } = require('./src/native'); const N = native();\n${body}`;
  return spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), '-e', script], {
    encoding: 'utf8', timeout: 60000, cwd: ROOT,
  });
}

describe('callOp', () => {
  it('survives an argument getter that registers more operators (the handle table grows)', () => {
    // Registering 200 handles reallocates the native table several times while callOp holds
    // the operator it is calling; the result must still be add's: [1,2,3] + [10,20,30].
    const r = runChild(`
      const a = N.fromTypedArray(new Float32Array([1, 2, 3]), [3], true);
      const b = N.fromTypedArray(new Float32Array([10, 20, 30]), [3], true);
      const add = N.opHandle('aten::add', 'Tensor');
      const out = N.callOp(add, [a], { get other() { for (let i = 0; i < 200; i++) N.opHandle('aten::mul', 'Tensor'); return b; } });
      process.stdout.write(JSON.stringify(Array.from(out.toTypedArray())));
    `);
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    expect(JSON.parse(r.stdout)).toEqual([11, 22, 33]);
  });

  it('names the argument and the operator when a value does not fit, and keeps the process alive', () => {
    const r = runChild(`
      const a = N.fromTypedArray(new Float32Array([1, 2, 3]), [3], true);
      const errors = [];
      for (const args of [[a, 'x'], [a, a, 'two'], [a, a, 1.5], [a]]) {
        try { N.callOp(N.opHandle('aten::add', 'Tensor'), args); errors.push(null); } catch (e) { errors.push([e.code, e.message.split(' (')[0]]); }
      }
      try { N.callOp(N.opHandle('aten::ones', ''), [[2, 1.5]]); } catch (e) { errors.push([e.code, e.message]); }
      process.stdout.write(JSON.stringify(errors));
    `);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      ['ERR_INVALID_ARG', "Expected a Tensor for 'other' of aten::add.Tensor but received 'x' of type string"],
      ['ERR_INVALID_ARG', "Expected a number for 'alpha' of aten::add.Tensor but received 'two' of type string"],
      null,
      ['ERR_INVALID_ARG', "Missing argument 'other' of aten::add.Tensor"],
      ['ERR_INVALID_ARG', "Expected an integer for 'size' of aten::ones[1] but received 1.5 of type number"],
    ]);
  });

  it('wraps results only through the addon: constructing a NativeTensor from JS is a TypeError', () => {
    const r = runChild(`
      const out = [];
      for (const args of [[], [{}], [1]]) {
        try { new N.NativeTensor(...args); out.push('constructed'); } catch (e) { out.push(e.constructor.name + ': ' + e.message); }
      }
      const t = N.callOp(N.opHandle('aten::ones', ''), [[2]]);
      out.push(Array.from(t.toTypedArray()));
      process.stdout.write(JSON.stringify(out));
    `);
    expect(r.status).toBe(0);
    const msg = 'TypeError: NativeTensor cannot be constructed from JS; use the tensor factories';
    expect(JSON.parse(r.stdout)).toEqual([msg, msg, msg, [1, 1]]);
  });
});

describe('binaryOp: add, sub, mul, div called unboxed (Tensor.add and the others)', () => {
  // Lazy imports: the cases above run in child processes and need no addon in this one.
  const api = () => require('../../src') as typeof import('../../src');
  const { runPythonJson } = require('../helpers/pytorch') as typeof import('../helpers/pytorch');

  type Case = { op: 'add' | 'sub' | 'mul' | 'div'; a: number[][] | number[]; ad: string; b: number[] | number; bd?: string; alpha?: number };
  const cases: Case[] = [
    { op: 'add', a: [1.5, -2, 3], ad: 'float32', b: [0.25, 4, -1], bd: 'float32', alpha: 2 },
    { op: 'add', a: [1.5, -2, 3], ad: 'float32', b: [0.25, 4, -1], bd: 'float32', alpha: 0.5 },
    { op: 'sub', a: [1.5, -2, 3], ad: 'float32', b: 0.5, alpha: 3 },
    { op: 'add', a: [[1], [2]], ad: 'float64', b: [10, 20, 30], bd: 'float64' },
    { op: 'add', a: [1, 2, 3], ad: 'int64', b: 4, alpha: 2 },
    { op: 'mul', a: [1, 2, 3], ad: 'int32', b: 3 },
    { op: 'mul', a: [1, 2, 3], ad: 'int32', b: 2.5 },
    { op: 'mul', a: [1, 2, 3], ad: 'int32', b: [0.5, 1, 2], bd: 'float32' },
    { op: 'div', a: [1, 2, 3], ad: 'int32', b: 2 },
    { op: 'div', a: [1, -2, 3], ad: 'float64', b: [4, 8, -16], bd: 'float64' },
    { op: 'sub', a: [5, 6, 7], ad: 'int32', b: [1, 1, 1], bd: 'int32', alpha: 2 },
  ];

  it('gives PyTorch eager\'s values and dtypes, out of place and in place', () => {
    const ref = runPythonJson<{ values: number[]; dtype: string; inPlace: number[] | string }[]>(`
import json, sys, torch
out = []
for c in json.load(sys.stdin):
    a = torch.tensor(c['a'], dtype=getattr(torch, c['ad']))
    b = torch.tensor(c['b'], dtype=getattr(torch, c['bd'])) if 'bd' in c else c['b']
    kw = {'alpha': c['alpha']} if 'alpha' in c else {}
    r = getattr(torch, c['op'])(a, b, **kw)
    try:
        ip = a.clone(); getattr(ip, c['op'] + '_')(b, **kw); ip = ip.double().flatten().tolist()
    except RuntimeError:
        ip = 'error'
    out.append({'values': r.double().flatten().tolist(), 'dtype': str(r.dtype).replace('torch.', ''), 'inPlace': ip})
print(json.dumps(out))
`, cases);
    const S = api();
    const N = (require('../../src/native') as typeof import('../../src/native')).native();
    const spy = jest.spyOn(N, 'binaryOp');
    S.tidy(() => {
      cases.forEach((c, i) => {
        const a = S.tensor(c.a as number[], { dtype: c.ad as never });
        const b = typeof c.b === 'number' ? c.b : S.tensor(c.b, { dtype: c.bd as never });
        const r = c.op === 'add' || c.op === 'sub' ? a[c.op](b, c.alpha) : a[c.op](b);
        expect({ i, values: r.toArray(), dtype: r.dtype }).toEqual({ i, values: ref[i].values, dtype: ref[i].dtype });
        const ip = a.clone();
        const run = () => (c.op === 'add' || c.op === 'sub' ? ip[`${c.op}_`](b, c.alpha) : ip[`${c.op}_`](b));
        if (ref[i].inPlace === 'error') {
          expect(run).toThrow(S.ToolkitError);
        } else {
          expect(run()).toBe(ip);
          expect({ i, values: ip.toArray() }).toEqual({ i, values: ref[i].inPlace });
        }
      });
    });
    // Every one of these calls took the unboxed path (out of place and in place per case).
    expect(spy).toHaveBeenCalledTimes(2 * cases.length);
    spy.mockRestore();
  });

  it('records autograd: gradients of x*y + (x - 2y)/4 are the closed forms', () => {
    const S = api();
    S.tidy(() => {
      const x = S.tensor([1, 2, 3], { dtype: 'float64' }).requiresGrad_();
      const y = S.tensor([-1, 0.5, 4], { dtype: 'float64' }).requiresGrad_();
      x.mul(y).add(x.sub(y, 2).div(4)).sum().backward();
      // d/dx = y + 1/4, d/dy = x - 1/2
      expect(x.grad!.toArray()).toEqual([-0.75, 0.75, 4.25]);
      expect(y.grad!.toArray()).toEqual([0.5, 1.5, 2.5]);
    });
  });

  it('operands it does not take go through the schema path and its messages', () => {
    const S = api();
    S.tidy(() => {
      const a = S.tensor([1, 2]);
      expect(() => a.add('x' as never)).toThrow("Expected a Tensor for 'other' of aten::add.Tensor but received 'x' of type string");
      expect(() => a.mul(new S.Generator(1) as never)).toThrow(S.ToolkitError);
      expect(() => a.add(a, 'two' as never)).toThrow("Expected a number for 'alpha' of aten::add.Tensor but received 'two' of type string");
      expect(() => a.sub_(a, null as never)).toThrow("'alpha' of aten::sub_.Tensor");
      const d = S.tensor([1, 2]);
      d.dispose();
      expect(() => a.add(d)).toThrow(S.TensorDisposedError);
      expect(() => d.mul_(2)).toThrow(S.TensorDisposedError);
    });
  });

  it('the raw entry point checks what it is given and names the argument', () => {
    const S = api();
    const N = (require('../../src/native') as typeof import('../../src/native')).native();
    S.tidy(() => {
      const a = S.tensor([1, 2]).handle;
      const gone = S.tensor([1, 2]);
      const goneHandle = gone.handle;
      gone.dispose();
      const err = (f: () => unknown) => {
        try {
          f();
        } catch (e) {
          return [(e as { code?: string }).code, (e as Error).message];
        }
        return null;
      };
      expect([
        err(() => N.binaryOp(32, a, a)),
        err(() => N.binaryOp(1.5, a, a)),
        err(() => N.binaryOp(0, 1 as never, a)),
        err(() => N.binaryOp(0, Object.create(N.NativeTensor.prototype), a)),
        err(() => N.binaryOp(2, a, 'x' as never)),
        err(() => N.binaryOp(2, a, a, 2)),
        err(() => N.binaryOp(0, a, a, 'x' as never)),
        err(() => N.binaryOp(0, a, goneHandle)),
      ]).toEqual([
        ['ERR_INVALID_ARG', 'Expected an integer in [0, 31] (the op, in place, and which operands are slots) for code but received 32 of type number'],
        ['ERR_INVALID_ARG', 'Expected an integer in [0, 31] (the op, in place, and which operands are slots) for code but received 1.5 of type number'],
        ['ERR_INVALID_ARG', "Expected a Tensor for 'self' of aten::add but received 1 of type number"],
        ['ERR_INVALID_ARG', "Expected a Tensor for 'self' of aten::add but received an object"],
        ['ERR_INVALID_ARG', "Expected a Tensor or a number for 'other' of aten::mul but received 'x' of type string"],
        ['ERR_INVALID_ARG', "Expected undefined (the op has no alpha) for 'alpha' of aten::mul but received 2 of type number"],
        ['ERR_INVALID_ARG', "Expected a number for 'alpha' of aten::add but received 'x' of type string"],
        ['ERR_TENSOR_DISPOSED', expect.stringContaining('Tensor is disposed')],
      ]);
    });
  });
});

describe('op arguments are converted in one pass', () => {
  it('an array with a hole is refused with the path of the array that has it', () => {
    const S = require('../../src') as typeof import('../../src');
    const message = (args: unknown[], kwargs?: Record<string, unknown>, q = 'aten::cat') => {
      try {
        S.unsafeCall(q, args, kwargs);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    S.tidy(() => {
      const a = S.tensor([1, 2]);
      // eslint-disable-next-line no-sparse-arrays
      const holey = [1, , 2];
      expect(message([holey], undefined, 'aten::zeros')).toBe('Expected an array without holes for argument 0 of aten::zeros but received an array of length 3');
      expect(message([[a, holey], 0])).toBe('Expected an array without holes for argument 0[1] of aten::cat but received an array of length 3');
      expect(message([[[a, holey]], 0])).toBe('Expected an array without holes for argument 0[0][1] of aten::cat but received an array of length 3');
      expect(message([], { size: holey }, 'aten::zeros')).toBe("Expected an array without holes for 'size' of aten::zeros but received an array of length 3");
      expect(message([new Array(2 ** 32 - 1)], undefined, 'aten::zeros')).toContain('for argument 0 of aten::zeros');
      // Tensors inside lists become handles; a list without tensors passes through as it is.
      expect(S.unsafeCall<Tensor>('aten::cat', [[a, a], 0]).toArray()).toEqual([1, 2, 1, 2]);
      expect(S.unsafeCall<Tensor>('aten::zeros', [[2, 3]]).shape).toEqual([2, 3]);
    });
  });
});
