/**
 * What the docs name, checked against the repository (their links: test/unit/docs-links.test.ts):
 * `signin-torch <command> --flag` lines, repository paths, config keys, ERR_ codes and
 * SIGNIN_TORCH_* variables. Each check takes one markdown text and returns its stale references
 * ("file:line: what is wrong"), so test/unit/docs-references.test.ts runs it both on the real docs
 * and on synthetic markdown that must be flagged.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import type { z } from 'zod';

export const ROOT = path.resolve(__dirname, '..', '..');

/** One markdown file's text with where it lives (repository-relative), for messages and relative links. */
export interface Doc {
  file: string;
  text: string;
}

/** A piece of code in a doc: an inline span (internal newlines joined) or one logical line of a fenced block. */
interface CodePiece {
  code: string;
  line: number;
  inline: boolean;
  /** The text of its line before an inline span ('' in a block): who a path belongs to. */
  before: string;
}

/** Tracked and untracked-but-not-ignored files: what a fresh clone holds, never build outputs. */
export function repoFiles(): string[] {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n').filter((f) => f && fs.existsSync(path.join(ROOT, f)));
}

const lineAt = (text: string, index: number): number => text.slice(0, index).split('\n').length;
const lineBefore = (text: string, index: number): string => text.slice(text.lastIndexOf('\n', index - 1) + 1, index);

