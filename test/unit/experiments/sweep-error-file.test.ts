/**
 * A sweep under a supervisor that sets TORCHELASTIC_ERROR_FILE (torchrun, `--nproc`'s launcher, a
 * Slurm wrapper): when a run fails, the sweep exits 1 and writes the first failure there in
 * torch's format, read back by PyTorch's own reader (ProcessFailure); a sweep whose runs all
 * finish writes nothing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CliDeps } from '../../../src/cli';
import { sweepFailure } from '../../../src/cli/sweep-failure';
import { ERROR_FILE_ENV, recordErrorFile, workerFailure } from '../../../src/distributed/error-file';
import { ToolkitError } from '../../../src/errors';
import { runDirFor } from '../../../src/experiments/paths';
import { writeFinal } from '../../../src/experiments/runs';
import { parseConfig } from '../../../src/experiments/schema';
import { cli } from '../../helpers/cli';
import { describePytorch, runPythonJson } from '../../helpers/pytorch';
import { removeDir, tempDir } from './fixtures';

let root: string;
beforeEach(() => { root = tempDir('sweep-error-file'); });
afterEach(() => {
  delete process.env[ERROR_FILE_ENV];
  removeDir(root);
});

const base = { dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1 };

/** Odd seeds' configs are refused by the trainer once they run (as a model option the data contradicts is); even seeds finish. */
const trainer: CliDeps = {
  loadTrainer: () => ({
    trainFromConfig: async (config, runDir) => {
      if (config.seed % 2 === 1) throw new ToolkitError('ERR_CONFIG', `Invalid config (seed ${config.seed}): model.options.inChannels: 3 but mnist images have 1 channel`);
      writeFinal(runDir, { epoch: 1, step: 1, testAcc: 0.5 });
    },
  }),
};

async function sweep(seeds: number[]): Promise<{ code: number; err: string; errorFile: string }> {
  const grid = path.join(root, 'grid.json');
  fs.writeFileSync(grid, JSON.stringify({ base, seeds }));
  const errorFile = path.join(root, `error-${seeds.join('-')}.json`);
  process.env[ERROR_FILE_ENV] = errorFile;
  const r = await cli(['sweep', '--grid', grid, '--runs-dir', root], trainer);
  return { ...r, errorFile };
}

describePytorch('sweep with TORCHELASTIC_ERROR_FILE', () => {
  it('2 of 3 runs fail: exit 1, and the error file names the first to fail and its error, as torch reads it', async () => {
    const r = await sweep([0, 1, 3]);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n').pop()).toBe('sweep: 1 done, 0 skipped, 2 failed of 3');
    const failedDir = runDirFor(root, parseConfig({ ...base, seed: 1 }));
    const expected = `ERR_CONFIG: sweep run ${failedDir} failed: Invalid config (seed 1): model.options.inChannels: 3 but mnist images have 1 channel`;
    // torch 1.13 keeps the nested form whole as ProcessFailure.message; its agent prints it through ChildFailedError.
    const read = runPythonJson<{ message: string; timestamp: number; report: string }>(`
import json, sys
from torch.distributed.elastic.multiprocessing.errors import ChildFailedError, ProcessFailure
f = ProcessFailure(local_rank=0, pid=1, exitcode=1, error_file=json.load(sys.stdin))
print(json.dumps({'message': f.message['message'], 'timestamp': f.timestamp, 'report': ChildFailedError('signin-torch sweep', {0: f}).format_msg()}))
`, r.errorFile);
    expect(read.message).toBe(expected);
    expect(read.report).toContain(`traceback : ${expected}\n`);
    expect(Math.abs(read.timestamp - Date.now() / 1000)).toBeLessThan(60);
    // Our launcher, over a sweep as its worker, takes the code apart from the message.
    expect(workerFailure({ rank: 0, localRank: 0, exitCode: 1, exitMs: 0, errorFile: r.errorFile })).toMatchObject({ code: 'ERR_CONFIG', message: expected.slice('ERR_CONFIG: '.length) });
  });

  it('both runs finish: exit 0, no error file', async () => {
    const r = await sweep([0, 2]);
    expect(r.code).toBe(0);
    expect(fs.existsSync(r.errorFile)).toBe(false);
  });
});

it("a child that wrote no error file of its own (killed) has no code: the error file has its exit and log's end as the message, that again as the traceback, not the CLI's stack", () => {
  const file = path.join(root, 'child.json');
  recordErrorFile(sweepFailure({ runDir: '/runs/train_a', error: 'exited with code 1: ERR_DATASET: no mnist' }), { [ERROR_FILE_ENV]: file });
  const line = 'Error: sweep run /runs/train_a failed: exited with code 1: ERR_DATASET: no mnist';
  expect(JSON.parse(fs.readFileSync(file, 'utf8')).message).toMatchObject({ message: line, extraInfo: { py_callstack: line } });
});
