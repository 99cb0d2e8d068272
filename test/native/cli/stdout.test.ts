/**
 * stdout carries only a command's result: `prune --json > out.json` gives valid JSON even when
 * the pruning logs a warning (a layer emptied at 99.9% global sparsity), which goes to stderr.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const CLI = path.join(__dirname, '..', '..', '..', 'src', 'cli.ts');
const TSX = require.resolve('tsx');

test('prune --json: JSON on stdout, the warning on stderr', () => {
  const r = spawnSync(process.execPath, [
    '--import', TSX, CLI, 'prune', '--model', 'lenet5', '--dataset', 'fashion_mnist', '--pruner', 'random', '--scope', 'global',
    '--sparsity', '0.999', '--json',
  ], { encoding: 'utf8', env: { ...process.env, SIGNIN_TORCH_LOG_LEVEL: 'info' } });
  expect(r.status).toBe(0);
  const report = JSON.parse(r.stdout) as Record<string, unknown>;
  expect(typeof report).toBe('object');
  const logs = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string });
  expect(logs.some((l) => l.level === 40)).toBe(true);
});
