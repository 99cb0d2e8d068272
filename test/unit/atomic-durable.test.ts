/**
 * writeFileAtomic (checkpoints, configs, reports) makes its rename durable: the temporary file is
 * fsync'd before it is renamed over the target, and the folder after (a rename alone can be lost
 * in a power cut, bringing the old file, or none, back), with the parents of the folders it made.
 * What is observable is the order of the calls: each fsync'd path read from /proc.
 */
import fsModule from 'node:fs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../src/atomic';
import { tempDir } from '../helpers/temp';

function traced(write: () => void): string[] {
  const events: string[] = [];
  const { fsyncSync, renameSync } = fsModule;
  const syncs = jest.spyOn(fsModule, 'fsyncSync').mockImplementation((fd) => {
    events.push(`fsync ${fs.readlinkSync(`/proc/self/fd/${fd}`)}`);
    fsyncSync(fd);
  });
  const renames = jest.spyOn(fsModule, 'renameSync').mockImplementation((from, to) => {
    events.push(`rename ${path.basename(String(from)).endsWith('.tmp') ? 'tmp' : String(from)} ${String(to)}`);
    renameSync(from, to);
  });
  try {
    write();
  } finally {
    syncs.mockRestore();
    renames.mockRestore();
  }
  return events.map((e) => e.replace(/\/\.[^/]*\.tmp$/, '/<tmp>'));
}

(fs.existsSync('/proc/self/fd') ? test : test.skip)('the file before its rename, its folder and the folders made for it after', () => {
  const parent = fs.realpathSync(tempDir('atomic-'));
  const file = path.join(parent, 'run', 'ckpt', 'checkpoint.safetensors');
  const events = traced(() => writeFileAtomic(file, 'one'));
  expect(events.slice(0, 2)).toEqual([`fsync ${path.join(parent, 'run', 'ckpt')}/<tmp>`, `rename tmp ${file}`]);
  expect(events.slice(2).sort()).toEqual([parent, path.join(parent, 'run'), path.join(parent, 'run', 'ckpt')].map((d) => `fsync ${d}`).sort());
  // Into a folder that exists: only it, after the rename.
  expect(traced(() => writeFileAtomic(file, 'two')).slice(1)).toEqual([`rename tmp ${file}`, `fsync ${path.join(parent, 'run', 'ckpt')}`]);
  expect(fs.readFileSync(file, 'utf8')).toBe('two');
});
