/**
 * The floor under one op call, and where the time of our `a.add(b).dispose()` goes (issue 9).
 * Three sources, each timed in CPU time of its process (a loaded machine inflates wall time far
 * more: a block longer than a time slice is descheduled):
 *  - bench/op-overhead-floor/napi_floor.cc, a libtorch-free addon built here with g++ twice: as the
 *    addon is (NAPI_VERSION=8: ObjectWrap finalizers are queued to the event loop) and with
 *    NAPI_EXPERIMENTAL (its basic finalizer runs inside the GC). It gives the cost of an empty call,
 *    of each way a result can come back (a number, a plain object, an ObjectWrap instance with its
 *    GC and finalizer amortized), of finding the native object behind an argument, and in JS of a
 *    plain object with and without a FinalizationRegistry entry;
 *  - bench/op-overhead-floor/aten_add.cc, at::add of two 16-element tensors in C++ (libtorch's
 *    dispatcher and allocation, no JS), and PyTorch eager's torch.add (bench/pytorch/op_overhead.py);
 *  - our addon, layer by layer: binaryOp in place (no result), binaryOp with a result (a slot
 *    number) and its release, raw and guarded, a.add(b).dispose(), a result moved into a
 *    NativeTensor (the ObjectWrap path every result took before), one left to the GC, and a.add(b)
 *    left to tidy().
 * Every layer yields to the event loop every 1,000 calls (so queued finalizers run and are paid
 * for) and runs once per round; rounds interleave the layers so that load hits them alike. The
 * table gives the median over rounds and the min–max spread in ns per call, and the GC time per
 * call that V8 reported during the layer's blocks.
 *
 *   npx tsx --expose-gc bench/op-overhead-floor.ts [--rounds 9] [--calls 100000]
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { machine, machineNote, median, parseArgs, runPytorch } from './common';

const SRC = path.join(__dirname, 'op-overhead-floor');

interface Floor {
  noop(): void;
  rawNoop(): void;
  fourArgs(a: unknown, b: unknown, c: unknown, d: unknown): number;
  newWrap(): unknown;
  newObject(): object;
  newSlot(): number;
  findWrap(v: unknown): boolean;
  live(): number;
}

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
}

/** Builds the floor programs into a cache folder keyed by their sources; returns the paths. */
function build(): { v8: string; experimental: string; atenAdd: string } {
  const hash = createHash('sha1');
  for (const f of ['napi_floor.cc', 'aten_add.cc']) hash.update(fs.readFileSync(path.join(SRC, f)));
  const dir = path.join(os.tmpdir(), `signin-op-floor-${hash.digest('hex').slice(0, 12)}`);
  fs.mkdirSync(dir, { recursive: true });
  const napiInc = path.dirname(require.resolve('node-addon-api/package.json'));
  const common = ['-O2', '-std=c++17', '-shared', '-fPIC', '-fexceptions', '-DNODE_ADDON_API_CPP_EXCEPTIONS',
    '-I/usr/include/node', `-I${napiInc}`, path.join(SRC, 'napi_floor.cc')];
  const out = { v8: path.join(dir, 'floor_v8.node'), experimental: path.join(dir, 'floor_exp.node'), atenAdd: path.join(dir, 'aten_add') };
  if (!fs.existsSync(out.v8)) sh('g++', [...common, '-DNAPI_VERSION=8', '-o', out.v8]);
  if (!fs.existsSync(out.experimental)) sh('g++', [...common, '-DNAPI_EXPERIMENTAL', '-o', out.experimental]);
  if (!fs.existsSync(out.atenAdd)) {
    sh('g++', ['-O2', '-std=c++17', path.join(SRC, 'aten_add.cc'), '-I/usr/include/torch/csrc/api/include',
      '-ltorch_cpu', '-lc10', '-o', out.atenAdd]);
  }
  return out;
}

const gcEntries: { start: number; duration: number }[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcEntries.push({ start: e.startTime, duration: e.duration });
}).observe({ entryTypes: ['gc'] });

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * CPU ns per call of `calls` calls in blocks of 1,000, each block run through `block` (tidy, for
 * one layer) and followed by a turn of the event loop; the span in performance.now().
 */
async function time(calls: number, body: () => void, block = (f: () => void) => f()): Promise<{ ns: number; span: [number, number] }> {
  const run = () => {
    for (let j = 0; j < 1000; j++) body();
  };
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < calls; i += 1000) {
    block(run);
    await turn();
  }
  await turn();
  const c = process.cpuUsage(c0);
  return { ns: ((c.user + c.system) * 1e3) / calls, span: [t0, performance.now()] };
}