/** The text with fenced blocks blanked line for line, so indexes into it keep their line numbers. */
function withoutFences(text: string): string {
  return text.replace(/^ {0,3}(```|~~~)[^]*?^ {0,3}\1\s*$/gm, (block) => block.replace(/[^\n]/g, ''));
}

/** The fenced blocks of a text: their info string (```json: 'json'), body, and the line their body starts on. */
function fencedBlocks(text: string): { info: string; body: string; line: number }[] {
  return [...text.matchAll(/^ {0,3}(```|~~~)(.*)\n([^]*?)^ {0,3}\1\s*$/gm)]
    .map((m) => ({ info: m[2].trim(), body: m[3], line: lineAt(text, m.index) + 1 }));
}

/** Inline code spans (outside fences, within a paragraph) and the lines of fenced blocks, `\` continuations joined. */
function codePieces(text: string): CodePiece[] {
  const pieces: CodePiece[] = [];
  const prose = withoutFences(text);
  for (const m of prose.matchAll(/(`+)(?!`)([^]*?[^`])\1(?!`)/g)) {
    if (/\n\s*\n/.test(m[2])) continue;
    pieces.push({ code: m[2].replace(/\s*\n\s*/g, ' ').trim(), line: lineAt(prose, m.index), inline: true, before: lineBefore(prose, m.index) });
  }
  for (const block of fencedBlocks(text)) {
    const first = block.line;
    const lines = block.body.split('\n');
    for (let i = 0; i < lines.length; i++) {
      let code = lines[i];
      const line = first + i;
      while (/\\\s*$/.test(code) && i + 1 < lines.length) code = `${code.replace(/\\\s*$/, ' ')}${lines[++i]}`;
      pieces.push({ code, line, inline: false, before: '' });
    }
  }
  return pieces;
}

const stale = (doc: Doc, line: number, problem: string): string => `${doc.file}:${line}: ${problem}`;

/** Where one command of a shell line ends: a pipe, a list, a redirection or a comment. */
const SHELL_END = /\s(?:\|\|?|&&|;|2?>|#)\s|[;|]$/;

/** 1. Each `signin-torch <command> --flag ...` names a command of `program` and flags that command (or the program) accepts. */
export function staleCommands(doc: Doc, program: Command): string[] {
  const out: string[] = [];
  const longs = (c: Command) => new Set(c.options.flatMap((o) => [o.long, o.short]).filter((f): f is string => !!f).concat(['--help', '-h']));
  const global = longs(program);
  for (const piece of codePieces(doc.text)) {
    for (const m of piece.code.matchAll(/(?<![\w/.@-])signin-torch[ \t]+(?=\S)/g)) {
      const words = piece.code.slice(m.index + m[0].length).split(SHELL_END)[0].split(/\s+/).filter(Boolean);
      const name = words.find((w, i) => !w.startsWith('-') && words[i - 1] !== '--import');
      // `signin-torch <command> --help`, `signin-torch [--import m] ...`: a placeholder names no command.
      if (name === undefined || /^[<[{]/.test(name)) continue;
      const command = program.commands.find((c) => c.name() === name || c.aliases().includes(name));
      if (!command) {
        out.push(stale(doc, piece.line, `signin-torch ${name}: no such command (commands: ${program.commands.map((c) => c.name()).join(', ')})`));
        continue;
      }
      const accepted = new Set([...global, ...longs(command)]);
      const flags = words.map((w) => w.replace(/^[[(|'"]+/, '').replace(/[=\])|'",.]+.*$/, ''))
        .filter((w) => /^--[a-z][\w-]*$|^-[a-zA-Z]$/.test(w));
      for (const flag of flags) {
        if (!accepted.has(flag)) out.push(stale(doc, piece.line, `signin-torch ${name} ${flag}: ${name} has no such flag`));
      }
    }
  }
  return out;
}

const PATH_PREFIXES = ['src/', 'test/', 'bench/', 'scripts/', 'configs/', 'docs/', 'examples/', 'native/', '.ci/'];

const escape = (text: string): string => text.replace(/[.+^$()|[\]\\{}<>]/g, '\\$&');

/** A glob (`*`, `**`, `?`, `{a,b}`, `<placeholder>`) as a regular expression over repository paths. */
function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '<' && glob.includes('>', i)) {
      re += '[^/]+';
      i = glob.indexOf('>', i);
    } else if (c === '{' && glob.includes('}', i)) {
      const end = glob.indexOf('}', i);
      re += `(?:${glob.slice(i + 1, end).split(',').map(escape).join('|')})`;
      i = end;
    } else re += escape(c);
  }
  return new RegExp(`^${re}(?:/.*)?$`);
}

/**
 * A path of another repository: after "owner/name's", or on a line (a table row) that names
 * owner/name @commit. docs/pruning-fidelity.md and docs/gpu.md cite upstream files so.
 */
const FOREIGN = /(?:\b[\w-]+\/[\w.-]+'s\s*$)|\b[\w-]+\/[\w.-]+ @[0-9a-f]{7,40}\b/;

const PATH_TOKEN = new RegExp(`(?<![\\w/.@~$-])(?:\\./)?((?:${PATH_PREFIXES.map((p) => p.replace('.', '\\.')).join('|')})[\\w./*<>-]*)`, 'g');

/** Where a doc names a repository path: inline code that starts with one, a bare one in prose, one in a code block. */
function pathMentions(doc: Doc): { rel: string; line: number }[] {
  const mentions: { rel: string; line: number }[] = [];
  for (const piece of codePieces(doc.text)) {
    if (piece.inline) {
      const first = piece.code.split(/\s/)[0];
      if (PATH_PREFIXES.some((p) => first.startsWith(p)) && !FOREIGN.test(piece.before)) mentions.push({ rel: first, line: piece.line });
    } else {
      for (const m of piece.code.matchAll(PATH_TOKEN)) mentions.push({ rel: m[1], line: piece.line });
    }
  }
  // Prose: fences, inline code and link targets (docs-links.test.ts's) blanked, so each path is met once.
  const prose = withoutFences(doc.text).replace(/`[^`]*`|\]\([^)]*\)/g, (s) => s.replace(/[^\n]/g, ' '));
  for (const m of prose.matchAll(PATH_TOKEN)) {
    if (!FOREIGN.test(lineBefore(prose, m.index))) mentions.push({ rel: m[1], line: lineAt(prose, m.index) });
  }
  return mentions;
}

/** 2. Repository paths (src/, test/, ...) in inline code, prose, code blocks and layout trees name a file or folder that exists; a glob matches one. */
export function stalePaths(doc: Doc, files: readonly string[]): string[] {
  const out: string[] = [];
  for (const { rel: raw, line } of [...pathMentions(doc), ...layoutMentions(doc)]) {
    // `src/cli.ts:120`, `docs/errors.md#err_config`, a sentence's full stop: the path is before them.
    const rel = raw.replace(/(?::\d+(?:-\d+)?|#.*)$/, '').replace(/[.,;:)]+$/, '').replace(/\/$/, '');
    const re = globRegExp(rel);
    if (!files.some((f) => re.test(f))) out.push(stale(doc, line, `path ${rel}: no such file or folder in the repository`));
  }
  return out;
}

/**
 * The paths of a layout tree (a fenced block whose first line is `dir/  what it holds`): a name at
 * the margin is a top folder, one indented by a few spaces is inside the last top folder, names
 * joined by commas are several; a line indented further continues a description.
 */
function layoutMentions(doc: Doc): { rel: string; line: number }[] {
  const mentions: { rel: string; line: number }[] = [];
  for (const block of fencedBlocks(doc.text)) {
    const lines = block.body.split('\n');
    if (block.info !== '' || !/^[\w.-]+\/\s{2,}\S/.test(lines[0])) continue;
    const first = block.line;
    let top = '';
    lines.forEach((text, i) => {
      const indent = /^ */.exec(text)![0].length;
      if (text.trim() === '' || indent > 4) return;
      const names = /^\s*((?:\S+,\s+)*\S+)/.exec(text)![1].split(/,\s+/);
      if (indent === 0) top = names[0];
      for (const name of names) mentions.push({ rel: indent === 0 ? name : `${top}${name}`, line: first + i });
    });
  }
  return mentions;
}

/** zod's wrappers (default, optional, pipe, ...) peeled off to the schema that holds the value. */
function unwrap(schema: z.ZodType): z.ZodType {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let s: any = schema;
  for (;;) {
    const def = s._zod.def;
    if (def.innerType) s = def.innerType;
    else if (def.type === 'pipe') s = def.in._zod.def.type === 'transform' ? def.out : def.in;
    else if (def.type === 'lazy') s = def.getter();
    else return s;
  }
}

/** Whether a dotted key path names a field of the schema; a record takes any key (its <placeholder> too). */
export function schemaHasPath(schema: z.ZodType, keys: readonly string[]): boolean {
  const s = unwrap(schema);
  if (keys.length === 0) return true;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const def = (s as any)._zod.def;
  const [key, ...rest] = keys;
  switch (def.type) {
    case 'object': return Object.hasOwn(def.shape, key) && schemaHasPath(def.shape[key], rest);
    case 'record': return schemaHasPath(def.valueType, rest);
    case 'union': return def.options.some((o: z.ZodType) => schemaHasPath(o, keys));
    case 'intersection': return schemaHasPath(def.left, keys) || schemaHasPath(def.right, keys);
    default: return false;
  }
}

/** The top-level fields of the config that are sections of fields (signin, optimizer), not one value. */
export function configSections(schema: z.ZodType): string[] {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const type = (s: z.ZodType): string => (unwrap(s) as any)._zod.def.type;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const shape = (unwrap(schema) as any)._zod.def.shape as Record<string, z.ZodType>;
  return Object.keys(shape).filter((k) => type(shape[k]) === 'object');
}

/** File names that look like `section.key` (pruning.ts): not config keys. */
const FILE_EXT = /\.(?:ts|js|cjs|mjs|json|md|py|sh|cc|h|cu|csv|svg|txt|pt|safetensors)$/;

/** The JSON of a ```json block, a whole object or its fields alone ("checkpoint": {...}); undefined when neither parses. */
function jsonObject(text: string): Record<string, unknown> | undefined {
  for (const candidate of [text, `{${text}}`]) {
    try {
      const value: unknown = JSON.parse(candidate);
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      // Not this reading: the other, or neither.
    }
  }
  return undefined;
}

/** The dotted paths of an object's fields, nested objects' included (not into arrays). */
function keyPaths(value: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(value).flatMap(([k, v]) => [
    `${prefix}${k}`,
    ...(v !== null && typeof v === 'object' && !Array.isArray(v) ? keyPaths(v as Record<string, unknown>, `${prefix}${k}.`) : []),
  ]);
}

/**
 * 3. Keys given to `--set`/`--pair-by`, inline `section.key` (section a config section) and the
 * fields of a ```json block that holds config fields are fields of the config schema.
 */
export function staleConfigKeys(doc: Doc, schema: z.ZodType): string[] {
  const out: string[] = [];
  const sections = configSections(schema);
  const check = (key: string, line: number, how: string) => {
    if (!schemaHasPath(schema, key.split('.'))) out.push(stale(doc, line, `config key ${key} (${how}): not in the config schema`));
  };
  for (const piece of codePieces(doc.text)) {
    for (const m of piece.code.matchAll(/--(set|pair-by)[ =]+['"]?([A-Za-z][\w.<>-]*)/g)) check(m[2], piece.line, `--${m[1]}`);
    if (!piece.inline) continue;
    const m = /^([A-Za-z]\w*)((?:\.[\w<>]+)+)(?=$|\s*[=:]|\s)/.exec(piece.code);
    if (m && sections.includes(m[1]) && !FILE_EXT.test(m[0])) check(m[0], piece.line, 'inline');
  }
  // A block of other JSON (a sweep file's base and grid, a metrics row) names no config field at its top.
  for (const block of fencedBlocks(doc.text).filter((b) => b.info === 'json' || b.info === 'jsonc')) {
    const value = jsonObject(block.body);
    if (!value || !Object.keys(value).some((k) => schemaHasPath(schema, [k]))) continue;
    for (const key of keyPaths(value)) check(key, block.line - 1, 'json block');
  }
  return out;
}

/** 4. ERR_ codes the docs mention are among `codes`; SIGNIN_* variables (SIGNIN_TORCH_* among them) are among those `envNames` matches. */
export function staleNames(doc: Doc, codes: ReadonlySet<string>, envNames: readonly RegExp[]): string[] {
  const out: string[] = [];
  for (const m of doc.text.matchAll(/\bERR_[A-Z0-9_]*[A-Z0-9]/g)) {
    if (!codes.has(m[0])) out.push(stale(doc, lineAt(doc.text, m.index), `${m[0]}: no such error code in src/`));
  }
  for (const m of doc.text.matchAll(/\bSIGNIN_[A-Z0-9_]*[A-Z0-9]/g)) {
    if (!envNames.some((re) => re.test(m[0]))) out.push(stale(doc, lineAt(doc.text, m.index), `${m[0]}: nothing outside test/ and the docs reads it`));
  }
  return out;
}

/**
 * The ERR_ codes src/ defines or compares with: ERROR_CODES' keys and every quoted 'ERR_…' in
 * src/ (Node's own codes, such as ERR_FS_EISDIR, that the toolkit handles).
 */
export function sourceErrorCodes(files: readonly string[], defined: readonly string[]): Set<string> {
  const codes = new Set(defined);
  for (const f of files.filter((x) => x.startsWith('src/') && x.endsWith('.ts'))) {
    for (const m of fs.readFileSync(path.join(ROOT, f), 'utf8').matchAll(/['"`](ERR_[A-Z0-9_]+)['"`]/g)) codes.add(m[1]);
  }
  return codes;
}

/** Where SIGNIN_* variables are read: the code (src/, bench/, examples/), the scripts, the addon (getenv) and its build (CMake options). */
const ENV_READERS = /^(?:src|scripts|bench|examples|native|cmake)\/|^CMakeLists\.txt$|^binding\.gyp$/;

/**
 * The SIGNIN_* names the code uses, as patterns: a template such as `SIGNIN_TORCH_${NAME}_ROOT`
 * matches any upper-case name in its ${}.
 */
export function sourceEnvNames(files: readonly string[]): RegExp[] {
  const names = new Set<string>();
  for (const f of files.filter((x) => ENV_READERS.test(x) && !x.endsWith('.md'))) {
    for (const m of fs.readFileSync(path.join(ROOT, f), 'utf8').matchAll(/SIGNIN_[A-Z0-9_]*(?:\$\{[^}]*\}[A-Z0-9_]*)*/g)) names.add(m[0]);
  }
  return [...names].map((n) => new RegExp(`^${n.split(/\$\{[^}]*\}/).join('[A-Z0-9_]+')}$`));
}

/** 5. `npm run <script>` (and `npm test`) in code names a script of package.json. */
export function staleNpmScripts(doc: Doc, scripts: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const piece of codePieces(doc.text)) {
    for (const m of piece.code.matchAll(/\bnpm\s+(?:run(?:-script)?\s+(?:(?:-s|--silent)\s+)?([\w:.-]+)|(test|start)\b)/g)) {
      const name = m[1] ?? m[2];
      if (!scripts.has(name)) out.push(stale(doc, piece.line, `npm run ${name}: no such script in package.json`));
    }
  }
  return out;
}
