/** A fuzz worker's line to its parent. */
import * as fs from 'node:fs';

// stdout is a non-blocking pipe: writeSync may write part of a line or throw EAGAIN when the pipe
// is full, and a lost line would look like a crash to the parent.
export function say(line: string): void {
  let data = Buffer.from(`${line}\n`);
  while (data.length) {
    try {
      data = data.subarray(fs.writeSync(1, data));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    }
  }
}