class Plain {
  kept = false;
  shape: number[] | undefined = undefined;
  constructor(public id: number) {}
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const rounds = Number(a.rounds ?? 9);
  const calls = Number(a.calls ?? 100_000);
  const paths = build();
  const v8 = require(paths.v8) as Floor;
  const exp = require(paths.experimental) as Floor;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const S = require('../src') as typeof import('../src');
  const { loadNative } = require('../src/native/load') as typeof import('../src/native/load');
  const { native } = require('../src/native') as typeof import('../src/native');
  const raw = loadNative();
  S.setNumThreads(1);
  const x = S.randn([16]);
  const y = S.randn([16]);
  // Operands held in slots (results of add): binaryOp reads them by number, with no unwrap.
  const xs = S.keep(x.add(0));
  const ys = S.keep(y.add(0));
  const hx = x.handle;
  const hy = y.handle;
  const N = native();
  const rawBinary = raw.binaryOp;
  const wrapped = v8.newWrap();
  const registry = new FinalizationRegistry<number>(() => {});
  const noopJs = (): void => {};
  let sink = 0;
  const layers: [string, () => void][] = [
    ['JS: an empty JS function', () => { noopJs(); }],
    ['N-API: empty call, C API', () => { v8.rawNoop(); }],
    ['N-API: empty call, node-addon-api', () => { v8.noop(); }],
    ['N-API: 4 arguments read (code, obj, obj, undefined)', () => { sink += v8.fourArgs(0, wrapped, wrapped, undefined); }],
    ['N-API: find the object behind an argument (typeof, prototype, unwrap)', () => { v8.findWrap(wrapped); }],
    ['N-API: result a number (slot id)', () => { sink += v8.newSlot(); }],
    ['N-API: result a plain object (napi_create_object)', () => { v8.newObject(); }],
    ['N-API: result an ObjectWrap, finalizer queued (NAPI 8), GC amortized', () => { v8.newWrap(); }],
    ['N-API: result an ObjectWrap, basic finalizer in GC (experimental)', () => { exp.newWrap(); }],
    ['JS: new plain object holding an id', () => { sink += new Plain(1).id; }],
    ['JS: plain object + FinalizationRegistry register + unregister', () => {
      const o = new Plain(1);
      registry.register(o, 1, o);
      registry.unregister(o);
    }],
    ['JS: plain object + FinalizationRegistry register, left to GC', () => { registry.register(new Plain(1), 1); }],
    ['ours: raw binaryOp add_ in place (no result)', () => { rawBinary(4, hx, hy, undefined); }],
    ['ours: raw binaryOp add (a slot) + raw slotRelease', () => { raw.slotRelease(rawBinary(0, hx, hy, undefined) as number, false); }],
    ['ours: guarded binaryOp add (a slot) + guarded slotRelease', () => { N.slotRelease(N.binaryOp(0, hx, hy, undefined) as number, false); }],
    ['ours: a.add(b).dispose()', () => { x.add(y).dispose(); }],
    ['ours: a.add(b).dispose(), a and b themselves in slots', () => { xs.add(ys).dispose(); }],
    ['ours: a.add(b) moved to a NativeTensor (.handle), disposed', () => { const t = x.add(y); void t.handle; t.dispose(); }],
    ['ours: a.add(b) outside tidy, left to the GC (FinalizationRegistry)', () => { x.add(y); }],
  ];
  const tidyLayer = 'ours: a.add(b) freed by tidy() (1,000 per scope)';
  const inTidy = (f: () => void) => S.tidy(f);
  const names = [...layers.map((l) => l[0]), tidyLayer, 'C++: at::add (libtorch alone)', 'C++: at::empty({16}) alone', 'PyTorch eager: torch.add'];
  const res = names.map(() => [] as number[]);
  const gcNs = names.map(() => [] as number[]);
  const before = machine();
  for (const [, f] of layers) await time(calls / 10, f);
  await time(calls / 10, () => { x.add(y); }, inTidy);
  for (let r = 0; r < rounds; r++) {
    const spans: [number, number][] = [];
    for (let i = 0; i < layers.length; i++) {
      const t = await time(calls, layers[i][1]);
      res[i].push(t.ns);
      spans.push(t.span);
    }
    const ti = layers.length;
    const t = await time(calls, () => { x.add(y); }, inTidy);
    res[ti].push(t.ns);
    spans.push(t.span);
    await turn();
    for (let i = 0; i < spans.length; i++) {
      const [s0, s1] = spans[i];
      gcNs[i].push((gcEntries.filter((e) => e.start >= s0 && e.start < s1).reduce((s, e) => s + e.duration, 0) * 1e6) / calls);
    }
    const aten = JSON.parse(spawnSync(paths.atenAdd, [String(calls)], { encoding: 'utf8' }).stdout) as Record<string, { cpuNs: number }>;
    res[ti + 1].push(aten.add.cpuNs);
    res[ti + 2].push(aten.empty.cpuNs);
    const py = runPytorch<{ addCpuUs: number }>('op_overhead.py', { calls, steps: 0, warmup: 0 });
    res[ti + 3].push(py.addCpuUs * 1e3);
  }
  const after = machine();
  const fmt = (xs: number[]) => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
  const lines = [
    `Node ${process.version}, libtorch ${S.torchVersion()}, 1 thread; ${rounds} rounds of ${calls.toLocaleString('en-US')} calls per layer, interleaved. `
      + 'CPU ns per call: median over rounds (min–max); GC: V8-reported GC time per call during the layer.',
    '',
    '| layer | CPU ns per call | of which GC (ns) |',
    '|---|---|---|',
    ...names.map((n, i) => `| ${n} | ${fmt(res[i])} | ${gcNs[i].length ? median(gcNs[i]).toFixed(0) : '–'} |`),
    '',
    `Live floor ObjectWraps after the run (finalized ones are gone): NAPI 8 ${v8.live()}, experimental ${exp.live()}.`,
    machineNote(before, after),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (sink === -1) process.stdout.write('\n');
}


main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
