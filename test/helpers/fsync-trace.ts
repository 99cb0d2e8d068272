/**
 * The fsyncs and renames an action makes, in order: each fsync as the path its descriptor is open
 * on (read from /proc, so Linux only), each rename as `rename <from> <to>`. A power cut cannot be
 * pulled in a test; this order is what shows that a rename is durable.
 */
import fsModule from 'node:fs';
import * as fs from 'node:fs';

export async function fsyncsAndRenames(action: () => unknown): Promise<string[]> {
  const events: string[] = [];
  const { fsyncSync, renameSync } = fsModule;
  const syncs = jest.spyOn(fsModule, 'fsyncSync').mockImplementation((fd) => {
    events.push(`fsync ${fs.readlinkSync(`/proc/self/fd/${fd}`)}`);
    fsyncSync(fd);
  });
  const renames = jest.spyOn(fsModule, 'renameSync').mockImplementation((from, to) => {
    events.push(`rename ${String(from)} ${String(to)}`);
    renameSync(from, to);
  });
  try {
    await action();
  } finally {
    syncs.mockRestore();
    renames.mockRestore();
  }
  return events;
}
