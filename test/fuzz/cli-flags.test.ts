/**
 * Every flag of every `signin-torch` subcommand (read from the command definitions, so new flags
 * are covered) given junk values as a careless user types them: each ends in exit 0 or 1 with at
 * most one error line, coded (`ERR_…: `) or commander's (`error: `), never a stack trace or an
 * uncaught exception. The engines are stand-ins (nothing trains, prunes or spawns), so this is
 * the CLI's own parsing and checking; it runs in a temporary working folder, where relative junk
 * paths (`--out abc`) land.
 */
import * as fs from 'node:fs';
import { buildProgram, type CliDeps } from '../../src/cli';
import { cli } from '../helpers/cli';
import { removeDir, tempDir } from '../unit/experiments/fixtures';

const JUNK = ['', ' ', '-1', '0', '1.5', 'NaN', 'Infinity', '1e400', '9007199254740993', 'abc', 'sub/dir', 'a=b', '{"x":', '__proto__', 'x'.repeat(5000)];

/** commander's own usage errors; anything else uncoded ('error: ENAMETOOLONG ...') is a failure. */
const COMMANDER = /^error: (unknown option|option '|required option|missing required argument|too many arguments|command-argument value)/;

const deps: CliDeps = {
  loadTrainer: () => ({ trainFromConfig: async () => { throw new Error('the fuzz trained'); } }),
  loadModels: () => ({ createModel: () => ({ dispose: () => undefined }), modelOptions: () => ({}) }),
  loadPruning: () => ({ pruneModel: () => undefined, maskReport: () => ({ table: 'mask report' }) }),
  launch: async () => { throw new Error('the fuzz launched workers'); },
  // Nothing is fetched: the flags are parsed and checked, then this answers as a complete root would.
  download: async (name, o) => ({ dataset: name, root: o.root, fetched: [], bytes: 0 }),
};

let root: string;
let cwd: string;
beforeAll(() => {
  root = tempDir('cli-fuzz');
  cwd = process.cwd();
  process.chdir(root);
  fs.writeFileSync('grid.json', JSON.stringify({ base: { dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1 }, grid: {}, seeds: [0] }));
});
afterAll(() => {
  process.chdir(cwd);
  removeDir(root);
});

/** Arguments that reach each command's checks; the fuzzed flag comes after them and overrides. */
const BASE: Record<string, string[]> = {
  train: ['--dataset', 'mnist', '--model', 'lenet5', '--epochs', '1', '--runs-dir', 'runs', '--dry-run'],
  sweep: ['--grid', 'grid.json', '--runs-dir', 'runs', '--dry-run'],
  report: ['--runs-dir', 'runs', '--no-plots'],
  list: ['runs', '--runs-dir', 'runs'],
  prune: ['--model', 'lenet5', '--sparsity', '0.5'],
  download: ['mnist', '--root', 'data'],
  // Not a run directory: the flags are parsed and checked, then evaluateRun refuses the folder.
  evaluate: ['runs'],
  export: ['runs', '--out', 'x.safetensors'],
};

function cases(): [string, string, string | undefined][] {
  const out: [string, string, string | undefined][] = [];
  for (const command of buildProgram().commands) {
    for (const option of command.options) {
      const flag = option.long!;
      if (flag === '--help') continue;
      if (option.required || option.optional) for (const v of JUNK) out.push([command.name(), flag, v]);
      else out.push([command.name(), flag, undefined]);
    }
  }
  return out;
}

test('junk in every flag: exit 0 or 1, one coded line, no stack', async () => {
  fs.mkdirSync('runs', { recursive: true });
  const failures: string[] = [];
  let refused = 0;
  const all = cases();
  expect(new Set(all.map(([c]) => c))).toEqual(new Set(Object.keys(BASE)));
  for (const [command, flag, value] of all) {
    const args = [command, ...BASE[command], flag, ...(value === undefined ? [] : [value])];
    const label = `${command} ${flag} ${JSON.stringify(value)?.slice(0, 20) ?? ''}`;
    let r: { code: number; out: string; err: string };
    try {
      r = await cli(args, deps);
    } catch (e) {
      failures.push(`${label}: threw ${String(e)}`);
      continue;
    }
    const lines = r.err.split('\n').filter((l) => l && !l.startsWith('(add --help') && !l.startsWith('(Did you mean') && !l.startsWith('prune: '));
    if (r.code === 1) refused++;
    if (r.code !== 0 && r.code !== 1) failures.push(`${label}: exit ${r.code}`);
    if (/\n\s+at /.test(r.err)) failures.push(`${label}: stack trace`);
    if (/the fuzz (trained|launched)/.test(r.err)) failures.push(`${label}: ${r.err.trim()}`);
    if (r.code === 1 && (lines.length !== 1 || !(/^ERR_[A-Z_]+: /.test(lines[0]) || COMMANDER.test(lines[0])))) failures.push(`${label}: ${JSON.stringify(r.err.slice(0, 300))}`);
  }
  expect(failures).toEqual([]);
  expect(refused).toBeGreaterThan(all.length / 2);
}, 300_000);
