/**
 * Data flows one way through src/ (docs/architecture.md): tensor → nn → models/data →
 * pruning/signin/optim → train → experiments → cli. Reads every import of every file under src/
 * and fails on one that reaches a higher folder, and on the optimizer depending on Sign-In (Sign-In
 * plugs into the optimizer's update kinds, not the reverse).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const SRC = path.join(__dirname, '../../../src');

/** Rank of a top-level folder (files at src/ itself are shared utilities: rank 0, cli.ts last). */
const RANK: Record<string, number> = {
  native: 0, tensor: 0, nn: 1, models: 2, data: 2, pruning: 3, signin: 3, optim: 3, sparsify: 3, amp: 3, distributed: 4,
  train: 4, experiments: 5,
};

function rankOf(file: string): number {
  const rel = path.relative(SRC, file).split(path.sep);
  if (rel.length === 1) return rel[0] === 'cli.ts' ? 6 : rel[0] === 'index.ts' ? 7 : 0;
  return RANK[rel[0]] ?? 0;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function relativeImports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import\()\s*'(\.[^']*)'/g)].map((m) => m[1]);
  return specs.map((s) => path.resolve(path.dirname(file), s));
}

const edges = sourceFiles(SRC).flatMap((file) => relativeImports(file).map((target) => ({ file, target })));

test('no file imports a folder higher up the tree', () => {
  const upward = edges
    .filter(({ file, target }) => rankOf(target) > rankOf(file) && !(rankOf(file) === 0 && path.dirname(file) === SRC))
    .map(({ file, target }) => `${path.relative(SRC, file)} → ${path.relative(SRC, target)}`);
  expect(upward).toEqual([]);
});

test('the optimizer does not import Sign-In', () => {
  const optimToSignin = edges
    .filter(({ file, target }) => path.relative(SRC, file).startsWith('optim') && path.relative(SRC, target).startsWith('signin'))
    .map(({ file, target }) => `${path.relative(SRC, file)} → ${path.relative(SRC, target)}`);
  expect(optimToSignin).toEqual([]);
});

test('the checker sees the imports it is meant to see', () => {
  expect(edges.some(({ file, target }) => file.endsWith(path.join('experiments', 'runner.ts')) && target.endsWith(path.join('train', 'trainer')))).toBe(true);
});
