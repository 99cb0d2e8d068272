/**
 * Generates src/tensor/aten.ts, the typed op table, from the operator schemas of the libtorch the
 * addon is linked against:
 *
 *   npm run gen:aten            # rewrite src/tensor/aten.ts
 *   npm run gen:aten -- --check # exit 1 when the checked-in file differs from a fresh one
 *
 * The schemas come from the addon (opHandle/opSchema, i.e. c10::Dispatcher's registry) rather
 * than from Python's torch._C._jit_get_all_schemas(): the addon is what the generated calls go
 * through, so its registry is the one the names must resolve in, and it needs no Python.
 * Only the operators in scripts/gen-aten-ops.txt are generated; each group (one name and its
 * overloads) becomes one function whose TypeScript overloads mirror the schemas and whose body
 * picks the overload from the arguments' JS types.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native } from '../src/native';

const ROOT = path.resolve(__dirname, '..');
const OPS_FILE = path.join(ROOT, 'scripts', 'gen-aten-ops.txt');
export const OUT_FILE = path.join(ROOT, 'src', 'tensor', 'aten.ts');

/** How a JS value for a parameter is recognised when choosing between overloads. */
type Kind = 'tensor' | 'number' | 'boolean' | 'string' | 'list' | 'intlist' | 'generator';

interface Param {
  name: string;
  ts: string;
  kind: Kind;
  optional: boolean;
}

interface Overload {
  qualified: string;
  ident: string;
  schema: string;
  params: Param[];
  returns: string;
  inPlace: boolean;
}

/** Splits on commas outside brackets and parentheses. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(' || ch === '[') depth++;
    if (ch === ')' || ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else {
      cur += ch;
    }
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** The schema type without alias annotations: `Tensor(a!)` → `Tensor`. */
function plainType(t: string): string {
  return t.replace(/Tensor\([^)]*\)/g, 'Tensor');
}

function mapType(type: string, op: string): { ts: string; kind: Kind } {
  const t = type.replace(/\?$/, '');
  const listOf = /^(\w+\??)\[(\d*)\]$/.exec(t);
  if (listOf) {
    const [, elem, n] = listOf;
    if (elem === 'Tensor') return { ts: 'Tensor[]', kind: 'list' };
    if (elem === 'Tensor?') return { ts: '(Tensor | undefined)[]', kind: 'list' };
    if (elem === 'int' || elem === 'SymInt') return n ? { ts: 'number | number[]', kind: 'intlist' } : { ts: 'number[]', kind: 'list' };
    if (elem === 'float') return { ts: 'number[]', kind: 'list' };
    if (elem === 'bool') return { ts: 'boolean[]', kind: 'list' };
  }
  switch (t) {
    case 'Tensor': return { ts: 'Tensor', kind: 'tensor' };
    case 'Scalar': case 'int': case 'SymInt': case 'float': return { ts: 'number', kind: 'number' };
    case 'bool': return { ts: 'boolean', kind: 'boolean' };
    case 'ScalarType': return { ts: 'DType', kind: 'string' };
    case 'Device': return { ts: 'string', kind: 'string' };
    case 'Layout': return { ts: "'strided'", kind: 'string' };
    case 'MemoryFormat': return { ts: "'contiguous' | 'preserve' | 'channels_last'", kind: 'string' };
    case 'str': return { ts: 'string', kind: 'string' };
    case 'Generator': return { ts: 'Generator', kind: 'generator' };
    default: throw new Error(`${op}: no TypeScript type for schema type ${type}`);
  }
}

function mapReturns(ret: string, op: string): string {
  const r = plainType(ret.trim());
  if (r === '()') return 'void';
  if (r === 'Tensor') return 'Tensor';
  if (r === 'Tensor[]') return 'Tensor[]';
  if (r === 'bool') return 'boolean';
  if (r === 'int' || r === 'SymInt' || r === 'float') return 'number';
  const tuple = /^\((.*)\)$/.exec(r);
  if (tuple) {
    const parts = splitTop(tuple[1]).map((p) => p.split(' ')[0]);
    if (parts.every((p) => p === 'Tensor')) return `[${parts.map(() => 'Tensor').join(', ')}]`;
  }
  throw new Error(`${op}: no TypeScript type for return type ${ret}`);
}

const RESERVED = new Set(['var', 'delete', 'new', 'in', 'do', 'if', 'for', 'function', 'class', 'default', 'switch', 'case', 'with', 'typeof', 'void', 'return']);

