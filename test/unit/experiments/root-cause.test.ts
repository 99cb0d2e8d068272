/**
 * failed.json's rootCause (src/experiments/root-cause.ts) as `list runs` reads it: rank 0's own
 * error kept after the rank that failed first; written alone when rank 0 left none (then an
 * interrupted.json from the launcher's stop goes, and the run reads as failed); a folder that is
 * not a run is left alone.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRunDir, parseConfig } from '../../../src/experiments';
import { recordRootCause } from '../../../src/experiments/root-cause';
import { runState } from '../../../src/experiments/run-scan';
import { tmpDir } from '../../helpers/data-fixtures';

const root = tmpDir('signin-root-cause-unit-');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const cause = { rank: 1, localRank: 1, host: 'h', exitCode: 1, code: 'ERR_DATASET', message: 'rank 1 cannot read\nits shard' };
const newRun = (seed: number) => createRunDir(root, parseConfig({ dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1, seed })).dir;

it("keeps rank 0's error and leads with the rank that failed first", () => {
  const dir = newRun(1);
  fs.writeFileSync(path.join(dir, 'failed.json'), JSON.stringify({ code: 'ERR_DISTRIBUTED', message: 'allReduce: peer reset' }));
  expect(recordRootCause(dir, cause)).toBe(true);
  expect(JSON.parse(fs.readFileSync(path.join(dir, 'failed.json'), 'utf8'))).toEqual({ code: 'ERR_DISTRIBUTED', message: 'allReduce: peer reset', rootCause: cause });
  expect(runState(dir)).toEqual({ state: 'failed', reason: 'rank 1 failed first: ERR_DATASET: rank 1 cannot read; its shard; rank 0: ERR_DISTRIBUTED: allReduce: peer reset' });
});

it("without rank 0's error: the root cause alone; the launcher's interrupted.json goes", () => {
  const dir = newRun(2);
  fs.writeFileSync(path.join(dir, 'interrupted.json'), JSON.stringify({ epoch: 1, step: 3, reason: 'SIGTERM' }));
  expect(runState(dir).state).toBe('interrupted');
  const { code: _, ...uncoded } = cause;
  expect(recordRootCause(dir, { ...uncoded, exitCode: 137, message: 'killed by SIGKILL' })).toBe(true);
  expect(fs.existsSync(path.join(dir, 'interrupted.json'))).toBe(false);
  expect(runState(dir)).toEqual({ state: 'failed', reason: 'rank 1 failed first: error: killed by SIGKILL' });
});

it('rank 0 as the root cause reads as its own error once; a folder that is not a run is left alone', () => {
  const dir = newRun(3);
  fs.writeFileSync(path.join(dir, 'failed.json'), JSON.stringify({ code: 'ERR_CONFIG', message: 'bad' }));
  recordRootCause(dir, { ...cause, rank: 0, localRank: 0, code: 'ERR_CONFIG', message: 'bad' });
  expect(runState(dir)).toEqual({ state: 'failed', reason: 'ERR_CONFIG: bad' });
  const empty = path.join(root, 'not-a-run');
  fs.mkdirSync(empty);
  expect(recordRootCause(empty, cause)).toBe(false);
  expect(fs.readdirSync(empty)).toEqual([]);
});

// Found by the file fuzz: String() of a message nested 20000 deep overflowed the stack, and the
// run's reason read "Maximum call stack size exceeded"; rewriting such a record overflowed too.
describe('a failed.json nested 20000 deep', () => {
  const deep = `${'['.repeat(20000)}"x"${']'.repeat(20000)}`;
  const tooDeep = 'arrays and objects nest more than 64 levels deep (a record nests 3)';

  it('is refused with the reason of the other records', () => {
    const dir = newRun(4);
    fs.writeFileSync(path.join(dir, 'failed.json'), `{"code": "ERR_CONFIG", "message": ${deep}}`);
    expect(runState(dir)).toEqual({ state: 'failed', reason: `failed.json does not read (${tooDeep})` });
  });

  it('is replaced by the root cause alone', () => {
    const dir = newRun(5);
    fs.writeFileSync(path.join(dir, 'failed.json'), `{"code": "ERR_CONFIG", "message": ${deep}}`);
    expect(recordRootCause(dir, cause)).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'failed.json'), 'utf8'))).toEqual({ rootCause: cause });
  });
});
