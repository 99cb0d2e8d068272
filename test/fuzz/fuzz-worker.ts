/**
 * The child side of fuzz.test.ts: calls every target of one suite with junk arguments, from call
 * number `start` on, and reports each call on stdout before and after it runs, so that the parent
 * knows which call a crash or a hang happened in. Lines:
 *   N <total>                       the number of calls in the suite
 *   S <i> <label>                   call i starts
 *   E <i> <json outcome>            call i ended: {ok}, {code}, {passedThrough} (the junk's own
 *                                   exception) or {other: 'Name: message'}
 * Usage: node --import tsx fuzz-worker.ts <native|tensor|api> <start> [step]
 * SIGNIN_FUZZ_ONLY=name,name... keeps the targets with those labels (e.g. 'ResNet,F.relu'), to
 * fuzz a few entry points at step 1 while fixing them.
 */
import * as api from '../../src';
import { ERROR_CODES, ToolkitError } from '../../src/errors';
import { native } from '../../src/native';
import { say } from './say';

type Target = { label: string; call: (args: unknown[]) => unknown };

/** Thrown by the junk's own getters: passing the caller's exception through unchanged is right. */
class JunkError extends Error {}

function junk(): [string, unknown][] {
  const N = native();
  const live = (shape: number[]) => N.fromTypedArray(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5), shape, true);
  const disposed = live([2]);
  disposed.dispose();
  const asTensor = (h: unknown) => new api.Tensor(h as never);
  const throwing = new Proxy({}, { get() { throw new JunkError('getter throws'); }, ownKeys() { throw new JunkError('ownKeys throws'); } });
  const values: [string, unknown][] = [
    ['undefined', undefined], ['null', null], ['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity],
    ['-1', -1], ['0', 0], ['1.5', 1.5], ['2**31', 2 ** 31], ['2**32+1', 2 ** 32 + 1], ['2**53', 2 ** 53], ['-2**63', -(2 ** 63)],
    ["''", ''], ["'foo'", 'foo'], ["'aten::add'", 'aten::add'], ["'cpu'", 'cpu'], ['symbol', Symbol('junk')], ['10n', 10n], ['2n**70n', 2n ** 70n],
    ['true', true], ['[]', []], ['[1,[2]]', [1, [2]]], ['new Array(2**32-1)', new Array(2 ** 32 - 1)],
    ['[2**31,2**31]', [2 ** 31, 2 ** 31]], ['[-1]', [-1]], ['[NaN]', [NaN]], ['{}', {}], ['throwing proxy', throwing],
    ['getter object', { get lr() { throw new JunkError('getter throws'); }, get theta() { throw new JunkError('getter throws'); } }],
    ['function', () => 1], ['Float32Array(3)', new Float32Array(3)], ['BigInt64Array(2)', new BigInt64Array(2)],
    ['Uint16Array(2)', new Uint16Array(2)], ['DataView', new DataView(new ArrayBuffer(4))],
    ['resizable Float32Array', new Float32Array(new (ArrayBuffer as unknown as new (n: number, o: object) => ArrayBuffer)(8, { maxByteLength: 64 }))],
    ['native float32 [2,3]', live([2, 3])], ['native disposed', disposed],
    ['native int64 [2]', N.fromTypedArray(new BigInt64Array(2), [2], true)],
    ['native bool [3]', N.fromTypedArray(new Uint8Array(3), [3], true, 'bool')],
    ['native empty [0]', live([0])], ['native scalar []', live([])],
  ];
  const tensors: [string, unknown][] = [
    ['Tensor float32 [2,3]', asTensor(live([2, 3]))], ['Tensor [1,1,4,4]', asTensor(live([1, 1, 4, 4]))],
    ['Tensor int64 [2]', asTensor(N.fromTypedArray(new BigInt64Array(2), [2], true))],
    ['Tensor disposed', (() => { const x = asTensor(live([2])); x.dispose(); return x; })()],
    ['[Tensor, Tensor]', [asTensor(live([2])), asTensor(live([3]))]],
  ];
  return [...values, ...tensors];
}

function methodsOf(obj: object): string[] {
  const names = new Set<string>();
  for (let p = Object.getPrototypeOf(obj); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) {
      const d = Object.getOwnPropertyDescriptor(p, k);
      if (k !== 'constructor' && d && typeof d.value === 'function') names.add(k);
    }
  }
  return [...names].sort();
}

function isClass(f: unknown): boolean {
  return typeof f === 'function' && /^class\b/.test(Function.prototype.toString.call(f));
}

