/**
 * A config or run record replaced by something huge (a sparse 1 GiB file here: no disk) is refused
 * before it is read, naming the file, its size and the limit: read whole, each took seconds and a
 * gigabyte of memory. `list runs` shows such a run as corrupt or failed with that reason.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CliDeps } from '../../../src/cli';
import { readLock } from '../../../src/experiments/lock';
import { runPaths } from '../../../src/experiments/paths';
import { readTransferRecord } from '../../../src/experiments/runs';
import { runState } from '../../../src/experiments/run-scan';
import { MAX_QUOTED_CHARS } from '../../../src/quote';
import { bytesRead, SMALL_READ_BYTES } from '../../helpers/bytes-read';
import { cli } from '../../helpers/cli';
import { fakeRun, removeDir, tempDir } from './fixtures';

const GiB = 2 ** 30;
const tooLarge = (file: string) => `Expected a config or record file of at most 64 MiB (67108864 bytes), but it is 1024 MiB (1073741824 bytes): ${file}`;

let root: string;
beforeEach(() => { root = tempDir('oversized'); });
afterEach(() => removeDir(root));

function sparse(file: string): string {
  fs.writeFileSync(file, '');
  fs.truncateSync(file, GiB);
  return file;
}

/** `fn`'s result, checked to have read far less than the 1 GiB file (bytesRead: load-independent). */
async function cheaply<T>(fn: () => T | Promise<T>): Promise<T> {
  const before = bytesRead();
  const out = await fn();
  expect(bytesRead() - before).toBeLessThan(SMALL_READ_BYTES);
  return out;
}

const noTrainer: CliDeps = { loadTrainer: () => ({ trainFromConfig: async () => { throw new Error('not to be trained'); } }) };

test('a config file given to train --config or sweep --grid', async () => {
  const file = sparse(path.join(root, 'config.json'));
  const train = await cheaply(() => cli(['train', '--config', file, '--runs-dir', root], noTrainer));
  expect(train).toMatchObject({ code: 1, err: `ERR_CONFIG: Cannot read config ${file}: ${tooLarge(file)}\n` });
  const sweep = await cheaply(() => cli(['sweep', '--grid', file, '--runs-dir', root], noTrainer));
  expect(sweep).toMatchObject({ code: 1, err: `ERR_CONFIG: Cannot read sweep file ${file}: ${tooLarge(file)}\n` });
});

test("a run's config.json: list runs shows the run corrupt with the reason", async () => {
  const { dir } = fakeRun(root, { sparsity: 0.9, signin: false, seed: 0 });
  sparse(runPaths(dir).config);
  const listed = await cheaply(() => cli(['list', 'runs', '--runs-dir', root, '--json']));
  expect(JSON.parse(listed.out)).toEqual([{ run: path.basename(dir), status: 'corrupt', problems: [`config.json cannot be read (${tooLarge(runPaths(dir).config)})`] }]);
});

test("a run's final.json: corrupt with the reason", async () => {
  const { dir } = fakeRun(root, { sparsity: 0.9, signin: false, seed: 0, final: 0.8 });
  sparse(runPaths(dir).final);
  const listed = await cheaply(() => cli(['list', 'runs', '--runs-dir', root, '--json']));
  expect(JSON.parse(listed.out)).toEqual([{ run: path.basename(dir), status: 'corrupt', problems: [`final.json cannot be read (${tooLarge(runPaths(dir).final)})`] }]);
});

test("a run's metrics.jsonl (a 90-epoch ImageNet run writes about 250 KB): corrupt with the reason", async () => {
  const { dir } = fakeRun(root, { sparsity: 0.9, signin: false, seed: 0, final: 0.8 });
  sparse(runPaths(dir).metrics);
  const listed = await cheaply(() => cli(['list', 'runs', '--runs-dir', root, '--json']));
  expect(JSON.parse(listed.out)).toEqual([{ run: path.basename(dir), status: 'corrupt', problems: [`metrics.jsonl cannot be read (${tooLarge(runPaths(dir).metrics)})`] }]);
});

test("a run's failed.json: list runs shows the run failed with the reason", async () => {
  const { dir } = fakeRun(root, { sparsity: 0.9, signin: false, seed: 0 });
  sparse(runPaths(dir).failed);
  // The message is bounded (run-scan.ts): a long runs-dir path is cut at its end, the sizes kept.
  const message = tooLarge(runPaths(dir).failed);
  const shown = `failed.json does not read (${message.length <= MAX_QUOTED_CHARS ? message : `${message.slice(0, MAX_QUOTED_CHARS)}… (${message.length} characters)`})`;
  expect(await cheaply(() => runState(dir))).toEqual({ state: 'failed', reason: shown });
  const listed = await cheaply(() => cli(['list', 'runs', '--runs-dir', root]));
  expect(listed.code).toBe(0);
  expect(listed.out).toContain(`${path.basename(dir)} failed: ${shown}\n`);
});

test('run.lock and transfer.json, read for what they may add, are no holder and no record', async () => {
  const { dir } = fakeRun(root, { sparsity: 0.9, signin: false, seed: 0 });
  sparse(runPaths(dir).lock);
  sparse(runPaths(dir).transfer);
  expect(await cheaply(() => readLock(dir))).toBeUndefined();
  expect(await cheaply(() => readTransferRecord(dir))).toBeUndefined();
});