function camel(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function parseSchema(qualified: string, schema: string): Overload {
  const m = /^([\w:]+(?:\.\w+)?)\((.*)\) -> (.*)$/.exec(schema);
  if (!m) throw new Error(`${qualified}: cannot read schema ${schema}`);
  const params: Param[] = [];
  for (const arg of splitTop(m[2])) {
    if (arg === '*') continue;
    const eq = arg.indexOf('=');
    const decl = (eq < 0 ? arg : arg.slice(0, eq)).trim();
    const space = decl.lastIndexOf(' ');
    const type = plainType(decl.slice(0, space));
    const name = decl.slice(space + 1);
    const { ts, kind } = mapType(type, qualified);
    params.push({ name: camel(name), ts, kind, optional: eq >= 0 || type.endsWith('?') });
  }
  const inPlace = /^Tensor\(\w!\)$/.test(m[3].trim());
  return {
    qualified,
    ident: `_${qualified.replace(/^aten::/, '').replace('.', '_')}`,
    schema,
    params,
    returns: inPlace ? 'void' : mapReturns(m[3], qualified),
    inPlace,
  };
}

function signature(o: Overload): string {
  // An optional parameter becomes `x?` only when every later one is optional too.
  let trailing = true;
  const parts: string[] = [];
  for (let i = o.params.length - 1; i >= 0; i--) {
    const p = o.params[i];
    trailing &&= p.optional;
    const type = p.optional ? `${p.ts} | undefined` : p.ts;
    parts.unshift(trailing ? `${p.name}?: ${type}` : `${p.name}: ${type}`);
  }
  return `(${parts.join(', ')}): ${o.returns}`;
}

/**
 * Overloads that differ only in their parameters' types (add.Tensor and add.Scalar) also get one
 * signature with the union of the types, so that a caller holding `Tensor | number` can pass it.
 */
function mergedSignature(overloads: Overload[]): string | undefined {
  const [first, ...rest] = overloads;
  const names = (o: Overload) => o.params.map((p) => `${p.name}${p.optional}`).join(',');
  if (rest.some((o) => names(o) !== names(first) || o.returns !== first.returns)) return undefined;
  const union: Overload = {
    ...first,
    params: first.params.map((p, i) => ({ ...p, ts: [...new Set(overloads.map((o) => o.params[i].ts))].join(' | ') })),
  };
  return signature(union);
}

const TEST: Record<Kind, (v: string) => string> = {
  tensor: (v) => `isObject(${v})`,
  generator: (v) => `isObject(${v})`,
  number: (v) => `typeof ${v} === 'number'`,
  boolean: (v) => `typeof ${v} === 'boolean'`,
  string: (v) => `typeof ${v} === 'string'`,
  list: (v) => `Array.isArray(${v})`,
  intlist: (v) => `(typeof ${v} === 'number' || Array.isArray(${v}))`,
};

/** The test of argument i against an overload; `undefined` fits a missing or optional parameter. */
function argTest(o: Overload, i: number): string {
  const v = `a[${i}]`;
  const p = o.params[i];
  if (!p) return `${v} === undefined`;
  return p.optional ? `(${v} === undefined || ${TEST[p.kind](v)})` : TEST[p.kind](v);
}

/**
 * The groups whose common case (a Tensor and a Tensor or number, alpha a number) skips overload
 * picking and the schema-driven call for the addon's unboxed binaryOp (dispatch.ts binary()).
 */
const UNBOXED: Record<string, { op: string; alpha: boolean; inPlace: boolean }> = {
  add: { op: 'add', alpha: true, inPlace: false },
  sub: { op: 'sub', alpha: true, inPlace: false },
  mul: { op: 'mul', alpha: false, inPlace: false },
  div: { op: 'div', alpha: false, inPlace: false },
  add_: { op: 'add', alpha: true, inPlace: true },
  sub_: { op: 'sub', alpha: true, inPlace: true },
  mul_: { op: 'mul', alpha: false, inPlace: true },
  div_: { op: 'div', alpha: false, inPlace: true },
};

function groupFunction(name: string, overloads: Overload[]): string {
  const fn = RESERVED.has(name) ? `${name}_` : name;
  const doc = overloads.map((o) => ` *   ${o.schema}`).join('\n');
  const lines = [`/**\n${doc}\n */`];
  const invoke = (o: Overload) => (o.inPlace ? `callInPlace(${o.ident}, a)` : `call<${o.returns}>(${o.ident}, a)`);
  if (overloads.length === 1) {
    const o = overloads[0];
    const params = signature(o).replace(/^\((.*)\): .*$/, '$1');
    const args = o.params.map((p) => p.name).join(', ');
    lines.push(`export function ${fn}(${params}): ${o.returns} {`);
    lines.push(`  const a = [${args}];`);
    lines.push(`  ${o.inPlace ? '' : 'return '}${invoke(o)};`);
    lines.push('}');
  } else {
    for (const o of overloads) lines.push(`export function ${fn}${signature(o)};`);
    const merged = mergedSignature(overloads);
    if (merged) lines.push(`export function ${fn}${merged};`);
    lines.push(`export function ${fn}(...a: unknown[]): unknown {`);
    const u = UNBOXED[name];
    if (u) {
      const call = u.inPlace ? `binaryInPlace('${u.op}', a)` : `binary<Tensor>('${u.op}', a)`;
      lines.push(`  if (unboxable(a, ${u.alpha})) return ${call};`);
    }
    const width = Math.max(...overloads.map((o) => o.params.length));
    for (const o of overloads) {
      // Only the positions where the overloads' tests differ decide.
      const tests: string[] = [];
      for (let i = 0; i < width; i++) {
        const t = argTest(o, i);
        if (overloads.some((other) => argTest(other, i) !== t)) tests.push(t);
      }
      lines.push(`  if (${tests.join(' && ') || 'true'}) return ${invoke(o)};`);
    }
    lines.push(`  return ${invoke(overloads[0])};`);
    lines.push('}');
  }
  if (fn !== name) lines.push(`export { ${fn} as ${name} };`);
  return lines.join('\n');
}

export function readOpList(file = OPS_FILE): string[] {
  return fs.readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => `aten::${l}`);
}

