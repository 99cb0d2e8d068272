/**
 * `train --nproc` after a failed launch (the launcher stubbed): the summary of the root cause, the
 * launch's exit code, and failed.json's rootCause, written on node 0 only, and with several nodes
 * not when it is an ERR_DISTRIBUTED (there possibly another node's failure echoed).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CliDeps } from '../../src/cli';
import type { LaunchOptions, LaunchResult } from '../../src/distributed/launch';
import type { WorkerFailure } from '../../src/distributed/error-file';
import { runPaths } from '../../src/experiments/paths';
import { createRunDir } from '../../src/experiments/runs';
import { parseConfig } from '../../src/experiments/schema';
import { cli } from '../helpers/cli';
import { tmpDir } from '../helpers/data-fixtures';

const root = tmpDir('signin-cli-root-cause-');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const args = ['--dataset', 'mnist', '--model', 'lenet5', '--epochs', '1', '--seed'];
const failure = (rank: number, code: string, message: string, exitCode = 1): WorkerFailure => ({ rank, localRank: rank % 2, host: 'h', exitCode, code, message, timeMs: 0 });

/** A launch whose rank 0 made the run and recorded its echo, then failed as `result` says. */
function failing(runsDir: string, seed: number, result: LaunchResult): CliDeps {
  return {
    loadTrainer: () => ({ trainFromConfig: async () => undefined }),
    launch: async (_o: LaunchOptions) => {
      const dir = createRunDir(runsDir, parseConfig({ dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1, seed })).dir;
      fs.writeFileSync(runPaths(dir).failed, JSON.stringify({ code: 'ERR_DISTRIBUTED', message: 'allReduce: peer reset' }));
      return result;
    },
  };
}

const failedJson = (runsDir: string) => {
  const [name] = fs.readdirSync(runsDir);
  return JSON.parse(fs.readFileSync(path.join(runsDir, name, 'failed.json'), 'utf8'));
};

it("one node: the root cause's summary and exit code; failed.json keeps rank 0's error and adds the root cause", async () => {
  const runs = path.join(root, 'one');
  const rootCause = failure(1, 'ERR_DATASET', 'rank 1 cannot read its shard', 3);
  const r = await cli(['train', ...args, '1', '--runs-dir', runs, '--nproc', '2'], failing(runs, 1, { exitCode: 3, codes: [1, 3], rootCause, otherFailures: [failure(0, 'ERR_DISTRIBUTED', 'allReduce: peer reset')] }));
  expect(r.code).toBe(3);
  expect(r.err).toBe('root cause: rank 1 (local rank 1, host h) failed first, exit code 3: ERR_DATASET: rank 1 cannot read its shard\n'
    + '  also failed: rank 0 (local rank 0), exit code 1: ERR_DISTRIBUTED: allReduce: peer reset\n');
  expect(failedJson(runs)).toEqual({ code: 'ERR_DISTRIBUTED', message: 'allReduce: peer reset', rootCause: { rank: 1, localRank: 1, host: 'h', exitCode: 3, code: 'ERR_DATASET', message: 'rank 1 cannot read its shard' } });
});

it("several nodes: node 0 records no ERR_DISTRIBUTED root cause, another node's launcher records nothing; both say they see their node only", async () => {
  const multi = ['--nnodes', '2', '--master-addr', '127.0.0.1', '--master-port', '29999'];
  const node0 = path.join(root, 'node0');
  const r0 = await cli(['train', ...args, '2', '--runs-dir', node0, '--nproc', '2', ...multi, '--node-rank', '0'], failing(node0, 2, { exitCode: 1, codes: [1, 1], rootCause: failure(0, 'ERR_DISTRIBUTED', 'allReduce: peer reset') }));
  expect(r0.code).toBe(1);
  expect(r0.err).toContain("(this node's workers only: a failure on another node is in that node's launcher's summary)\n");
  expect(failedJson(node0)).toEqual({ code: 'ERR_DISTRIBUTED', message: 'allReduce: peer reset' });
  const node1 = path.join(root, 'node1');
  const r1 = await cli(['train', ...args, '3', '--runs-dir', node1, '--nproc', '2', ...multi, '--node-rank', '1'], failing(node1, 3, { exitCode: 1, codes: [1, 1], rootCause: failure(3, 'ERR_DATASET', 'rank 3 cannot read its shard') }));
  expect(r1.err).toMatch(/^root cause: rank 3 .*ERR_DATASET: rank 3 cannot read its shard\n/);
  expect(failedJson(node1).rootCause).toBeUndefined();
});
