import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sweepFailure } from '../../../src/cli/sweep-failure';
import { ERROR_FILE_ENV, recordErrorFile, workerFailure } from '../../../src/distributed/error-file';
import { IssuesError } from '../../../src/errors';
import { InterruptedError } from '../../../src/train/interrupt';
import { configHash } from '../../../src/experiments/hash';
import { runDirFor, runPaths } from '../../../src/experiments/paths';
import { readConfig, writeFinal } from '../../../src/experiments/runs';
import { defaultChildCommand, expandSweep, gridPoints, loadSweepFile, parseSweepSpec, planSweep, runSweep, type SweepEvent } from '../../../src/experiments/sweep';
import { errorOf } from '../../helpers/error-of';
import { bytesRead, SMALL_READ_BYTES } from '../../helpers/bytes-read';
import { removeDir, tempDir } from './fixtures';

const base = { dataset: { name: 'fashion_mnist' }, model: { name: 'lenet5' }, pruning: { method: 'random' }, epochs: 2 };
const spec = { base, grid: { 'pruning.sparsity': [0.9, 0.95, 0.98], 'signin.enabled': [false, true] }, seeds: [0, 1, 2] };

let root: string;
beforeEach(() => { root = tempDir('sweep'); });
afterEach(() => removeDir(root));

