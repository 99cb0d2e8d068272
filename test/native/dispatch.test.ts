/**
 * The op-call path (native/dispatch.cc): arguments whose conversion runs JS. Each case runs in a
 * child process, because the bug it guards against is a crash of the whole process.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

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