export function generate(): string {
  const n = native();
  const overloads = readOpList().map((q) => {
    const dot = q.indexOf('.');
    const id = n.opHandle(dot < 0 ? q : q.slice(0, dot), dot < 0 ? '' : q.slice(dot + 1));
    return parseSchema(q, n.opSchema(id));
  });
  const groups = new Map<string, Overload[]>();
  for (const o of overloads) {
    const name = o.qualified.replace(/^aten::/, '').split('.')[0];
    groups.set(name, [...(groups.get(name) ?? []), o]);
  }
  const out = [
    `// Generated by scripts/gen-aten.ts from libtorch ${n.torchVersion()}'s operator schemas (npm run gen:aten): do not edit.`,
    '// Every operator of scripts/gen-aten-ops.txt, one function per name; overloads are picked by the',
    "// arguments' JS types. Parameters keep the schema's order (keyword-only ones last) in camelCase.",
    '/* eslint-disable */',
    "import { binary, binaryInPlace, call, callInPlace, op, unboxable } from './dispatch';",
    "import type { Generator } from './runtime';",
    "import type { DType, Tensor } from './tensor';",
    '',
    `export const TORCH_VERSION = '${n.torchVersion()}';`,
    '',
    '/** Each operator and its schema, as the installed libtorch gave them when this file was generated. */',
    'export const SCHEMAS: Readonly<Record<string, string>> = {',
    ...overloads.map((o) => `  '${o.qualified}': ${JSON.stringify(o.schema).replace(/'/g, "\\'").replace(/^"|"$/g, "'")},`),
    '};',
    '',
    ...overloads.map((o) => `const ${o.ident} = op('${o.qualified}');`),
    '',
    'function isObject(v: unknown): boolean {',
    "  return typeof v === 'object' && v !== null && !Array.isArray(v);",
    '}',
    '',
    ...[...groups].map(([name, os]) => `${groupFunction(name, os)}\n`),
  ];
  return out.join('\n');
}

if (require.main === module) {
  const text = generate();
  if (process.argv.includes('--check')) {
    const current = fs.existsSync(OUT_FILE) ? fs.readFileSync(OUT_FILE, 'utf8') : '';
    if (current !== text) {
      process.stderr.write(`${path.relative(ROOT, OUT_FILE)} is out of date: run npm run gen:aten\n`);
      process.exit(1);
    }
  } else {
    fs.writeFileSync(OUT_FILE, text);
    process.stdout.write(`wrote ${path.relative(ROOT, OUT_FILE)}\n`);
  }
}
