/**
 * One rank of the loopback DDP tests (run with tsx by ddp.test.ts). Trains ToyNet (BatchNorm in
 * eval mode; in training mode with `train`, synchronized over the ranks with `syncBn`) on a fixed
 * synthetic data set: each global batch of B rows is split into WORLD_SIZE contiguous shards.
 * Every rank draws its own initial weights and masks (seed + rank), so only DDP's broadcast from
 * rank 0 makes them agree. Writes the final state dict as JSON.
 *
 * argv[2]: JSON { mode: 'plain' | 'signin', steps, batch, initMethod, out, dieAtStep?, timeoutMs?,
 * backend? ('gloo' default), cuda? (train on cuda:LOCAL_RANK; test/cuda/nccl.test.ts), train?,
 * syncBn?, broadcastBuffers?, overlap?, bucketBytes?, findUnusedParameters? (DDP's options),
 * unused? (the model has a Linear that forward never uses), moveAfterWrap? (to('float32') after
 * wrapping, which replaces every parameter), accum? (each rank's shard in this many micro-batches,
 * all but the last under ddp.noSync; the backwards DDP armed are counted as `prepares`) }
 */
import * as fs from 'node:fs';
import {
  applySignIn, F, manualSeed, pruneModel, randint, randn, resetSignIn, setAllowTF32, setNumThreads, SGD, tidy, Generator,
} from '../../src';
import { convertSyncBatchNorm, DistributedDataParallel, destroyProcessGroup, initProcessGroup, type Backend } from '../../src/distributed';
import { Linear } from '../../src/nn';
import { ToyNet } from '../helpers/toy-model';

/** ToyNet with a trainable layer that forward never reaches (DDP's find_unused_parameters case). */
class ToyNetWithUnused extends ToyNet {
  readonly unused = this.registerModule('unused', new Linear(4, 4));
}

interface Args {
  mode: 'plain' | 'signin';
  steps: number;
  batch: number;
  initMethod: string;
  out: string;
  dieAtStep?: number;
  timeoutMs?: number;
  backend?: Backend;
  cuda?: boolean;
  train?: boolean;
  syncBn?: boolean;
  broadcastBuffers?: boolean;
  overlap?: boolean;
  bucketBytes?: number;
  findUnusedParameters?: boolean;
  unused?: boolean;
  moveAfterWrap?: boolean;
  accum?: number;
}

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2]) as Args;
  const rank = Number(process.env.RANK);
  const world = Number(process.env.WORLD_SIZE);
  setNumThreads(1);
  const device = a.cuda ? `cuda:${process.env.LOCAL_RANK ?? 0}` : 'cpu';
  // float32 against the CPU reference: no TF32 convolutions.
  if (a.cuda) setAllowTF32(false);
  initProcessGroup({ backend: a.backend ?? 'gloo', initMethod: a.initMethod, timeoutMs: a.timeoutMs ?? 30_000 });
  manualSeed(100 + rank);
  const model = a.unused ? new ToyNetWithUnused({ width: 4 }) : new ToyNet({ width: 4 });
  await pruneModel(model, { method: 'random', sparsity: 0.5 });
  if (a.mode === 'signin') applySignIn(model, { beta: 1 });
  model.train(a.train === true || a.syncBn === true);
  if (a.syncBn) convertSyncBatchNorm(model);
  if (a.cuda) model.to(device);
  const ddp = new DistributedDataParallel(model, {
    broadcastBuffers: a.broadcastBuffers ?? true, overlap: a.overlap, bucketBytes: a.bucketBytes, findUnusedParameters: a.findUnusedParameters,
  });
  if (a.moveAfterWrap) model.to('float32');
  const opt = SGD.forModel(model, { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });

  const initial = model.stateDict().get('conv2.weight')!.to('cpu').toArray();
  const gen = new Generator(7);
  const x = randn([a.steps * a.batch, 1, 8, 8], { generator: gen }).to({ device });
  const y = randint(0, 10, [a.steps * a.batch], { generator: gen }).to({ device });
  let prepares = 0;
  const prepare = ddp.prepareBackward.bind(ddp);
  ddp.prepareBackward = (out) => { prepares++; prepare(out); };
  const local = a.batch / world;
  const parts = a.accum ?? 1;
  const micro = local / parts;
  for (let s = 0; s < a.steps; s++) {
    if (a.dieAtStep === s && rank === world - 1) process.kill(process.pid, 'SIGKILL');
    tidy(() => {
      for (let i = 0; i < parts; i++) {
        const lo = s * a.batch + rank * local + i * micro;
        const backward = () => F.crossEntropy(ddp.forward(x.narrow(0, lo, micro)), y.narrow(0, lo, micro)).mul(1 / parts).backward();
        if (i < parts - 1) ddp.noSync(backward);
        else backward();
      }
      ddp.syncGradients();
      opt.step();
    });
    opt.zeroGrad();
    if (a.mode === 'signin' && s === Math.floor(a.steps / 2)) resetSignIn(model);
  }
  const state: Record<string, number[]> = {};
  for (const [k, t] of model.stateDict()) state[k] = Array.from(t.to('cpu').data(), Number);
  fs.writeFileSync(a.out, JSON.stringify({ rank, world, state, initial, syncs: ddp.stats.syncs, buckets: ddp.stats.buckets, prepares }));
  destroyProcessGroup();
}

main().catch((e: Error & { code?: string }) => {
  process.stderr.write(`rank ${process.env.RANK} failed: ${e.code ?? ''} ${e.message}\n`);
  process.exit(3);
});
