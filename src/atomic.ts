/**
 * Atomic file writes, shared by every layer that writes files (safetensors, checkpoints, run
 * directories, reports): readers see the old content or the new, never a part.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** `.<name>.<pid>.<random>.tmp`: the pid tells a writer still alive from one that was killed. */
const TEMP_NAME = /^\.(.+)\.(\d+)\.[0-9a-z]+\.tmp$/;

/** Temporary sibling of a file (same directory, so the rename is atomic). */
export function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files that writers killed mid-write left in dir (their pid is gone);
 * returns their paths. Temporary files of live processes, this one included, stay.
 */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m) continue;
    const pid = Number(m[2]);
    if (pid === process.pid || isAlive(pid)) continue;
    fs.rmSync(path.join(dir, name), { force: true });
    removed.push(path.join(dir, name));
  }
  return removed;
}

/**
 * SIGNIN_TORCH_PAUSE_WRITE=<file name>:<n> stops this process forever inside its n-th write of a
 * file of that name, after half the data reached the temporary file, and says so on stderr: the
 * resume tests SIGKILL it there, deterministically. Unset, it costs one lookup per write.
 */
const pauseCounts = new Map<string, number>();

function pauseIfAsked(file: string, tmp: string): void {
  const spec = process.env.SIGNIN_TORCH_PAUSE_WRITE;
  if (!spec) return;
  const [name, nth] = spec.split(':');
  if (name !== path.basename(file)) return;
  const n = (pauseCounts.get(name) ?? 0) + 1;
  pauseCounts.set(name, n);
  if (n !== Number(nth ?? 1)) return;
  process.stderr.write(`signin-torch: paused writing ${tmp}\n`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

/**
 * Writes a temporary sibling, fsyncs it and renames it over the target; creates missing folders.
 * With `previous`, the target is first renamed to that path once the new content is safely in the
 * temporary file, so a kill at any point leaves the newest complete file under `file` or, between
 * the two renames, under `previous`.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, options: { previous?: string } = {}): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tempPathFor(file);
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      const half = bytes.subarray(0, bytes.length >> 1);
      fs.writeFileSync(fd, half);
      pauseIfAsked(file, tmp);
      fs.writeFileSync(fd, bytes.subarray(half.length));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (options.previous && fs.existsSync(file)) fs.renameSync(file, options.previous);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** JSON with 2-space indentation and a final newline, written atomically. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}
