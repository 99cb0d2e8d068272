/**
 * A transfer run's identity is its source's (the source run's config hash, transfer.sourceHash),
 * not the path string that reaches it; a source that cannot be found is refused when the config
 * is resolved (CLI train/sweep, planSweep, createRunDir), before any run directory exists.
 * Source runs here are run directories with a config.json only: nothing is trained.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli, type CliDeps } from '../../src/cli';
import { configHash, createRunDir, planSweep, readConfig, resolveTransfer, runDirFor, type ExperimentConfig } from '../../src/experiments';
import { parseConfig } from '../../src/experiments/schema';
import { writeFinal } from '../../src/experiments/runs';
import { errorOf } from '../helpers/error-of';
import { removeDir, tempDir } from '../unit/experiments/fixtures';

const base = {
  dataset: { name: 'fashion_mnist' as const },
  model: { name: 'lenet5' },
  epochs: 3,
};

let root: string;
let runsDir: string;
let source: { dir: string; config: ExperimentConfig };
let other: { dir: string; config: ExperimentConfig };

beforeEach(() => {
  root = tempDir('transfer-identity');
  runsDir = path.join(root, 'sources');
  const make = (seed: number) => {
    const config = parseConfig({ ...base, sparsify: { method: 'rigl', sparsity: 0.9 }, seed });
    return { dir: createRunDir(runsDir, config).dir, config };
  };
  source = make(0);
  other = make(1);
});
afterEach(() => removeDir(root));

const target = (transfer: Record<string, unknown>, extra: Record<string, unknown> = {}) => parseConfig({ ...base, transfer, seed: 10, ...extra });
const runDirsUnder = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.startsWith('train_')) : []);

describe('the hash of a transfer config', () => {
  test('is the same for a source written relative, absolute, or reached from a moved runs directory', () => {
    const relative = resolveTransfer(target({ from: path.basename(source.dir), kind: 'signs' }), runsDir);
    const absolute = resolveTransfer(target({ from: source.dir, kind: 'signs' }), '/nowhere');
    const dotted = resolveTransfer(target({ from: `../sources/./${path.basename(source.dir)}`, kind: 'signs' }), path.join(root, 'targets'));
    // The runs directory moved: the source now sits under another root.
    const moved = path.join(root, 'moved');
    fs.cpSync(runsDir, moved, { recursive: true });
    const afterMove = resolveTransfer(target({ from: path.basename(source.dir), kind: 'signs' }), moved);
    for (const c of [relative, absolute, dotted, afterMove]) expect(c.transfer!.sourceHash).toBe(configHash(source.config));
    const hashes = new Set([relative, absolute, dotted, afterMove].map(configHash));
    expect(hashes.size).toBe(1);
    // Spelled differently, unresolved configs hash differently: the path is all they have.
    expect(configHash(target({ from: source.dir, kind: 'signs' }))).not.toBe(configHash(target({ from: path.basename(source.dir), kind: 'signs' })));
  });

  test('differs with the source, the epoch or the kind', () => {
    const at = (t: Record<string, unknown>) => configHash(resolveTransfer(target(t), runsDir));
    const hashes = [
      at({ from: path.basename(source.dir), kind: 'signs' }),
      at({ from: path.basename(other.dir), kind: 'signs' }),
      at({ from: path.basename(source.dir), kind: 'mask' }),
      at({ from: path.basename(source.dir), kind: 'signs', epoch: 2 }),
      configHash(parseConfig(base)),
    ];
    expect(new Set(hashes).size).toBe(5);
  });

  test('createRunDir names the directory by the resolved hash and records sourceHash in config.json', () => {
    const config = target({ from: path.basename(source.dir), kind: 'signs' });
    const run = createRunDir(runsDir, config);
    const resolved = resolveTransfer(config, runsDir);
    expect(path.basename(run.dir)).toBe(`train_${configHash(resolved)}`);
    expect(readConfig(run.dir).transfer).toEqual({ from: path.basename(source.dir), epoch: 'final', kind: 'signs', sourceHash: configHash(source.config) });
    // Reopened with the absolute spelling: the same directory, no hash_mismatch.
    expect(createRunDir(runsDir, target({ from: source.dir, kind: 'signs' })).dir).toBe(run.dir);
    expect(planSweep([target({ from: source.dir, kind: 'signs' })], runsDir)[0].runDir).toBe(run.dir);
  });

  test("a given sourceHash must be the source's; with the source gone it stands for it (a resumed run)", () => {
    const stale = target({ from: path.basename(source.dir), kind: 'signs', sourceHash: configHash(other.config) });
    const e = errorOf(() => resolveTransfer(stale, runsDir)) as Error & { code?: string; issues?: unknown[] };
    expect(e.code).toBe('ERR_CONFIG');
    expect(e.issues).toEqual([{
      code: 'source_changed', path: 'transfer.sourceHash',
      message: `Expected the source run with config hash ${configHash(other.config)}, but the run at ${source.dir} hashes to ${configHash(source.config)}`,
    }]);
    const resolved = resolveTransfer(target({ from: path.basename(source.dir), kind: 'signs' }), runsDir);
    removeDir(source.dir);
    expect(resolveTransfer(resolved, runsDir)).toEqual(resolved);
  });
});

describe('a missing source is refused before any run directory exists', () => {
  const missing = (runs: string) => path.join(runs, 'train_gone');

  test('resolveTransfer, createRunDir and planSweep: ERR_CONFIG naming transfer.from and the resolved path', () => {
    const targets = path.join(root, 'targets');
    const config = target({ from: 'train_gone', kind: 'signs' });
    for (const fn of [() => resolveTransfer(config, targets), () => createRunDir(targets, config), () => planSweep([config], targets)]) {
      const e = errorOf(fn) as Error & { code?: string; issues?: { code: string; path: string; message: string }[] };
      expect(e.code).toBe('ERR_CONFIG');
      expect(e.issues).toEqual([{
        code: 'missing_source', path: 'transfer.from',
        message: `Expected a run directory (with config.json) at ${missing(targets)} (transfer.from 'train_gone' resolved against ${targets})`,
      }]);
    }
    expect(fs.existsSync(targets)).toBe(false);
  });

  test('the CLI: train (--dry-run too) and sweep (--dry-run too) exit 1 with that error and create nothing', async () => {
    const targets = path.join(root, 'targets');
    const configFile = path.join(root, 'target.json');
    fs.writeFileSync(configFile, JSON.stringify({ ...base, transfer: { from: 'train_gone', kind: 'signs' } }));
    const grid = path.join(root, 'sweep.json');
    fs.writeFileSync(grid, JSON.stringify({ base: { ...base, transfer: { from: 'train_gone', kind: 'signs' } }, grid: { 'transfer.kind': ['signs', 'mask'] } }));
    let trained = 0;
    const deps: CliDeps = { loadTrainer: () => ({ trainFromConfig: async () => { trained++; } }) };
    for (const args of [
      ['train', '--config', configFile, '--runs-dir', targets], ['train', '--config', configFile, '--runs-dir', targets, '--dry-run'],
      ['sweep', '--grid', grid, '--runs-dir', targets], ['sweep', '--grid', grid, '--runs-dir', targets, '--dry-run'],
    ]) {
      let err = '';
      const code = await runCli(['node', 'signin-torch', ...args], { out: () => undefined, err: (t) => { err += t; } }, deps);
      expect(code).toBe(1);
      expect(err).toContain('ERR_CONFIG');
      expect(err).toContain(`transfer.from: Expected a run directory (with config.json) at ${missing(targets)}`);
    }
    expect(trained).toBe(0);
    expect(runDirsUnder(targets)).toEqual([]);
  });

  test('the CLI trains a found relative source in the directory named by its identity', async () => {
    writeFinal(source.dir, { epoch: 3, step: 3, testAcc: 0.5 });
    const configFile = path.join(root, 'target.json');
    fs.writeFileSync(configFile, JSON.stringify({ ...base, transfer: { from: path.basename(source.dir), kind: 'signs' }, seed: 10 }));
    const dirs: string[] = [];
    const deps: CliDeps = { loadTrainer: () => ({ trainFromConfig: async (_c, d) => { dirs.push(d); writeFinal(d, { epoch: 3, step: 3, testAcc: 0.5 }); } }) };
    const code = await runCli(['node', 'signin-torch', 'train', '--config', configFile, '--runs-dir', runsDir], { out: () => undefined, err: () => undefined }, deps);
    expect(code).toBe(0);
    expect(dirs).toEqual([runDirFor(runsDir, resolveTransfer(target({ from: source.dir, kind: 'signs' }), '/'))]);
  });
});
