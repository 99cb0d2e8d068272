/**
 * Where the per-op time goes (issue 9): each layer of the path of `a.add(b).dispose()` on two
 * 16-element float32 tensors, timed in one process at 1 libtorch thread. Layers are measured in
 * interleaved blocks (every layer once per round, rounds repeated) so that machine load hits
 * them alike; the table gives the median over rounds with the min–max spread, in ns of CPU time
 * per call. The min is the best estimate of a layer's own cost on a loaded machine.
 *
 *   npx tsx bench/op-layers.ts [--rounds 15] [--calls 50000]
 */
import { loadNative } from '../src/native/load';
import { native, type NativeTensor } from '../src/native';
import { call, op } from '../src/tensor/dispatch';
import { median, parseArgs } from './common';

const raw = loadNative();
// Saved before src/ loads the guarded binding, which wraps the prototype's methods in place.
const rawDispose = raw.NativeTensor.prototype.dispose as (this: NativeTensor) => void;
const rawGrad = raw.NativeTensor.prototype.grad as (this: NativeTensor) => NativeTensor;

// eslint-disable-next-line @typescript-eslint/no-var-requires
const S = require('../src') as typeof import('../src');

// CPU time of this process, not wall time: on a loaded machine a block of calls longer than a
// time slice is descheduled, and its wall time grows with the load while its CPU time does not.
function time(calls: number, body: () => void): number {
  const c0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) body();
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) * 1e3) / calls;
}

function main(): void {
  const a = parseArgs(process.argv.slice(2));
  const rounds = Number(a.rounds ?? 15);
  const calls = Number(a.calls ?? 50_000);
  S.setNumThreads(1);
  const N = native();
  const x = S.randn([16]);
  const y = S.randn([16]);
  const hx = x.handle as NativeTensor;
  const hy = y.handle as NativeTensor;
  const id = raw.opHandle('aten::add', 'Tensor');
  const addOp = op('aten::add.Tensor');
  const ext = raw as unknown as Record<string, (...args: unknown[]) => unknown>;
  // A gradient to hand out: grad() wraps the tensor it already holds, so it times one result
  // object's creation and disposal with no ATen work.
  const g = S.randn([16]).requiresGrad_();
  g.sum().backward();
  const hg = g.handle as NativeTensor;
  const layers: [string, () => void][] = [
    ['empty N-API call (raw isGradEnabled)', () => { raw.isGradEnabled(); }],
    ['raw grad() + raw dispose (wrap only)', () => { rawDispose.call(rawGrad.call(hg)); }],
    ['empty call, guarded', () => { N.isGradEnabled(); }],
    ['raw callOp add + raw dispose', () => { rawDispose.call(raw.callOp(id, [hx, hy]) as NativeTensor); }],
    ['guarded callOp add + dispose', () => { (N.callOp(id, [hx, hy]) as NativeTensor).dispose(); }],
    ['dispatch call() + Tensor dispose', () => { call<InstanceType<typeof S.Tensor>>(addOp, [x, y]).dispose(); }],
    ['a.add(b).dispose()', () => { x.add(y).dispose(); }],
  ];
  if (typeof ext.binaryOp === 'function') {
    layers.splice(3, 0,
      ['raw binaryOp add_ in place (no result)', () => { ext.binaryOp(4, hx, hy, undefined); }],
      ['raw binaryOp add + raw dispose', () => { rawDispose.call(ext.binaryOp(0, hx, hy, undefined) as NativeTensor); }]);
  }
  const res = layers.map(() => [] as number[]);
  for (const [, f] of layers) time(calls / 10, f);
  for (let r = 0; r < rounds; r++) layers.forEach(([, f], i) => res[i].push(time(calls, f)));
  for (let i = 0; i < layers.length; i++) {
    const xs = res[i];
    console.log(`${layers[i][0].padEnd(42)} ${median(xs).toFixed(0).padStart(6)} ns (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`);
  }
  console.log(`load average ${require('node:os').loadavg().map((l: number) => l.toFixed(2)).join(' ')}`);
}

main();
