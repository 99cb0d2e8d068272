/**
 * The child side of files.test.ts: mutants start..count-1 of one format, each read through the
 * public API (files-formats.ts), with the protocol of fuzz-worker.ts on stdout:
 *   N <count>, S <i> <label> before mutant i, E <i> <json outcome> after it, where the outcome is
 *   {ok}, {code}, {inconsistent: why} (a load that succeeded but does not match its bytes),
 *   {unnamed: message} (a coded error that names neither the file nor its folder),
 *   {memory: why} (the peak resident memory rose by more than the mutant can explain) or
 *   {other: 'Name: message'} (an error without a toolkit code).
 * Usage: node --import tsx files-worker.ts <format> <start> <count>; SIGNIN_FUZZ_FILES_SEED
 * changes the seed (default 1). The valid files are written under the working directory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IssuesError, ToolkitError } from '../../src/errors';
import { seedsOf, type FormatName } from './files-formats';
import { seeded } from '../helpers/pytorch';
import { hash32 } from './files-mutate';
import { say } from './say';

/** Peak resident memory (bytes) a mutant may add: the reader's working set, plus what the file's own size can justify. */
const MEMORY_SLACK = 256 * 2 ** 20;
const MEMORY_PER_FILE_BYTE = 1100;

function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

function describe(e: unknown, file: string): object {
  if (!(e instanceof ToolkitError)) return { other: `${(e as Error)?.name}: ${String((e as Error)?.message).slice(0, 300)}` };
  const text = [e.message, ...(e instanceof IssuesError ? e.issues.map((i) => `${i.path} ${i.message}`) : [])].join('\n');
  // A stack overflow caught and passed on as a coded error's reason says nothing of what was expected.
  if (text.includes('Maximum call stack size exceeded')) return { other: `a stack overflow inside ${e.code}: ${e.message.slice(0, 300)}` };
  const names = [path.basename(file), path.basename(path.dirname(file))];
  return names.some((n) => text.includes(n)) ? { code: e.code } : { unnamed: `${e.code}: ${e.message.slice(0, 300)}` };
}

async function main(): Promise<void> {
  const [format, startArg, countArg] = process.argv.slice(2) as [FormatName, string, string];
  const base = Number(process.env.SIGNIN_FUZZ_FILES_SEED ?? 1);
  const dir = fs.mkdtempSync(path.join(process.cwd(), `${format}-`));
  const seeds = await seedsOf(format, dir);
  // The valid files load cleanly first: a failure here is the harness's, and the readers' one-off
  // allocations (sharp, libtorch) are then out of the per-mutant memory measure.
  for (const s of seeds) {
    const bad = await s.load(s.bytes);
    if (bad) throw new Error(`the valid ${s.name} does not load consistently: ${bad}`);
  }
  const count = Number(countArg);
  say(`N ${count}`);
  for (let i = Number(startArg); i < count; i++) {
    const seed = seeds[i % seeds.length];
    const r = seeded(hash32(format) ^ Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(base, 0x85ebca6b));
    const m = seed.mutate(r);
    say(`S ${i} ${format}/${seed.name} #${i}: ${m.label} (${m.bytes.length} bytes)`);
    const before = peakRss();
    let result: object;
    try {
      const bad = await seed.load(m.bytes);
      result = bad ? { inconsistent: bad } : { ok: true };
    } catch (e) {
      result = describe(e, seed.file);
    }
    const grew = peakRss() - before;
    if (grew > MEMORY_SLACK + MEMORY_PER_FILE_BYTE * m.bytes.length) result = { memory: `peak resident memory rose by ${Math.round(grew / 2 ** 20)} MiB for a ${m.bytes.length}-byte file` };
    say(`E ${i} ${JSON.stringify(result)}`);
  }
}

process.on('unhandledRejection', () => {});
main().then(() => process.exit(0), (e) => {
  process.stderr.write(`${String((e as Error)?.stack ?? e)}\n`);
  process.exit(3);
});
