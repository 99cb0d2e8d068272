/**
 * A run trained with `--import` names a dataset, model and pruner that only the user's module
 * registers: `list runs` and `report` without the module show it as corrupt, each name saying to
 * pass --import with the module that registers it; with the module it lists as finished. The
 * built CLI in child processes, as a user runs it: the module registers into that process only.
 * This jest process never loads the module: a sweep from it refuses the run with that fix too.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isRunDirName } from '../../../src/experiments/paths';
import { checkRunIntact } from '../../../src/experiments/run-scan';
import { tmpDir } from '../../helpers/data-fixtures';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const dir = tmpDir('runs-need-import-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// The user's module, requiring the package the CLI is (dist), as docs/extending.md asks.
fs.writeFileSync(path.join(dir, 'my-ext.js'), `
const { ArrayDataset, MaskedLinear, Model, registerDataset, registerModel, registerPruner, tidy } = require(${JSON.stringify(path.join(ROOT, 'dist'))});
const images = new Uint8Array(8 * 2 * 2).map((_, i) => (i * 37) % 256);
registerDataset('toy_need_import', () => new ArrayDataset({ images, labels: [0, 1, 0, 1, 0, 1, 0, 1], width: 2, height: 2, channels: 1, numClasses: 2, name: 'toy_need_import' }));
class Linear extends Model {
  constructor(o) { super(); this.outputLayerName = 'fc'; this.inputShape = [1, 2, 2]; this.fc = this.registerModule('fc', new MaskedLinear(4, o.numClasses)); }
  forward(x) { return tidy(() => this.fc.forward(x.flatten(1))); }
}
const as = (p, v) => v;
registerModel({ name: 'linear_need_import', description: 'one masked linear layer', options: { numClasses: { default: 2, check: as }, inChannels: { default: 1, check: as }, inputSize: { default: 2, check: as } }, create: (o) => new Linear(o) });
const { RandomPruner } = require(${JSON.stringify(path.join(ROOT, 'dist', 'pruning', 'random'))});
registerPruner('random_need_import', () => new RandomPruner());
`);
fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({
  dataset: { name: 'toy_need_import' }, model: { name: 'linear_need_import' }, epochs: 1, batchSize: 4, threads: 1, device: 'cpu',
  pruning: { method: 'random_need_import', sparsity: 0.5 },
}));

function signinTorch(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, OMP_NUM_THREADS: '1', SIGNIN_TORCH_LOG_LEVEL: 'warn' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const HINT = 'if a module of yours registers it, pass --import with that module, as when the run was trained (docs/extending.md)';

test('list runs and report without the module name each unregistered name with the --import fix', () => {
  const trained = signinTorch(['train', '--import', './my-ext.js', '--config', 'config.json', '--runs-dir', 'runs']);
  expect({ code: trained.code, err: trained.err }).toEqual({ code: 0, err: expect.any(String) });

  const listed = signinTorch(['list', 'runs', '--runs-dir', 'runs', '--json']);
  expect({ code: listed.code, err: listed.err }).toEqual({ code: 0, err: '' });
  const [run] = JSON.parse(listed.out) as { status: string; problems: string[] }[];
  expect(run.status).toBe('corrupt');
  expect(run.problems.map((p) => p.endsWith(`; ${HINT}`))).toEqual([true, true, true]);
  expect(run.problems).toEqual([
    expect.stringMatching(/^config\.json: dataset\.name: Expected one of .* but received 'toy_need_import' of type string; /),
    expect.stringMatching(/^config\.json: model\.name: Expected one of .*'lenet5'.* but received 'linear_need_import' of type string; /),
    expect.stringMatching(/^config\.json: pruning\.method: Expected one of .* but received 'random_need_import' of type string; /),
  ]);

  const report = signinTorch(['report', '--runs-dir', 'runs', '--no-plots']);
  expect(report.code).toBe(0);
  expect(report.err).toContain(`but received 'toy_need_import' of type string; ${HINT}`);
  expect(report.err).toContain(`but received 'linear_need_import' of type string; ${HINT}`);

  const withModule = signinTorch(['list', 'runs', '--runs-dir', 'runs', '--json', '--import', './my-ext.js']);
  expect(JSON.parse(withModule.out)).toEqual([expect.objectContaining({ status: 'finished' })]);
}, 300_000);

test('without the module, resuming the run names the --import fix; checkRunIntact names it, not the run as damaged', () => {
  const runsDir = path.join(dir, 'runs');
  const [run] = fs.readdirSync(runsDir).filter(isRunDirName).map((n) => path.join(runsDir, n));
  const before = fs.readdirSync(run).map((f) => [f, fs.statSync(path.join(run, f)).mtimeMs]);
  // The config naming the run is parsed before the run directory is looked at.
  const resumed = signinTorch(['train', '--config', 'config.json', '--runs-dir', 'runs']);
  expect(resumed.code).toBe(1);
  expect(resumed.err).toMatch(/^ERR_CONFIG: Invalid experiment config from config\.json \(3 issues\): dataset\.name: .* but received 'toy_need_import' .*; model\.name: .* but received 'linear_need_import' .*; a name of your own: --import the module that registers it \(docs\/extending\.md\)\n$/);

  // This jest process never loaded the module: as a script of the user's checking the run.
  const fix = "pass --import with the module of yours that registers 'toy_need_import', 'linear_need_import', 'random_need_import', as when the run was trained (docs/extending.md)";
  expect(() => checkRunIntact(run)).toThrow(`Run directory ${run} names a dataset, model or pruner this process has not registered (${fix}, or restore config.json if it was edited since):\n`);
  expect(fs.readdirSync(run).map((f) => [f, fs.statSync(path.join(run, f)).mtimeMs])).toEqual(before);
}, 300_000);