function targets(suite: string): Target[] {
  const N = native() as unknown as Record<string, unknown>;
  const out: Target[] = [];
  const add = (label: string, fn: (...a: unknown[]) => unknown, ctor = false) =>
    out.push({ label, call: (a) => (ctor ? new (fn as unknown as new (...x: unknown[]) => unknown)(...a) : fn(...a)) });
  if (suite === 'native') {
    const fresh = () => (N.fromTypedArray as (...a: unknown[]) => { dispose(): void })(new Float32Array(6), [2, 3], true);
    for (const name of Object.keys(N).sort()) {
      const f = N[name];
      if (typeof f !== 'function') continue;
      if (name === 'NativeTensor' || name === 'Generator') {
        add(`new ${name}`, f as never, true);
        continue;
      }
      add(name, f as never);
    }
    for (const m of methodsOf(fresh())) add(`NativeTensor#${m}`, (...a) => (fresh() as unknown as Record<string, (...x: unknown[]) => unknown>)[m](...a));
    const gen = new (N.Generator as new (s: number) => object)(1);
    for (const m of methodsOf(gen)) add(`Generator#${m}`, (...a) => (gen as Record<string, (...x: unknown[]) => unknown>)[m](...a));
    return out;
  }
  if (suite === 'tensor') {
    const fresh = () => api.randn([2, 3]);
    for (const m of methodsOf(fresh())) add(`Tensor#${m}`, (...a) => (fresh() as unknown as Record<string, (...x: unknown[]) => unknown>)[m](...a));
    return out;
  }
  for (const name of Object.keys(api).sort()) {
    const v = (api as Record<string, unknown>)[name];
    if (typeof v === 'function') add(name, v as never, isClass(v));
    else if (v && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, f] of Object.entries(v)) if (typeof f === 'function' && !isClass(f)) add(`${name}.${k}`, f as never);
    }
  }
  return out;
}

function outcome(e: unknown, suite: string): object {
  if (e instanceof JunkError) return { passedThrough: true };
  if (suite === 'native') {
    const code = (e as { code?: unknown })?.code;
    return typeof code === 'string' && code in ERROR_CODES ? { code } : { other: `${(e as Error)?.name}: ${(e as Error)?.message}` };
  }
  return e instanceof ToolkitError ? { code: e.code } : { other: `${(e as Error)?.name}: ${String((e as Error)?.message).slice(0, 200)}` };
}

/** FNV-1a of a label, a fixed number for each target. */
function labelHash(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

async function main(): Promise<void> {
  const [suite, startArg, stepArg] = process.argv.slice(2);
  const step = Number(stepArg ?? 1);
  const values = junk();
  const only = process.env.SIGNIN_FUZZ_ONLY?.split(',');
  const list = targets(suite).filter((t) => !only || only.includes(t.label));
  const calls: { label: string; run: () => unknown }[] = [];
  for (const t of list) {
    const own: typeof calls = [];
    for (const [l, v] of values) own.push({ label: `${t.label}(${l})`, run: () => t.call([v]) });
    for (const [l, v] of values) own.push({ label: `${t.label}(${l}, ${l}, ${l})`, run: () => t.call([v, v, v]) });
    // Every step-th call of each target keeps a large suite bounded. The offset comes from the
    // target's own label: its sample stays the same whatever other exports are added or removed,
    // and different targets get different junk.
    const offset = labelHash(t.label) % step;
    calls.push(...own.filter((_, j) => j % step === offset));
  }
  say(`N ${calls.length}`);
  for (let i = Number(startArg); i < calls.length; i++) {
    say(`S ${i} ${calls[i].label}`);
    let result: object;
    try {
      const { pending } = api.tidy(() => {
        const x = calls[i].run();
        if (x && typeof (x as { dispose?: unknown }).dispose === 'function' && !(x instanceof api.Tensor)) (x as { dispose(): void }).dispose();
        return { pending: x instanceof Promise ? x : undefined };
      });
      result = { ok: true };
      if (pending) {
        const settled = await Promise.race([pending.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 2000).unref())]);
        if (!settled) result = { pending: true };
      }
    } catch (e) {
      result = outcome(e, suite);
    }
    say(`E ${i} ${JSON.stringify(result)}`);
  }
}

process.on('unhandledRejection', () => {});
main().then(() => process.exit(0), (e) => {
  say(`X ${String(e)}`);
  process.exit(3);
});