describe('expansion', () => {
  test('gridPoints: cartesian product, first key slowest', () => {
    expect(gridPoints({ a: [1, 2], b: ['x', 'y'] })).toEqual([{ a: 1, b: 'x' }, { a: 1, b: 'y' }, { a: 2, b: 'x' }, { a: 2, b: 'y' }]);
    expect(gridPoints({})).toEqual([{}]);
  });

  test('grid × seeds, seeds outermost, each a validated config', () => {
    const runs = expandSweep(spec);
    expect(runs).toHaveLength(18);
    expect(runs.slice(0, 6).every((r) => r.config.seed === 0)).toBe(true);
    expect(runs.slice(0, 3).map((r) => [r.config.pruning.sparsity, r.config.signin.enabled])).toEqual([[0.9, false], [0.9, true], [0.95, false]]);
    expect(runs[0].point).toEqual({ 'pruning.sparsity': 0.9, 'signin.enabled': false, seed: 0 });
    expect(runs[5].config).toMatchObject({ pruning: { method: 'random', sparsity: 0.98, distribution: 'erk' }, signin: { enabled: true }, epochs: 2 });
    expect(new Set(runs.map((r) => configHash(r.config))).size).toBe(18);
  });

  test('a list of grids is their union; duplicates are kept once', () => {
    const runs = expandSweep({ base, grid: [{ 'pruning.sparsity': [0.9, 0.95] }, { 'pruning.sparsity': [0.95], 'pruning.method': ['random'] }] });
    expect(runs.map((r) => r.config.pruning.sparsity)).toEqual([0.9, 0.95]);
  });

  test('every invalid grid point is reported in one error', () => {
    let err: IssuesError | undefined;
    try {
      expandSweep({ base, grid: { 'pruning.sparsity': [0.5, 1, 2], 'optimizer.lrr': [0.1] } }, 'g.json');
    } catch (e) { err = e as IssuesError; }
    expect(err).toBeInstanceOf(IssuesError);
    expect(err!.code).toBe('ERR_CONFIG');
    expect(err!.issues.map((i) => [i.path, i.message])).toEqual([
      ['optimizer.lrr', "Unknown key (did you mean 'lr'?); valid keys: lr, momentum, nesterov, weightDecay, excludeBnAndBias, name, betas, eps"],
      ['pruning.sparsity', 'Expected a number < 1 but received 1 of type number (grid point pruning.sparsity=1, optimizer.lrr=0.1)'],
      ['pruning.sparsity', 'Expected a number < 1 but received 2 of type number (grid point pruning.sparsity=2, optimizer.lrr=0.1)'],
    ]);
    expect(err!.message.split('\n')[0]).toBe('Invalid experiment config in sweep g.json (3 issues):');
  });

  test('a grid value of a million characters is quoted in part, in its issue and its grid point', () => {
    const long = 'm'.repeat(1e6);
    const issues = (errorOf(() => expandSweep({ base, grid: { 'pruning.method': [long] } }, 'g.json')) as IssuesError).issues;
    expect(issues.map((i) => i.path)).toEqual(['pruning.method']);
    expect(issues[0].message).toContain(`but received '${'m'.repeat(200)}…' (1000000 characters) of type string`);
    expect(issues[0].message).toContain(`(grid point pruning.method="${'m'.repeat(199)}… (1000002 characters))`);
    expect(issues[0].message.length).toBeLessThan(2000);
  });

  test('the sweep file itself is strict', () => {
    expect(() => parseSweepSpec({ base, grids: {} })).toThrow(/grids/);
    expect(() => parseSweepSpec({ base, grid: { 'pruning.sparsity': [] } })).toThrow(/grid\.pruning\.sparsity/);
    expect(() => parseSweepSpec({ base, grid: { 'bad path!': [1] } })).toThrow(/dotted config path/);
    expect(() => parseSweepSpec({ base, grid: { seed: [1, 2] } })).toThrow(/grid\.seed: Use the top-level "seeds" list/);
    expect(parseSweepSpec({ base }).seeds).toEqual([0]);
    // Worded like config errors: the closest valid key, the value received.
    expect(() => parseSweepSpec({ base, grids: {}, seeds: [] })).toThrow([
      'Invalid sweep (2 issues):',
      '\tseeds: Expected an array with length >= 1 but received an array of length 0',
      "\tgrids: Unknown key (did you mean 'grid'?); valid keys: name, description, prefix, base, grid, seeds",
    ].join('\n'));
  });

  test("without seeds, base.seed is the sweep's seed; with both, the sweep is refused", () => {
    const runs = expandSweep({ base: { ...base, seed: 5 }, grid: { 'pruning.sparsity': [0.9, 0.95] } });
    expect(runs.map((r) => [r.config.seed, r.point.seed])).toEqual([[5, 5], [5, 5]]);
    expect(parseSweepSpec({ base: { ...base, seed: 5 } }).seeds).toEqual([5]);
    const both = errorOf(() => expandSweep({ base: { ...base, seed: 5 }, seeds: [0, 1] }, 'g.json')) as IssuesError;
    expect(both.code).toBe('ERR_CONFIG');
    expect(both.message).toBe('Invalid sweep g.json (1 issue):\n\tbase.seed: `base.seed` and `seeds` both set: use `seeds` (remove base.seed, or list it in seeds)');
    // An invalid base.seed is reported as the config field it is, not replaced by a default.
    const bad = errorOf(() => expandSweep({ base: { ...base, seed: -1 } })) as IssuesError;
    expect(bad.issues.map((i) => i.path)).toEqual(['base.seed']);
  });

  test('loadSweepFile names an unreadable file', () => {
    const f = path.join(root, 'g.json');
    fs.writeFileSync(f, '{ nope');
    expect(() => loadSweepFile(f)).toThrow(/Cannot read sweep file .*g\.json/);
    fs.writeFileSync(f, JSON.stringify(spec));
    expect(loadSweepFile(f).runs).toHaveLength(18);
  });

  // Found by the file fuzz: setDotted refused the grid value when it expanded, in an error without the file.
  test('a grid value nested 1000 deep is refused as too deep, naming the sweep file', () => {
    const f = path.join(root, 'deep.json');
    const deep = `${'['.repeat(1000)}true${']'.repeat(1000)}`;
    fs.writeFileSync(f, `{"base": ${JSON.stringify(spec.base)}, "grid": {"signin.enabled": [${deep}]}}`);
    expect(() => loadSweepFile(f)).toThrow(expect.objectContaining({
      code: 'ERR_CONFIG',
      message: `Invalid sweep ${f} (1 issue):\n\tgrid.signin.enabled.0.${'0.'.repeat(60)}0: Expected arrays and objects nested at most 64 levels deep, but this value goes deeper`,
    }));
  });
});

