/**
 * A runs directory or report folder that is a file is refused from code naming the argument,
 * before anything is read or written: scanRuns / listRuns / loadRuns threw a bare ENOTDIR from
 * readdir, planSweep planned every run 'new' and runSweep failed each one making its directory,
 * writeReport threw ENOTDIR from its first plot's temporary file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listRuns, loadRuns, planSweep, runSweep, scanRuns, writeReport } from '../../../src/experiments';
import { base, fakeRun, removeDir, tempDir } from './fixtures';
import { parseConfig } from '../../../src/experiments/schema';

let root: string;
let file: string;
beforeEach(() => {
  root = tempDir();
  file = path.join(root, 'not-a-folder');
  fs.writeFileSync(file, 'x');
});
afterEach(() => removeDir(root));

const refusal = (name: string) => expect.objectContaining({
  code: 'ERR_INVALID_ARG', message: expect.stringMatching(new RegExp(`folder.*\\(this is a file\\) for ${name.replace('.', '\\.')} but received '${file.replace(/[/.]/g, '\\$&')}'`)),
});

test('scanRuns, listRuns and loadRuns refuse a runs directory that is a file', () => {
  for (const f of [scanRuns, listRuns, loadRuns]) expect(() => f(file)).toThrow(refusal('runsDir'));
});

test('planSweep and runSweep refuse it before any run starts', async () => {
  const config = parseConfig(base);
  expect(() => planSweep([config], file)).toThrow(refusal('runsDir'));
  const runOne = jest.fn();
  const onEvent = jest.fn();
  await expect(runSweep([config], { runsDir: file, runOne, onEvent })).rejects.toThrow(refusal('options.runsDir'));
  expect(runOne).not.toHaveBeenCalled();
  expect(onEvent).not.toHaveBeenCalled();
});

test('writeReport refuses an output folder that is a file and leaves it as it was', async () => {
  const runs = path.join(root, 'runs');
  fakeRun(runs, { sparsity: 0.9, signin: false, seed: 0, final: 0.8 });
  await expect(writeReport(runs, file, { plots: false })).rejects.toThrow(refusal('outDir'));
  expect(fs.readFileSync(file, 'utf8')).toBe('x');
  expect(fs.readdirSync(root).sort()).toEqual(['not-a-folder', 'runs']);
});
