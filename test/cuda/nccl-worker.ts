/**
 * One rank of nccl.test.ts: joins an NCCL group (FileStore at argv[2]) on cuda:LOCAL_RANK, runs
 * each collective on CUDA tensors and on CPU tensors (which NCCL cannot reduce: the addon copies
 * them to the rank's device and back), allReduceWithGrad forward and backward, c10d's Reducer (what
 * DistributedDataParallel reduces gradients with during backward) on a CUDA parameter, and writes
 * what it saw as JSON to argv[3].
 */
import * as fs from 'node:fs';
import { tensor } from '../../src';
import { allGather, allReduce, allReduceWithGrad, barrier, broadcast, destroyProcessGroup, getRank, getWorldSize, initProcessGroup } from '../../src/distributed';
import { GradientReducer } from '../../src/distributed/reducer';

initProcessGroup({ backend: 'nccl', initMethod: `file://${process.argv[2]}`, timeoutMs: 30_000 });
const r = getRank();
const dev = `cuda:${process.env.LOCAL_RANK ?? 0}`;
const seen: Record<string, { device: string; values: number[] }> = {};
const record = (name: string, t: ReturnType<typeof tensor>): void => {
  seen[name] = { device: t.device, values: Array.from(t.to('cpu').data(), Number) };
};
for (const where of ['cuda', 'cpu'] as const) {
  const on = (values: number[]) => (where === 'cuda' ? tensor(values).to({ device: dev }) : tensor(values));
  const sum = on([r + 1, 10 * (r + 1)]);
  allReduce(sum);
  record(`${where} sum`, sum);
  const avg = on([r + 1]);
  allReduce(avg, { op: 'avg' });
  record(`${where} avg`, avg);
  const max = on([r]);
  allReduce(max, { op: 'max' });
  record(`${where} max`, max);
  // Two tensors travel as one flat bucket.
  const pair = [on([r, 2 * r]), on([3 * r])];
  allReduce(pair);
  record(`${where} bucket 0`, pair[0]);
  record(`${where} bucket 1`, pair[1]);
  const b = on([r + 100, r + 200]);
  broadcast(b, getWorldSize() - 1);
  record(`${where} broadcast`, b);
  allGather(on([r * 2])).forEach((g, i) => record(`${where} gathered ${i}`, g));
  // Differentiable: y = Σ x; the gradient of Σ_ranks (w_r ⊙ y) at x_r is Σ_ranks w (the backward's
  // all-reduce runs on the autograd engine's device thread for CUDA tensors).
  const x = on([r + 1, 2 * (r + 1)]).requiresGrad_(true);
  const y = allReduceWithGrad(x);
  y.mul(on([r + 1, 1])).sum().backward();
  record(`${where} withGrad`, y);
  record(`${where} withGrad grad`, x.grad!);
}
// The gradient of Σ (r + 1)·w is r + 1 on rank r: the reducer leaves the mean over the ranks. Two
// steps: the first reduces one bucket, the second the buckets rebuilt in gradient order.
const w = tensor([1, 2, 3]).to({ device: dev }).requiresGrad_(true);
const reducer = new GradientReducer([w], ['w'], { bucketBytes: 25 * 2 ** 20, findUnusedParameters: false });
const buckets: number[] = [];
for (let step = 0; step < 2; step++) {
  reducer.prepare([], [w]);
  w.mul(r + 1).sum().backward();
  buckets.push(reducer.finish());
  record(`reducer grad ${step}`, w.grad!);
  w.grad = undefined;
}
reducer.close();
barrier();
fs.writeFileSync(process.argv[3], JSON.stringify({ rank: r, worldSize: getWorldSize(), seen, buckets }));
destroyProcessGroup();
