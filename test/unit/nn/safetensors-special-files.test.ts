/**
 * A FIFO, a folder or a device in a checkpoint's place (resume, --resume, transfer, a kept
 * checkpoint): open(2) on a FIFO waits for a writer for ever, so loading one hung. Every load goes
 * through the same opener; it is run in a child process, since the failure mode is a hang.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const SAFETENSORS = path.join(__dirname, '..', '..', '..', 'src', 'nn', 'safetensors.ts');

let root: string;
beforeEach(() => { root = fs.mkdtempSync(path.join(os.tmpdir(), 'st-special-')); });
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

/** Each file loaded, header only and whole, in one child: the error messages, in order. */
function loadInChild(files: string[]): string[] {
  const script = `const st = require(${JSON.stringify(SAFETENSORS)});
const out = [];
for (const f of ${JSON.stringify(files)}) {
  for (const load of [st.loadSafetensorsHeader, st.loadSafetensorsWithMetadata]) {
    try { load(f); out.push('loaded'); } catch (e) { out.push(e.code + ': ' + e.message); }
  }
}
process.stdout.write(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['--import', require.resolve('tsx'), '-e', script], { encoding: 'utf8', timeout: 120_000 });
  expect({ signal: r.signal, status: r.status, stderr: r.stderr }).toEqual({ signal: null, status: 0, stderr: '' });
  return JSON.parse(r.stdout) as string[];
}

(fs.existsSync('/usr/bin/mkfifo') || fs.existsSync('/bin/mkfifo') ? test : test.skip)('a FIFO, a folder or a device in place of a checkpoint is refused, naming it and what it is', () => {
  const fifo = path.join(root, 'last.safetensors');
  execFileSync('mkfifo', [fifo]);
  const folder = path.join(root, 'best.safetensors');
  fs.mkdirSync(folder);
  const files = [fifo, folder, '/dev/zero', '/dev/urandom'];
  const what = ['a FIFO (named pipe)', 'a directory', 'a character device', 'a character device'];
  const expected = files.flatMap((f, i) => {
    const m = `ERR_SAFETENSORS: Cannot read safetensors file '${f}': expected a regular file, but it is ${what[i]}`;
    return [m, m];
  });
  expect(loadInChild(files)).toEqual(expected);
});
