/**
 * The import graph of src/ (a madge-like check, read with the TypeScript compiler's parser):
 * no file cycles, and data flows one way through the folders (architecture.md):
 * native → tensor → nn → models/data → pruning/signin/optim → train → experiments → cli.
 * Type-only imports are left out: they are erased at compile time and load nothing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

const SRC = path.resolve(__dirname, '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

function isTypeOnly(node: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (ts.isExportDeclaration(node)) {
    if (node.isTypeOnly) return true;
    const clause = node.exportClause;
    return !!clause && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly);
  }
  const clause = node.importClause;
  if (!clause) return false;
  if (clause.isTypeOnly) return true;
  const named = clause.namedBindings;
  return !clause.name && !!named && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
}

function resolve(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  return [`${base}.ts`, path.join(base, 'index.ts')].find((p) => fs.existsSync(p));
}

/** file → the src files it imports for their values (relative paths). */
export function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false);
    const deps = new Set<string>();
    for (const node of sf.statements) {
      if (!(ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) || !node.moduleSpecifier) continue;
      if (isTypeOnly(node)) continue;
      const target = resolve(file, (node.moduleSpecifier as ts.StringLiteral).text);
      if (target) deps.add(path.relative(SRC, target));
    }
    graph.set(path.relative(SRC, file), [...deps].sort());
  }
  return graph;
}

/** The strongly connected components with more than one file, or a file importing itself (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) {
        low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

/** The layer of a file: its folder's place in the flow; files at the root of src/ are shared helpers. */
const LAYERS: Record<string, number> = {
  native: 1, tensor: 2, cuda: 2, nn: 3, models: 4, data: 4, pruning: 5, signin: 5, optim: 5, sparsify: 5, amp: 5, train: 6, distributed: 6, experiments: 7,
};
const TOP = new Set(['cli.ts', 'index.ts']);

function layer(file: string): number {
  const [first] = file.split(path.sep);
  if (TOP.has(file)) return 9;
  if (!file.includes(path.sep)) return 0;
  return LAYERS[first] ?? 8;
}

describe('src/ import graph', () => {
  const graph = importGraph();

  it('reads every file and finds the imports', () => {
    expect(graph.get(path.join('tensor', 'tensor.ts'))).toContain(path.join('tensor', 'aten.ts'));
    expect(graph.size).toBeGreaterThan(50);
  });

  it('has no file cycles', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('finds a cycle where there is one (the check can fail)', () => {
    const g = new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']]]);
    expect(cycles(g)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('has no upward imports between folders (' + Object.entries(LAYERS).map(([k, v]) => `${k}:${v}`).join(' ') + ')', () => {
    const upward: string[] = [];
    for (const [file, deps] of graph) {
      for (const d of deps) if (layer(d) > layer(file)) upward.push(`${file} -> ${d}`);
    }
    expect(upward.sort()).toEqual([]);
  });

  it('keeps the optimizers independent of Sign-In (Sign-In plugs into their kind registries)', () => {
    const optimToSignin = [...graph].flatMap(([file, deps]) => (file.startsWith(`optim${path.sep}`) ? deps.filter((d) => d.startsWith(`signin${path.sep}`)).map((d) => `${file} -> ${d}`) : []));
    expect(optimToSignin).toEqual([]);
  });

  it('names ATen operators only inside tensor/ (elsewhere the typed table src/tensor/aten.ts is used)', () => {
    const raw: string[] = [];
    for (const file of graph.keys()) {
      if (file.startsWith(`tensor${path.sep}`)) continue;
      const text = fs.readFileSync(path.join(SRC, file), 'utf8');
      for (const m of text.matchAll(/['"`]aten::\w+/g)) raw.push(`${file}: ${m[0]}`);
    }
    expect(raw).toEqual([]);
  });
});
