import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { removeStaleTemps, writeFileAtomic, writeJsonAtomic } from '../../../src/atomic';
import { IssuesError } from '../../../src/errors';
import { runDirFor, runPaths } from '../../../src/experiments/paths';
import {
  appendMetrics, createRunDir, epochRanges, isFinished, readConfig, readFinal, readMetrics, truncateMetrics, writeFinal,
} from '../../../src/experiments/runs';
import { listRuns, runStatus } from '../../../src/experiments/run-scan';
import { parseConfig } from '../../../src/experiments/schema';
import { fakeRun, removeDir, tempDir } from './fixtures';

const config = parseConfig({ dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 2 });
const row = (epoch: number) => ({ epoch, step: epoch * 5, trainLoss: 1, trainAcc: 0.5, lr: 0.1, epochSeconds: 1 });

let root: string;
beforeEach(() => { root = tempDir('runs'); });
afterEach(() => removeDir(root));

describe('writeFileAtomic', () => {
  test('writes the content, creates parent folders and leaves no temporary file', () => {
    const file = path.join(root, 'a', 'b', 'x.json');
    writeFileAtomic(file, 'one');
    writeFileAtomic(file, Buffer.from('two'));
    expect(fs.readFileSync(file, 'utf8')).toBe('two');
    expect(fs.readdirSync(path.dirname(file))).toEqual(['x.json']);
    writeJsonAtomic(file, { a: 1 });
    expect(fs.readFileSync(file, 'utf8')).toBe('{\n  "a": 1\n}\n');
  });

  test('a failed rename leaves the target untouched and removes the temporary file', () => {
    const dir = path.join(root, 'target-is-dir');
    fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'sub', 'keep'), 'k');
    expect(() => writeFileAtomic(path.join(dir, 'sub'), 'x')).toThrow();
    expect(fs.readdirSync(dir)).toEqual(['sub']);
  });
});

describe('previous versions and stale temporary files', () => {
  test('with previous, the replaced content is kept there; the new one is in place', () => {
    const file = path.join(root, 'ckpt');
    const prev = path.join(root, 'ckpt.prev');
    writeFileAtomic(file, 'one', { previous: prev });
    expect(fs.existsSync(prev)).toBe(false);
    writeFileAtomic(file, 'two', { previous: prev });
    writeFileAtomic(file, 'three', { previous: prev });
    expect([fs.readFileSync(file, 'utf8'), fs.readFileSync(prev, 'utf8')]).toEqual(['three', 'two']);
    expect(fs.readdirSync(root).sort()).toEqual(['ckpt', 'ckpt.prev']);
  });

  test('removeStaleTemps removes the temporary files of dead writers only', () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    const name = (pid: number) => `.checkpoint.safetensors.${pid}.k3j9x0ab.tmp`;
    for (const f of [name(deadPid), name(process.pid), name(process.ppid), 'keep.tmp', '.x.12.y.tmpz']) fs.writeFileSync(path.join(root, f), 'x');
    expect(removeStaleTemps(root)).toEqual([path.join(root, name(deadPid))]);
    expect(fs.readdirSync(root).sort()).toEqual([name(process.pid), name(process.ppid), '.x.12.y.tmpz', 'keep.tmp'].sort());
    expect(removeStaleTemps(path.join(root, 'missing'))).toEqual([]);
  });
});

