/**
 * docs/extending.md as a user follows it: its extension module (the first ```ts block) and config
 * (the ```json block) written to a folder, its shell lines run there as written (signin-torch is
 * src/cli.ts, 'signin-torch' is src/index.ts, NODE_OPTIONS loads tsx by absolute URL), and its
 * from-code block run with tsx. Checked against what the module defines, computed here: the
 * model's parameter count, the pruner's masks (each layer's first half), both runs in the same
 * run directory name (the config's hash does not see the module).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadSafetensors, readFinal } from '../../../src';
import { tmpDir } from '../../helpers/data-fixtures';

const ROOT = path.join(__dirname, '..', '..', '..');
const SRC = JSON.stringify(path.join(ROOT, 'src', 'index.ts'));
const TSX_URL = pathToFileURL(require.resolve('tsx')).href;
const doc = fs.readFileSync(path.join(ROOT, 'docs', 'extending.md'), 'utf8');
const blocks = (lang: string) => [...doc.matchAll(new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, 'gm'))].map((m) => m[1]);
const dir = tmpDir('extending-doc-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const [extBlock, codeBlock] = blocks('ts');
const [configBlock] = blocks('json');
const [shBlock] = blocks('sh');
const env = { ...process.env, NODE_OPTIONS: `--import ${TSX_URL}`, SIGNIN_TORCH_LOG_LEVEL: 'warn', OMP_NUM_THREADS: '1' };

function setUp(folder: string): void {
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, 'my-ext.ts'), extBlock.replace(/'signin-torch'/g, SRC));
  fs.writeFileSync(path.join(folder, 'my-config.json'), configBlock);
  fs.writeFileSync(path.join(folder, 'my-sweep.json'), JSON.stringify({ base: JSON.parse(configBlock), seeds: [0, 1] }));
}

function onlyRun(runs: string): string {
  const found = fs.readdirSync(runs).filter((d) => d.startsWith('train_'));
  expect(found).toHaveLength(1);
  return path.join(runs, found[0]);
}

/** fc1 3·8·8 → 16, fc2 16 → 4, with biases; uniform 50% keeps each layer's first half. */
function expectTinyNetPrunedByKeepFirst(run: string): void {
  expect(readFinal(run)?.epoch).toBe(2);
  const ckpt = loadSafetensors(path.join(run, 'checkpoint.safetensors'));
  try {
    const numel = (k: string) => ckpt.get(k)!.numel;
    expect(numel('model.fc1.weight_m') + numel('model.fc1.bias') + numel('model.fc2.weight_m') + numel('model.fc2.bias')).toBe(3 * 8 * 8 * 16 + 16 + 16 * 4 + 4);
    for (const [layer, n] of [['fc1', 3 * 8 * 8 * 16], ['fc2', 16 * 4]] as const) {
      expect(ckpt.get(`model.${layer}.weight_mask`)!.reshape([n]).toArray()).toEqual(Array.from({ length: n }, (_, i) => (i < n / 2 ? 1 : 0)));
    }
  } finally {
    for (const t of ckpt.values()) t.dispose();
  }
}

test('the blocks the page holds', () => {
  expect([blocks('ts').length, blocks('json').length, blocks('sh').length]).toEqual([2, 1, 1]);
});

test('the shell lines, run as written: train, a sweep of 2 processes, report', () => {
  const cli = path.join(dir, 'cli');
  setUp(cli);
  const lines = shBlock.trim().split('\n');
  expect(lines[0]).toBe("export NODE_OPTIONS='--import tsx'");
  for (const line of lines.slice(1)) {
    const args = line.split(/\s+/);
    expect(args[0]).toBe('signin-torch');
    const r = spawnSync(process.execPath, [path.join(ROOT, 'src', 'cli.ts'), ...args.slice(1)], { cwd: cli, env, encoding: 'utf8' });
    expect({ line, status: r.status }).toEqual({ line, status: 0 });
  }
  const runs = fs.readdirSync(path.join(cli, 'runs')).filter((d) => d.startsWith('train_')).map((d) => path.join(cli, 'runs', d));
  // train's run is the sweep's seed-0 run (skipped there as finished), and the seed-1 run.
  expect(runs).toHaveLength(2);
  for (const run of runs) expectTinyNetPrunedByKeepFirst(run);
  expect(fs.readFileSync(path.join(cli, 'runs', 'report', 'report.md'), 'utf8')).toContain('| keep_first (layerwise uniform) + Sign-In |');
}, 300_000);

test('the from-code block, after the module: the same run directory name as the CLI', () => {
  const code = path.join(dir, 'code');
  setUp(code);
  const lines = codeBlock.replace(/'signin-torch'/g, SRC).split('\n');
  const imports = lines.filter((l) => l.startsWith('import '));
  const body = lines.filter((l) => !l.startsWith('import ')).join('\n');
  fs.writeFileSync(path.join(code, 'main.ts'), [...imports, 'async function main(): Promise<void> {', body, 'console.log(JSON.stringify(result));', '}', 'main().catch((e) => { console.error(e); process.exit(1); });', ''].join('\n'));
  const r = spawnSync(process.execPath, ['main.ts'], { cwd: code, env, encoding: 'utf8' });
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toMatchObject({ epoch: 2, resumedFrom: 0 });
  const run = onlyRun(path.join(code, 'runs'));
  expectTinyNetPrunedByKeepFirst(run);
  const cliRuns = fs.existsSync(path.join(dir, 'cli', 'runs')) ? fs.readdirSync(path.join(dir, 'cli', 'runs')) : [];
  if (cliRuns.length > 0) expect(cliRuns).toContain(path.basename(run));
}, 300_000);
