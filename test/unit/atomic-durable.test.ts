/**
 * writeFileAtomic (checkpoints, configs, reports) makes its rename durable: the temporary file is
 * fsync'd before it is renamed over the target, and the folder after (a rename alone can be lost
 * in a power cut, bringing the old file, or none, back), with the parents of the folders it made.
 * What is observable is the order of the calls: each fsync'd path read from /proc.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../src/atomic';
import { fsyncsAndRenames } from '../helpers/fsync-trace';
import { tempDir } from '../helpers/temp';

/** The temporary file's paths as <tmp>, so that the events read the same each run. */
async function traced(write: () => void): Promise<string[]> {
  return (await fsyncsAndRenames(write)).map((e) => e.replace(/\/\.[^/ ]*\.tmp(?= |$)/g, '/<tmp>').replace(/^rename \S*\/<tmp> /, 'rename tmp '));
}

(fs.existsSync('/proc/self/fd') ? test : test.skip)('the file before its rename, its folder and the folders made for it after', async () => {
  const parent = fs.realpathSync(tempDir('atomic-'));
  const file = path.join(parent, 'run', 'ckpt', 'checkpoint.safetensors');
  const events = await traced(() => writeFileAtomic(file, 'one'));
  expect(events.slice(0, 2)).toEqual([`fsync ${path.join(parent, 'run', 'ckpt')}/<tmp>`, `rename tmp ${file}`]);
  expect(events.slice(2).sort()).toEqual([parent, path.join(parent, 'run'), path.join(parent, 'run', 'ckpt')].map((d) => `fsync ${d}`).sort());
  // Into a folder that exists: only it, after the rename.
  expect((await traced(() => writeFileAtomic(file, 'two'))).slice(1)).toEqual([`rename tmp ${file}`, `fsync ${path.join(parent, 'run', 'ckpt')}`]);
  expect(fs.readFileSync(file, 'utf8')).toBe('two');
});