describe('createRunDir', () => {
  test('creates <runs>/<prefix>_<hash>/config.json with the full config; reopening is fine', () => {
    const a = createRunDir(root, config);
    expect(a.created).toBe(true);
    expect(a.dir).toBe(runDirFor(root, config));
    expect(JSON.parse(fs.readFileSync(a.paths.config, 'utf8'))).toEqual(config);
    expect(readConfig(a.dir)).toEqual(config);
    const b = createRunDir(root, parseConfig({ ...config, device: 'cpu' }));
    expect(b.created).toBe(false);
    expect(b.dir).toBe(a.dir);
  });

  test('refuses a directory whose config.json hashes differently', () => {
    const { dir } = createRunDir(root, config);
    fs.writeFileSync(runPaths(dir).config, JSON.stringify({ ...config, seed: 7 }));
    expect(() => createRunDir(root, config)).toThrow(IssuesError);
    expect(() => createRunDir(root, config)).toThrow(/holds a different config/);
  });

  test('the refusal names each field that differs and what to do; after a default changed, doing it reopens the run', () => {
    const { dir } = createRunDir(root, config);
    // The run started when momentum's default was 0.95: config.json holds it, the config given (the default now) 0.9.
    const trained = { ...config, optimizer: { ...config.optimizer, momentum: 0.95 }, seed: 7 };
    fs.writeFileSync(runPaths(dir).config, JSON.stringify(trained));
    const storedDir = runDirFor(root, parseConfig(trained));
    expect(storedDir).not.toBe(dir);
    let err: { code?: string; issues?: unknown[]; message?: string } = {};
    try {
      createRunDir(root, config);
    } catch (e) {
      err = e as typeof err;
    }
    const file = runPaths(dir).config;
    expect(err.code).toBe('ERR_CONFIG');
    expect(err.message!.split('\n')[0]).toBe(`Run directory ${dir} holds a different config: ${file} hashes to ${path.basename(storedDir).slice(6)}, the config given to ${path.basename(dir).slice(6)}. `
      + 'If config.json was edited, restore these fields; if their defaults changed since the run started, the run trained with config.json\'s values: '
      + `to go on with it, move the directory to ${storedDir} and train with --config ${runPaths(storedDir).config}:`);
    expect(err.issues).toEqual([
      { code: 'hash_mismatch', path: 'optimizer.momentum', message: '0.95 in config.json, 0.9 in the config given' },
      { code: 'hash_mismatch', path: 'seed', message: '7 in config.json, 0 in the config given' },
    ]);
    fs.renameSync(dir, storedDir);
    const reopened = createRunDir(root, parseConfig(JSON.parse(fs.readFileSync(runPaths(storedDir).config, 'utf8'))));
    expect({ dir: reopened.dir, created: reopened.created }).toEqual({ dir: storedDir, created: false });
  });

  test('readConfig names the file when it is invalid', () => {
    const { dir } = createRunDir(root, config);
    fs.writeFileSync(runPaths(dir).config, JSON.stringify({ ...config, epochs: 0 }));
    expect(() => readConfig(dir)).toThrow(/Invalid experiment config in .*config\.json \(1 issue\):\n\tepochs: Expected a number >= 1/);
  });
});

describe('metrics.jsonl', () => {
  test('append and read back; a missing file is []', () => {
    const { dir } = createRunDir(root, config);
    expect(readMetrics(dir)).toEqual([]);
    appendMetrics(dir, row(1));
    appendMetrics(dir, { ...row(2), testAcc: 0.9, extra: 'kept' });
    expect(readMetrics(dir)).toEqual([row(1), { ...row(2), testAcc: 0.9, extra: 'kept' }]);
  });

  test('a torn last line is skipped; a bad line elsewhere is an error naming it', () => {
    const { dir } = createRunDir(root, config);
    const file = runPaths(dir).metrics;
    fs.writeFileSync(file, `${JSON.stringify(row(1))}\n{"epoch":2,"ste`);
    expect(readMetrics(dir)).toEqual([row(1)]);
    fs.writeFileSync(file, `${JSON.stringify(row(1))}\nnot json\n${JSON.stringify(row(3))}\n{"epoch":"x"}\n`);
    let err: IssuesError | undefined;
    try { readMetrics(dir); } catch (e) { err = e as IssuesError; }
    expect(err?.code).toBe('ERR_CONFIG');
    expect(err?.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['line 2', expect.stringMatching(/^line 4: /)]));
  });

  test('NaN and ±Infinity survive the round trip (written as the strings "NaN", "Infinity", "-Infinity"), a resume\'s truncation included', () => {
    const { dir } = createRunDir(root, config);
    const diverged = { ...row(1), trainLoss: NaN, testLoss: Infinity, meanBeta: -Infinity, topHessianEigenvalue: NaN };
    appendMetrics(dir, diverged);
    appendMetrics(dir, row(2));
    const [line] = fs.readFileSync(runPaths(dir).metrics, 'utf8').split('\n');
    expect(JSON.parse(line)).toMatchObject({ trainLoss: 'NaN', testLoss: 'Infinity', meanBeta: '-Infinity', topHessianEigenvalue: 'NaN' });
    expect(readMetrics(dir)).toEqual([diverged, row(2)]);
    truncateMetrics(dir, 1);
    expect(readMetrics(dir)).toEqual([diverged]);
    writeFinal(dir, { epoch: 1, step: 5, testAcc: 0.1, testLoss: NaN, trainLoss: -Infinity });
    expect(JSON.parse(fs.readFileSync(runPaths(dir).final, 'utf8'))).toMatchObject({ testLoss: 'NaN', trainLoss: '-Infinity' });
    expect(readFinal(dir)).toMatchObject({ epoch: 1, testAcc: 0.1, testLoss: NaN, trainLoss: -Infinity });
  });

  test('truncateMetrics drops rows after a checkpoint epoch and names the epochs before it that have no row', () => {
    const { dir } = createRunDir(root, config);
    for (const e of [1, 2, 3]) appendMetrics(dir, row(e));
    expect(truncateMetrics(dir, 2)).toEqual([]);
    expect(readMetrics(dir).map((r) => r.epoch)).toEqual([1, 2]);
    // The last row cut short (as a kill inside the write, or a file cut by hand, leaves it).
    const file = runPaths(dir).metrics;
    fs.truncateSync(file, fs.statSync(file).size - 30);
    expect(truncateMetrics(dir, 3)).toEqual([2, 3]);
    expect(fs.readFileSync(file, 'utf8')).toBe(`${JSON.stringify(row(1))}\n`);
    fs.rmSync(file);
    expect(truncateMetrics(dir, 4)).toEqual([1, 2, 3, 4]);
    expect(fs.existsSync(file)).toBe(false);
    expect(truncateMetrics(dir, 0)).toEqual([]);
  });

  test('epochRanges joins consecutive epochs', () => {
    expect(epochRanges([2])).toBe('2');
    expect(epochRanges([1, 2, 3, 5, 7, 8])).toBe('1–3, 5, 7–8');
    expect(epochRanges([])).toBe('');
  });
});

