import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const SRC = path.join(__dirname, '..', '..', 'src');

/**
 * How far `process.memoryUsage().arrayBuffers` grows while `expr` runs, in a child with
 * --expose-gc that collects (and finishes sweeping) first, so no garbage from before can be freed meanwhile and hide
 * what `expr` leaves behind. `expr` sees the toolkit's `src/` as `src` and `held` (the bytes its
 * result must keep) is evaluated on that result, `r`.
 */
export function arrayBufferGrowth(expr: string, held: string): { grown: number; held: number } {
  const script = `
    const src = require(${JSON.stringify(SRC)});
    // Twice: V8 frees dead ArrayBuffers' backing stores on a sweeper that may still be running
    // after a collection returns (one CI run saw 175 KB freed during expr); a collection first
    // finishes the previous one's sweep.
    globalThis.gc();
    globalThis.gc();
    const before = process.memoryUsage().arrayBuffers;
    const r = ${expr};
    const grown = process.memoryUsage().arrayBuffers - before;
    process.stdout.write(JSON.stringify({ grown, held: ${held} }));`;
  const r = spawnSync(process.execPath, ['--expose-gc', '--require', require.resolve('tsx/cjs'), '-e', script], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`child failed (${r.status ?? r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout) as { grown: number; held: number };
}
