/**
 * One worker of launch.test.ts: joins the group from torchrun's variables alone (env://, a
 * TCPStore at MASTER_ADDR:MASTER_PORT), runs each collective and writes what it saw as JSON to
 * argv[2]/rank<RANK>.json. argv[3] === 'fail-rank-1': rank 1 exits 5 before joining;
 * 'rank-1-exits-in-attempt-0': under torchrun, rank 1 exits 7 after the first collective of the
 * first attempt (TORCHELASTIC_RESTART_COUNT 0), so that a restart rejoins the agent's store.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tensor } from '../../src';
import {
  allGather, allReduce, barrier, DataParallelContext, broadcast, destroyProcessGroup, distributedEnv, getRank, getWorldSize, initProcessGroup,
} from '../../src/distributed';

const env = distributedEnv()!;
if (process.argv[3] === 'fail-rank-1' && env.rank === 1) process.exit(5);
initProcessGroup({ backend: 'gloo', timeoutMs: 20_000 });
const r = getRank();
const sum = tensor([r + 1, 10 * (r + 1)], { dtype: 'float64' });
allReduce(sum);
if (process.argv[3] === 'rank-1-exits-in-attempt-0' && r === 1 && process.env.TORCHELASTIC_RESTART_COUNT === '0') process.exit(7);
const avg = tensor([r + 1], { dtype: 'float64' });
allReduce([avg], { op: 'avg' });
const max = tensor([r]);
allReduce(max, { op: 'max' });
const b = tensor([r + 100, r + 200]);
broadcast(b, 1);
const gathered = allGather(tensor([r * 2]));
const dp = new DataParallelContext(r, getWorldSize());
const evalMeans = dp.reduceEval({ loss: r, top1: r / 10, top5: 1 }, r + 1);
const epoch = { epoch: 1, step: 4, lr: 0.1, trainLoss: r, trainAcc: r / 8, epochSeconds: 9, dataSeconds: r === 1 ? 5 : r };
dp.epochMetricsOverRanks(epoch);
barrier();
// Every variable torch 1.13's elastic agent sets for a worker (local_elastic_agent.py, _start_workers).
const AGENT_VARS = [
  'LOCAL_RANK', 'RANK', 'GROUP_RANK', 'ROLE_RANK', 'ROLE_NAME', 'LOCAL_WORLD_SIZE', 'WORLD_SIZE', 'GROUP_WORLD_SIZE', 'ROLE_WORLD_SIZE',
  'MASTER_ADDR', 'MASTER_PORT', 'TORCHELASTIC_RESTART_COUNT', 'TORCHELASTIC_MAX_RESTARTS', 'TORCHELASTIC_RUN_ID', 'TORCHELASTIC_USE_AGENT_STORE',
  'NCCL_ASYNC_ERROR_HANDLING', 'OMP_NUM_THREADS',
];
fs.writeFileSync(path.join(process.argv[2], `rank${r}.json`), JSON.stringify({
  agentVars: Object.fromEntries(AGENT_VARS.map((k) => [k, process.env[k] ?? null])),
  env, worldSize: getWorldSize(), sum: sum.toArray(), avg: avg.toArray(), max: max.toArray(), b: b.toArray(),
  gathered: gathered.map((g) => g.toArray()), evalMeans, epoch, localBatch: dp.localBatch(12), vars: ['RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'LOCAL_WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT', 'GROUP_RANK', 'TORCHELASTIC_USE_AGENT_STORE', 'TORCHELASTIC_RESTART_COUNT'].map((k) => process.env[k]),
}));
destroyProcessGroup();