describe('final.json and status', () => {
  test('isFinished and runStatus follow the files', () => {
    const { dir } = createRunDir(root, config);
    expect(runStatus(dir)).toBe('new');
    appendMetrics(dir, row(1));
    expect(runStatus(dir)).toBe('started');
    expect(isFinished(dir)).toBe(false);
    expect(readFinal(dir)).toBeUndefined();
    writeFinal(dir, { epoch: 2, step: 10, testAcc: 0.91 });
    expect(isFinished(dir)).toBe(true);
    expect(runStatus(dir)).toBe('finished');
    expect(readFinal(dir)).toMatchObject({ epoch: 2, step: 10, testAcc: 0.91, finishedAt: expect.any(String) });
  });

  test('an invalid final.json is an error', () => {
    const { dir } = createRunDir(root, config);
    fs.writeFileSync(runPaths(dir).final, JSON.stringify({ epoch: 2, step: 1, testAcc: 91 }));
    expect(() => readFinal(dir)).toThrow(/Invalid .*final\.json:\n\ttestAcc: /);
  });
});

describe('listRuns', () => {
  test('lists run directories with config and status, ignores everything else', () => {
    const a = fakeRun(root, { sparsity: 0.9, signin: false, seed: 0, final: 0.8 });
    const b = fakeRun(root, { sparsity: 0.9, signin: true, seed: 0 });
    fs.mkdirSync(path.join(root, 'report'));
    fs.writeFileSync(path.join(root, 'notes.txt'), 'x');
    const runs = listRuns(root);
    expect(runs.map((r) => r.dir).sort()).toEqual([a.dir, b.dir].sort());
    expect(runs.find((r) => r.dir === a.dir)).toMatchObject({ status: 'finished', config: a.config });
    expect(runs.find((r) => r.dir === b.dir)?.status).toBe('started');
    expect(listRuns(path.join(root, 'missing'))).toEqual([]);
  });

  test('an unreadable run directory is skipped, or reported with strict', () => {
    fakeRun(root, { sparsity: 0.9, signin: false, seed: 0, final: 0.8 });
    const bad = path.join(root, `train_${'0'.repeat(32)}`);
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'config.json'), '{"epochs": 0}');
    const { setLogger } = jest.requireActual('../../../src/logger') as typeof import('../../../src/logger');
    const pino = jest.requireActual('pino') as typeof import('pino');
    setLogger(pino.default({ level: 'silent' }));
    expect(listRuns(root)).toHaveLength(1);
    expect(() => listRuns(root, { strict: true })).toThrow(new RegExp(`Unreadable run directories in .*:\\n\\ttrain_0{32}: config\\.json: dataset: Required`));
  });
});