describe('execution', () => {
  const configs = () => expandSweep({ ...spec, seeds: [0] }).map((r) => r.config);

  test('in-process: runs each config in its run directory, then skips finished runs', async () => {
    const seen: string[] = [];
    const events: SweepEvent['type'][] = [];
    const runOne = (config: unknown, runDir: string): void => {
      expect(readConfig(runDir)).toEqual(config);
      seen.push(path.basename(runDir));
      writeFinal(runDir, { epoch: 2, step: 4, testAcc: 0.5 });
    };
    const r1 = await runSweep(configs(), { runsDir: root, runOne, onEvent: (e) => events.push(e.type) });
    expect(r1).toEqual({ total: 6, skipped: 0, busy: 0, succeeded: 6, failed: [], interrupted: 0 });
    expect(new Set(seen).size).toBe(6);
    expect(events.filter((e) => e === 'start')).toHaveLength(6);
    const r2 = await runSweep(configs(), { runsDir: root, runOne });
    expect(r2).toEqual({ total: 6, skipped: 6, busy: 0, succeeded: 0, failed: [], interrupted: 0 });
    expect(seen).toHaveLength(6);
    expect(planSweep(configs(), root).every((p) => p.status === 'finished')).toBe(true);
  });

  test('a failing run does not stop the sweep; a run that writes no final.json counts as failed', async () => {
    let i = 0;
    const runOne = async (_c: unknown, runDir: string): Promise<void> => {
      i++;
      if (i === 1) throw Object.assign(new Error('out of memory'), { code: 'ERR_TORCH' });
      if (i === 2) return;
      writeFinal(runDir, { epoch: 2, step: 4, testAcc: 0.5 });
    };
    const r = await runSweep(configs(), { runsDir: root, runOne });
    expect(r.succeeded).toBe(4);
    expect(r.failed.map((f) => f.error)).toEqual(['ERR_TORCH: out of memory', 'finished without writing final.json']);
  });

  test('a run that fails its check (bad model, missing data) fails before its directory is created', async () => {
    const all = configs();
    const bad = all[1];
    const check = (c: unknown) => {
      if (c === bad) throw Object.assign(new Error("Unknown model 'resnet51'"), { code: 'ERR_UNKNOWN_NAME' });
    };
    const runOne = (_c: unknown, runDir: string) => writeFinal(runDir, { epoch: 2, step: 4, testAcc: 0.5 });
    const r = await runSweep(all, { runsDir: root, runOne, check });
    expect(r.failed).toEqual([{ runDir: runDirFor(root, bad), error: "ERR_UNKNOWN_NAME: Unknown model 'resnet51'" }]);
    expect(r.succeeded).toBe(all.length - 1);
    expect(fs.existsSync(runDirFor(root, bad))).toBe(false);
  });

  test('child processes: N at once, output in train.log, exit codes reported with the last lines other than JSON log lines', async () => {
    // A stand-in trainer: writes final.json into the run directory given by the config path (fails for seed 1).
    const script = [
      "const fs = require('fs'), path = require('path');",
      'const cfgPath = process.argv[1]; const cfg = JSON.parse(fs.readFileSync(cfgPath, "utf8"));',
      'console.log("training", cfg.pruning.sparsity);',
      'if (cfg.signin.enabled && cfg.pruning.sparsity === 0.98) { console.error(JSON.stringify({ level: 30, msg: "epoch done", pad: "x".repeat(3000) })); console.error("boom"); process.exit(3); }',
      'fs.writeFileSync(path.join(path.dirname(cfgPath), "final.json"), JSON.stringify({ epoch: 2, step: 4, testAcc: 0.5 }));',
    ].join('\n');
    const r = await runSweep(configs(), {
      runsDir: root,
      processes: 2,
      childCommand: (run) => ({ command: process.execPath, args: ['-e', script, runPaths(run.runDir).config] }),
    });
    expect(r.succeeded).toBe(5);
    expect(r.failed).toHaveLength(1);
    expect(r.failed[0].error).toBe('exited with code 3: training 0.98 | boom');
    const done = planSweep(configs(), root).filter((p) => p.status === 'finished');
    expect(done).toHaveLength(5);
    expect(fs.readFileSync(runPaths(done[0].runDir).log, 'utf8')).toMatch(/^training 0\.9/);
  });

  test("a child's 1 GiB log: its last lines are read from its end, without reading the log", async () => {
    // The child's log is sparse (ftruncate of its stdout, no disk), its last lines written after 1 GiB.
    const script = [
      "const fs = require('fs');",
      'console.log("training"); fs.ftruncateSync(1, 2 ** 30);',
      'console.error(JSON.stringify({ level: 30, msg: "epoch done" })); console.error("ERR_DATASET: boom"); process.exit(3);',
    ].join('\n');
    const [config] = configs();
    const before = bytesRead();
    const r = await runSweep([config], { runsDir: root, childCommand: () => ({ command: process.execPath, args: ['-e', script] }) });
    expect(r.failed.map((f) => f.error)).toEqual(['exited with code 3: ERR_DATASET: boom']);
    expect(fs.statSync(runPaths(runDirFor(root, config)).log).size).toBeGreaterThan(2 ** 30);
    expect(bytesRead() - before).toBeLessThan(SMALL_READ_BYTES);
  });

  test("a child's last line longer than the tail read: its end is reported, not nothing", async () => {
    const line = `${'x'.repeat(200_000)}ERR_DATASET: boom`;
    const script = 'console.error("training"); console.error(`${"x".repeat(200000)}ERR_DATASET: boom`); process.exit(3);';
    const [config] = configs();
    const r = await runSweep([config], { runsDir: root, childCommand: () => ({ command: process.execPath, args: ['-e', script] }) });
    // The tail is the log's last 64 KiB, the line's newline one of them.
    expect(r.failed.map((f) => f.error)).toEqual([`exited with code 3: ${line.slice(-(64 * 1024 - 1))}`]);
  });

  test("a FIFO in place of a child's train.log fails that run, naming it, instead of hanging the sweep", () => {
    // In a child process: opening a FIFO for writing waits for a reader.
    const [config] = configs();
    const runDir = runDirFor(root, config);
    fs.mkdirSync(runDir, { recursive: true });
    spawnSync('mkfifo', [runPaths(runDir).log]);
    const script = `const { runSweep } = require(${JSON.stringify(path.join(__dirname, '..', '..', '..', 'src', 'experiments', 'sweep.ts'))});
runSweep([${JSON.stringify(config)}], { runsDir: ${JSON.stringify(root)}, childCommand: () => ({ command: process.execPath, args: ['-e', ''] }) })
  .then((r) => process.stdout.write(JSON.stringify(r.failed)));`;
    const r = spawnSync(process.execPath, ['--import', require.resolve('tsx'), '-e', script], { encoding: 'utf8', timeout: 120_000 });
    expect({ signal: r.signal, status: r.status, stderr: r.stderr }).toEqual({ signal: null, status: 0, stderr: '' });
    const message = `Expected a regular file (a run's log), but it is a FIFO (named pipe): ${runPaths(runDir).log}`;
    expect(JSON.parse(r.stdout)).toEqual([{ runDir, error: `ERR_INVALID_ARG: ${message}`, code: 'ERR_INVALID_ARG' }]);
  });

  describe("each child's own error file", () => {
    // A stand-in `train` that fails as ours does: recordErrorFile writes the error where torchrun's
    // variable says, then the process exits 1; it prints the path it was given to its log.
    const ERROR_FILE_TS = path.join(__dirname, '..', '..', '..', 'src', 'distributed', 'error-file.ts');
    const failing = (error: string) => [
      `const { recordErrorFile } = require(${JSON.stringify(ERROR_FILE_TS)});`,
      "const { ToolkitError } = require(" + JSON.stringify(path.join(__dirname, '..', '..', '..', 'src', 'errors.ts')) + ");",
      'console.error(`error file: ${process.env.TORCHELASTIC_ERROR_FILE}`);',
      `recordErrorFile(${error}); process.exit(1);`,
    ].join('\n');
    const child = (script: string, env?: NodeJS.ProcessEnv) => () => ({ command: process.execPath, args: ['--import', require.resolve('tsx'), '-e', script], env });
    const givenFile = (runDir: string) => /error file: (.*)/.exec(fs.readFileSync(runPaths(runDir).log, 'utf8'))![1];

    test("gives the sweep the failed run's code and message, not the launcher's file; the folder goes when the sweep ends", async () => {
      const launcherFile = path.join(root, 'worker-error.json');
      const [config] = configs();
      const r = await runSweep([config], {
        runsDir: root,
        childCommand: child(failing("new ToolkitError('ERR_DATASET', 'no mnist under /data:\\n\\tfetch it first')"), { ...process.env, TORCHELASTIC_ERROR_FILE: launcherFile }),
      });
      expect(r.failed).toEqual([{ runDir: runDirFor(root, config), error: 'ERR_DATASET: no mnist under /data:\n\tfetch it first', code: 'ERR_DATASET' }]);
      expect(fs.existsSync(launcherFile)).toBe(false);
      const own = givenFile(runDirFor(root, config));
      expect(own).not.toBe(launcherFile);
      expect(fs.existsSync(path.dirname(own))).toBe(false);
      // The sweep's own error file (the CLI's, through sweepFailure) then carries the code.
      const sweepFile = path.join(root, 'sweep-error.json');
      recordErrorFile(sweepFailure(r.failed[0]), { [ERROR_FILE_ENV]: sweepFile });
      expect(workerFailure({ rank: 0, localRank: 0, exitCode: 1, exitMs: 0, errorFile: sweepFile })).toMatchObject({
        code: 'ERR_DATASET', message: `sweep run ${runDirFor(root, config)} failed: no mnist under /data:\n\tfetch it first`,
      });
    });

    test('an error without a code is its message, without one; children at once each have their own file', async () => {
      const [a, b] = configs();
      const r = await runSweep([a, b], { runsDir: root, processes: 2, childCommand: child(failing("new Error('out of disk')")) });
      expect(r.failed.map((f) => f.error).sort()).toEqual(['Error: out of disk', 'Error: out of disk']);
      expect(r.failed.every((f) => f.code === undefined)).toBe(true);
      expect(givenFile(runDirFor(root, a))).not.toBe(givenFile(runDirFor(root, b)));
    });

    test('a child killed before writing one is reported by how it ended and its log, without a code', async () => {
      const script = 'console.error(`error file: ${process.env.TORCHELASTIC_ERROR_FILE}`); console.error("ERR_TORCH: dying"); process.kill(process.pid, "SIGKILL");';
      const [config] = configs();
      const r = await runSweep([config], { runsDir: root, childCommand: () => ({ command: process.execPath, args: ['-e', script] }) });
      expect(r.failed).toEqual([{ runDir: runDirFor(root, config), error: `killed by SIGKILL: error file: ${givenFile(runDirFor(root, config))} | ERR_TORCH: dying` }]);
      expect(fs.existsSync(path.dirname(givenFile(runDirFor(root, config))))).toBe(false);
    });
  });

  describe('runs another live process is training', () => {
    // Stands in for a second sweep (or another host's) training a run of the same grid.
    let other: ReturnType<typeof spawn>;
    beforeEach(() => { other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' }); });
    afterEach(() => { other.kill(); });
    const lockAs = (runDir: string, pid: number): void => {
      fs.mkdirSync(runDir, { recursive: true });
      fs.writeFileSync(runPaths(runDir).lock, JSON.stringify({ pid, host: os.hostname(), startedAt: new Date().toISOString() }));
    };

    test('are left to it, not run and not failed; a dead holder\'s run is run', async () => {
      const all = configs();
      lockAs(runDirFor(root, all[0]), other.pid!);
      lockAs(runDirFor(root, all[1]), spawnSync(process.execPath, ['-e', '0']).pid);
      const seen: string[] = [];
      const events: SweepEvent[] = [];
      const runOne = (_c: unknown, runDir: string) => { seen.push(runDir); writeFinal(runDir, { epoch: 2, step: 4, testAcc: 0.5 }); };
      const r = await runSweep(all, { runsDir: root, runOne, onEvent: (e) => events.push(e) });
      expect(r).toEqual({ total: 6, skipped: 0, busy: 1, succeeded: 5, failed: [], interrupted: 0 });
      expect(seen).not.toContain(runDirFor(root, all[0]));
      expect(seen).toContain(runDirFor(root, all[1]));
      expect(events.find((e) => e.type === 'busy')).toMatchObject({ run: { runDir: runDirFor(root, all[0]) }, holder: { pid: other.pid } });
    });

    test('a run whose lock another process took just before its child started is left to it', async () => {
      // The child finds the run locked (as `train` would, with ERR_RUN_LOCKED) and exits 1.
      const script = [
        "const fs = require('fs'), path = require('path');",
        'const [cfgPath, pid, host] = process.argv.slice(1);',
        'const cfg = JSON.parse(fs.readFileSync(cfgPath, "utf8"));',
        'if (cfg.pruning.sparsity === 0.9 && !cfg.signin.enabled) {',
        '  fs.writeFileSync(path.join(path.dirname(cfgPath), "run.lock"), JSON.stringify({ pid: Number(pid), host, startedAt: "" }));',
        '  console.error("ERR_RUN_LOCKED"); process.exit(1);',
        '}',
        'fs.writeFileSync(path.join(path.dirname(cfgPath), "final.json"), JSON.stringify({ epoch: 2, step: 4, testAcc: 0.5 }));',
      ].join('\n');
      const r = await runSweep(configs(), {
        runsDir: root,
        childCommand: (run) => ({ command: process.execPath, args: ['-e', script, runPaths(run.runDir).config, String(other.pid), os.hostname()] }),
      });
      expect(r).toEqual({ total: 6, skipped: 0, busy: 1, succeeded: 5, failed: [], interrupted: 0 });
    });

    test('a trainer that fails still holding this process\'s own lock is a failure', async () => {
      const runOne = (_c: unknown, runDir: string): void => {
        lockAs(runDir, process.pid);
        throw Object.assign(new Error('out of memory'), { code: 'ERR_TORCH' });
      };
      const r = await runSweep(configs().slice(0, 1), { runsDir: root, runOne });
      expect(r.busy).toBe(0);
      expect(r.failed.map((f) => f.error)).toEqual(['ERR_TORCH: out of memory']);
    });
  });

  describe('a signal (the CLI aborts `signal` on SIGINT / SIGTERM)', () => {
    test('in-process: the stopped run is interrupted, not failed, and no later run starts', async () => {
      const stop = new AbortController();
      const started: string[] = [];
      const runOne = (_config: unknown, runDir: string): void => {
        started.push(runDir);
        stop.abort('SIGTERM');
        throw new InterruptedError('SIGTERM', { epoch: 0, step: 3, batch: 3 }, 10, runPaths(runDir).checkpoint);
      };
      const events: SweepEvent['type'][] = [];
      const r = await runSweep(configs(), { runsDir: root, runOne, signal: stop.signal, onEvent: (e) => events.push(e.type) });
      expect(r).toEqual({ total: 6, skipped: 0, busy: 0, succeeded: 0, failed: [], interrupted: 1 });
      expect(started).toHaveLength(1);
      expect(events).toEqual(['start', 'interrupted']);
    });

    test('children: each gets the signal once, in its own process group and marked supervised; their exit 143 is an interruption', async () => {
      const stop = new AbortController();
      // Stands in for `train`: says it started, then on SIGTERM writes what it was told and exits 143.
      const script = [
        "const fs = require('fs'), path = require('path'); const dir = path.dirname(process.argv[1]);",
        "let n = 0; process.on('SIGTERM', () => { n++; setTimeout(() => { fs.writeFileSync(path.join(dir, 'stopped.json'), JSON.stringify({ n, supervised: process.env.SIGNIN_TORCH_SUPERVISED, leader: Number(require('child_process').execSync('ps -o pgid= -p ' + process.pid)) === process.pid })); process.exit(143); }, 200); });",
        "fs.writeFileSync(path.join(dir, 'started'), ''); setInterval(() => {}, 1000);",
      ].join('\n');
      const sweep = runSweep(configs(), {
        runsDir: root, processes: 2, signal: stop.signal,
        childCommand: (run) => ({ command: process.execPath, args: ['-e', script, runPaths(run.runDir).config] }),
      });
      const startedDirs = () => planSweep(configs(), root).filter((p) => fs.existsSync(path.join(p.runDir, 'started')));
      while (startedDirs().length < 2) await new Promise((res) => setTimeout(res, 20));
      stop.abort('SIGTERM');
      const r = await sweep;
      expect(r).toEqual({ total: 6, skipped: 0, busy: 0, succeeded: 0, failed: [], interrupted: 2 });
      for (const p of startedDirs()) expect(JSON.parse(fs.readFileSync(path.join(p.runDir, 'stopped.json'), 'utf8'))).toEqual({ n: 1, supervised: '1', leader: true });
      expect(planSweep(configs(), root).filter((p) => fs.existsSync(p.runDir))).toHaveLength(2);
    });

    test('children still starting (no handler yet: `train` loads libtorch first) are ended by the forwarded signal: interrupted, nothing saved, not failed', async () => {
      const stop = new AbortController();
      // Stands in for `train` before its handlers: SIGTERM takes its default action.
      const script = "const fs = require('fs'), path = require('path'); fs.writeFileSync(path.join(path.dirname(process.argv[1]), 'started'), ''); setInterval(() => {}, 1000);";
      const events: SweepEvent[] = [];
      const sweep = runSweep(configs(), {
        runsDir: root, processes: 2, signal: stop.signal, onEvent: (e) => events.push(e),
        childCommand: (run) => ({ command: process.execPath, args: ['-e', script, runPaths(run.runDir).config] }),
      });
      while (planSweep(configs(), root).filter((p) => fs.existsSync(path.join(p.runDir, 'started'))).length < 2) await new Promise((res) => setTimeout(res, 20));
      stop.abort('SIGTERM');
      expect(await sweep).toEqual({ total: 6, skipped: 0, busy: 0, succeeded: 0, failed: [], interrupted: 2 });
      expect(events.filter((e) => e.type === 'interrupted').map((e) => e.type === 'interrupted' && [e.whilePruning, e.checkpointed])).toEqual([[false, false], [false, false]]);
    });
  });

  test('options are checked', async () => {
    await expect(runSweep([], { runsDir: root, processes: 0 })).rejects.toThrow('Expected positive integer for processes but received 0 of type number');
    await expect(runSweep([], { runsDir: root, processes: 2, runOne: () => undefined })).rejects.toThrow(/in-process runs are sequential/);
  });
});

test('the default child is this package\'s CLI: `train --config <runDir>/config.json --runs-dir <runs> --prefix <p>`', () => {
  const [run] = planSweep(expandSweep({ base }).map((r) => r.config), '/runs', 'pai');
  const cmd = defaultChildCommand(run, '/runs', 'pai');
  expect(cmd.command).toBe(process.execPath);
  // From source the child loads tsx by absolute URL; from dist it runs dist/cli.js directly.
  expect(cmd.args.slice(0, 2)).toEqual(['--import', expect.stringMatching(/^file:\/\/.*tsx/)]);
  expect(path.basename(cmd.args[2])).toBe('cli.ts');
  expect(cmd.args.slice(3)).toEqual(['train', '--config', path.join(run.runDir, 'config.json'), '--runs-dir', '/runs', '--prefix', 'pai']);
});
