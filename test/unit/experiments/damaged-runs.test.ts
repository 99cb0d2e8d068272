/**
 * One notion of a damaged run: a run whose config.json, metrics.jsonl or final.json does not read
 * is corrupt to `list runs` (with its problem), to `report` (left out of the tables), to `train`
 * (refused: neither "already finished" nor trained on, its files left as they are) and to sweeps.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CliDeps } from '../../../src/cli';
import { runPaths } from '../../../src/experiments/paths';
import { checkRunIntact, readRun, runStatus } from '../../../src/experiments/run-scan';
import { runSweep } from '../../../src/experiments/sweep';
import { fakeRun, removeDir, tempDir } from './fixtures';
import { cli } from '../../helpers/cli';


let root: string;
beforeEach(() => { root = tempDir('damaged'); });
afterEach(() => removeDir(root));

const cutFinal = (dir: string) => fs.writeFileSync(runPaths(dir).final, '{"epoch": 3, "te');
const badAccuracy = (dir: string) => fs.writeFileSync(runPaths(dir).final, JSON.stringify({ epoch: 3, step: 30, testAcc: 91 }));
const badRow = (dir: string) => {
  const lines = fs.readFileSync(runPaths(dir).metrics, 'utf8').split('\n');
  lines[1] = JSON.stringify({ ...JSON.parse(lines[1]), trainAcc: 'high' });
  fs.writeFileSync(runPaths(dir).metrics, lines.join('\n'));
};

// Found by the file fuzz (test/fuzz/files.test.ts): the reviver's recursion overflowed, and the problem read "Maximum call stack size exceeded".
const deep = `${'{"a":'.repeat(20000)}1${'}'.repeat(20000)}`;
const deepRow = (dir: string) => {
  const lines = fs.readFileSync(runPaths(dir).metrics, 'utf8').split('\n');
  lines[1] = lines[1].replace(/^\{/, `{"extra": ${deep}, `);
  fs.writeFileSync(runPaths(dir).metrics, lines.join('\n'));
};
const deepFinal = (dir: string) => fs.writeFileSync(runPaths(dir).final, fs.readFileSync(runPaths(dir).final, 'utf8').replace(/^\{/, `{"extra": ${deep}, `));

describe.each([
  ['final.json cut short', cutFinal, /^final\.json cannot be read \(.*JSON.*\)$/, 'remove final.json'],
  ['a metrics line nested 20000 deep', deepRow, /^metrics\.jsonl: line 2: arrays and objects nest more than 64 levels deep \(a record nests 3\)$/, 'fix or remove the lines named in metrics.jsonl'],
  ['final.json nested 20000 deep', deepFinal, /^final\.json cannot be read \(arrays and objects nest more than 64 levels deep \(a record nests 3\)\)$/, 'remove final.json'],
  ['final.json with an accuracy out of range', badAccuracy, /^final\.json: testAcc: .*<=1/, 'remove final.json'],
  ['a bad metrics line', badRow, /^metrics\.jsonl: line 2: trainAcc: .*received string/, 'fix or remove the lines named in metrics.jsonl'],
])('a run with %s', (_what, damage, problem, remedy) => {
  test('is corrupt to list runs, report, train and sweeps alike', async () => {
    const { dir, config } = fakeRun(root, { sparsity: 0.9, signin: false, seed: 0, final: 0.8 });
    const name = path.basename(dir);
    damage(dir);
    const before = fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]);

    const damaged = readRun(dir);
    expect(damaged).toEqual({ problems: [expect.stringMatching(problem)] });
    const [line] = (damaged as { problems: string[] }).problems;
    expect(runStatus(dir)).toBe('corrupt');

    const listed = await cli(['list', 'runs', '--runs-dir', root, '--json']);
    expect(JSON.parse(listed.out)).toEqual([{ run: name, status: 'corrupt', problems: [line] }]);
    expect((await cli(['list', 'runs', '--runs-dir', root])).out).toContain(`${name}  corrupt`);

    const report = await cli(['report', '--runs-dir', root, '--out', path.join(root, 'out'), '--no-plots']);
    expect(report.err).toContain(`corrupt run ${dir}: ${line}\n`);
    expect(report.out).toContain('No runs found');

    const trained: string[] = [];
    const deps: CliDeps = { loadTrainer: () => ({ trainFromConfig: async (_c, d) => { trained.push(d); } }) };
    const train = await cli(['train', '--config', runPaths(dir).config, '--runs-dir', root], deps);
    expect(train.code).toBe(1);
    expect(train.err).toContain(`ERR_CONFIG: Run directory ${dir} is damaged (${remedy}`);
    expect(train.err).toContain(`: ${line}\n`);
    expect(train.err).not.toContain('already finished');

    // The preview says what the sweep will do: refuse it, with the fix, and exit 1 (not '1 to run').
    const grid = path.join(root, 'grid.json');
    fs.writeFileSync(grid, JSON.stringify({ base: { ...config, seed: undefined }, seeds: [config.seed] }));
    const dry = await cli(['sweep', '--grid', grid, '--runs-dir', root, '--dry-run'], deps);
    expect(dry.code).toBe(1);
    expect(dry.out.split('\n')[1]).toMatch(new RegExp(`^1\\s+corrupt\\s+${name}\\s+0$`));
    expect(dry.out).toContain(`1 runs: 0 finished, 0 to run, 1 corrupt (runs dir ${root})\n`);
    expect(dry.err).toMatch(new RegExp(`^1 run\\(s\\) would be refused:\nrun 1: ERR_CONFIG: Run directory ${dir} is damaged \\(${remedy}`));
    expect(dry.err).toContain(`: ${line}\n`);

    const sweep = await runSweep([config], { runsDir: root, runOne: async (_c, d) => { trained.push(d); } });
    expect(sweep).toMatchObject({ skipped: 0, succeeded: 0, failed: [{ runDir: dir, error: expect.stringContaining(`ERR_CONFIG: Run directory ${dir} is damaged`) }] });

    expect(trained).toEqual([]);
    expect(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')])).toEqual(before);
  });
});

test('once its damaged final.json is removed, train takes the run again', async () => {
  const { dir } = fakeRun(root, { sparsity: 0.9, signin: false, seed: 0, final: 0.8 });
  cutFinal(dir);
  fs.rmSync(runPaths(dir).final);
  expect(readRun(dir)).toMatchObject({ final: undefined, metrics: expect.any(Array) });
  const trained: string[] = [];
  const r = await cli(['train', '--config', runPaths(dir).config, '--runs-dir', root], { loadTrainer: () => ({ trainFromConfig: async (_c, d) => { trained.push(d); } }) });
  expect(r.code).toBe(0);
  expect(trained).toEqual([dir]);
});

// A run trained with --import names what only the user's module registers (test/native/extending/
// runs-need-import.test.ts trains one): in a process without the module its config does not parse,
// yet nothing in it is damaged, and deleting the run is the wrong fix. `train` meets such a name only
// when config.json was edited since (the config it was given, naming the run, parsed): both fixes.
test('a config naming what this process has not registered is refused with the --import fix, not as damaged', async () => {
  const { dir, config } = fakeRun(root, { sparsity: 0.9, signin: false, seed: 0, final: 0.8 });
  const given = path.join(root, 'given.json');
  fs.writeFileSync(given, JSON.stringify(config));
  const raw = JSON.parse(fs.readFileSync(runPaths(dir).config, 'utf8')) as { dataset: object; model: object };
  fs.writeFileSync(runPaths(dir).config, JSON.stringify({ ...raw, dataset: { ...raw.dataset, name: 'my_set' }, model: { ...raw.model, name: 'my_net' } }));
  const fix = "pass --import with the module of yours that registers 'my_set', 'my_net', as when the run was trained (docs/extending.md), or restore config.json if it was edited since";
  expect(() => checkRunIntact(dir)).toThrow(`Run directory ${dir} names a dataset, model or pruner this process has not registered (${fix}):\n`);

  const trained: string[] = [];
  const deps: CliDeps = { loadTrainer: () => ({ trainFromConfig: async (_c, d) => { trained.push(d); } }) };
  const train = await cli(['train', '--config', given, '--runs-dir', root], deps);
  expect(train.code).toBe(1);
  expect(train.err).toMatch(/^ERR_CONFIG: Run directory /);
  expect(train.err).toContain(`Run directory ${dir} names a dataset, model or pruner this process has not registered (${fix}): config.json: dataset.name: `);
  const sweep = await runSweep([config], { runsDir: root, runOne: async (_c, d) => { trained.push(d); } });
  expect(sweep.failed).toEqual([{ runDir: dir, code: 'ERR_CONFIG', error: expect.stringContaining(`(${fix}):`) }]);

  cutFinal(dir);
  expect(() => checkRunIntact(dir)).toThrow(
    `Run directory ${dir} is damaged (${fix}; remove final.json: train then evaluates the last checkpoint and writes it again; or delete the directory to train the run from scratch):\n`,
  );
  expect(trained).toEqual([]);
});
