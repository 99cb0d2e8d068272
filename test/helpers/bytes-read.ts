import * as fs from 'node:fs';

/**
 * Bytes this process has read through read(2) and friends so far (Linux /proc/self/io `rchar`,
 * sparse files' holes included): what a bounded read must keep small. Unlike time or peak RSS it
 * does not depend on the machine's load or on what the process held before.
 */
export function bytesRead(): number {
  const m = /^rchar: (\d+)$/m.exec(fs.readFileSync('/proc/self/io', 'utf8'));
  if (!m) throw new Error('no rchar in /proc/self/io');
  return Number(m[1]);
}

/** The bound the tests hold a refused or tail-read 1 GiB file to: module loads and small records fit, the file does not. */
export const SMALL_READ_BYTES = 32 * 2 ** 20;
