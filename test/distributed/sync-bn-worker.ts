/**
 * One rank of sync-batchnorm.test.ts. argv[2]: JSON { initMethod, out, ...SyncBnCase }. Every
 * rank draws the same layer and global inputs x and upstream gradients g (syncBnDraws), takes its
 * `split[rank]` rows of x, and runs two training forwards and backwards of the layer, synchronized,
 * on them (the loss is Σ y ⊙ g). Writes the second
 * pass's output and input gradient, the layer's local parameter gradients (summed over both
 * passes) and its running statistics. Also records allReduceWithGrad on a closed form.
 */
import * as fs from 'node:fs';
import { setNumThreads, tensor, type Tensor } from '../../src';
import { allReduceWithGrad, convertSyncBatchNorm, destroyProcessGroup, getRank, initProcessGroup } from '../../src/distributed';
import * as aten from '../../src/tensor/aten';
import { syncBnDraws, type SyncBnCase } from '../helpers/sync-bn-case';

interface Args extends SyncBnCase {
  initMethod: string;
  out: string;
}

const a = JSON.parse(process.argv[2]) as Args;
setNumThreads(1);
initProcessGroup({ backend: 'gloo', initMethod: a.initMethod, timeoutMs: 30_000 });
const rank = getRank();

// y = Σ_ranks x, and the gradient of Σ_ranks (w_r ⊙ y) with respect to x_r is Σ_ranks w.
const xr = tensor([rank + 1, 2 * (rank + 1)], { dtype: 'float64' }).requiresGrad_(true);
const summed = allReduceWithGrad(xr);
summed.mul(tensor([rank + 1, 1], { dtype: 'float64' })).sum().backward();
const closedForm = { y: summed.toArray(), grad: xr.grad!.toArray() };

const { bn, passes } = syncBnDraws(a);
if (convertSyncBatchNorm(bn) !== 1) throw new Error('convertSyncBatchNorm did not convert the one layer');
const lo = a.split.slice(0, rank).reduce((s, n) => s + n, 0);
let last: { y: number[]; grad: number[] } | undefined;
for (const { x, g } of passes) {
  let mine: Tensor = x.narrow(0, lo, a.split[rank]).contiguous();
  if (a.channelsLast) mine = aten.contiguous(mine, 'channels_last');
  mine.requiresGrad_(true);
  const y = bn.forward(mine);
  y.mul(g.narrow(0, lo, a.split[rank])).sum().backward();
  last = { y: y.float().contiguous().toArray(), grad: mine.grad!.float().contiguous().toArray() };
}
fs.writeFileSync(a.out, JSON.stringify({
  rank, closedForm, ...last,
  weightGrad: bn.weight?.grad?.toArray(), biasGrad: bn.bias?.grad?.toArray(),
  runningMean: bn.runningMean!.toArray(), runningVar: bn.runningVar!.toArray(), numBatchesTracked: bn.numBatchesTracked!.item(),
}));
destroyProcessGroup();

