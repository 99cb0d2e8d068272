import * as fs from 'node:fs';

/**
 * Whether process `pid` exists on this host and has not exited (EPERM: it does, another user's).
 * A zombie (exited, not yet reaped by its parent) still answers kill(pid, 0), but it holds no
 * lock, writes no file and supervises nothing: on Linux its state in /proc/<pid>/stat says so.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !exited(pid);
}

/** Linux: 'Z' (zombie) or 'X' (dead) in /proc/<pid>/stat. Elsewhere, or unreadable: false, kill's answer stands. */
function exited(pid: number): boolean {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return false;
  }
  // "<pid> (<comm>) <state> ...": comm may hold spaces and parentheses, the state follows the last ')'.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X';
}
