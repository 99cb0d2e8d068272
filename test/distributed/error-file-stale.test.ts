/**
 * A launcher killed by SIGKILL cannot remove its folder of error files; a later launch removes
 * it, and only such folders whose launcher is gone: not a running launcher's (its workers would
 * lose their error files), not a folder of another name or form, not another user's.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeErrorDir, removeStaleErrorDirs } from '../../src/distributed/error-file';
import { tmpDir } from '../helpers/data-fixtures';

const LAUNCH = path.join(__dirname, '..', '..', 'src', 'distributed', 'launch.ts');
const ls = (dir: string) => fs.readdirSync(dir).sort();
/** tsx keeps its cache in TMPDIR too. */
const errorDirs = (dir: string) => ls(dir).filter((n) => n.startsWith('signin-torch-errors-'));
/** A pid that was a process's and is no more: spawnSync reaps it. */
const deadPid = () => spawnSync('true').pid!;

function folder(tmp: string, name: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'local-rank-0.json'), '{}');
  return dir;
}

/** `launch(<options>)` in a node process whose temporary folder is `tmp`. */
function launcher(tmp: string, options: object) {
  const script = `require(${JSON.stringify(LAUNCH)}).launch(${JSON.stringify(options)}).then((r) => process.exit(r.exitCode))`;
  return [process.execPath, ['--import', require.resolve('tsx'), '-e', script], { env: { ...process.env, TMPDIR: tmp } }] as const;
}

it('a launcher SIGKILLed mid-launch leaves its folder, named for its pid; the next launch removes it', async () => {
  const tmp = tmpDir('signin-stale-errors-');
  const pidFile = path.join(tmp, 'worker.pid');
  const [node, args, opts] = launcher(tmp, { nproc: 1, command: 'sh', args: ['-c', `echo $$ > ${pidFile}; exec sleep 60`] });
  const killed = spawn(node, args, { ...opts, stdio: 'ignore' });
  const exited = new Promise((r) => killed.once('exit', r));
  const start = Date.now();
  while (!fs.existsSync(pidFile) || fs.readFileSync(pidFile, 'utf8').trim() === '') {
    if (Date.now() - start > 60_000) throw new Error(`the worker did not start: ${ls(tmp)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  killed.kill('SIGKILL');
  await exited;
  process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL');
  expect(errorDirs(tmp)).toEqual([expect.stringMatching(new RegExp(`^signin-torch-errors-${killed.pid}-[A-Za-z0-9]{6}$`))]);

  const next = spawnSync(...launcher(tmp, { nproc: 1, command: 'true', args: [] }));
  expect({ status: next.status, stderr: String(next.stderr) }).toEqual({ status: 0, stderr: '' });
  expect(errorDirs(tmp)).toEqual([]);
}, 90_000);

it("a dead launcher's folder goes; a live one's, this process's, foreign names, a file, a link and another user's stay", () => {
  const tmp = tmpDir('signin-stale-errors-');
  const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    const dead = deadPid();
    folder(tmp, `signin-torch-errors-${dead}-aB3dE9`);
    const kept = [
      `signin-torch-errors-${sleeper.pid}-aB3dE9`,
      `signin-torch-errors-${process.pid}-aB3dE9`,
      'signin-torch-errors-aB3dE9', // the form before the pid was in the name: its owner is unknown
      `signin-torch-errors-${dead}-aB3dE9-x`,
      `other-${dead}-aB3dE9`,
    ];
    for (const name of kept) folder(tmp, name);
    const target = folder(tmp, 'target');
    fs.writeFileSync(path.join(tmp, `signin-torch-errors-${dead}-file00`), 'x');
    fs.symlinkSync(target, path.join(tmp, `signin-torch-errors-${dead}-link00`));
    const root = process.getuid?.() === 0;
    if (root) fs.chownSync(folder(tmp, `signin-torch-errors-${dead}-other0`), 65534, 65534);
    const expected = [...kept, 'target', `signin-torch-errors-${dead}-file00`, `signin-torch-errors-${dead}-link00`, ...(root ? [`signin-torch-errors-${dead}-other0`] : [])].sort();

    removeStaleErrorDirs(tmp);
    expect(ls(tmp)).toEqual(expected);
    expect(ls(target)).toEqual(['local-rank-0.json']);

    const made = makeErrorDir(tmp);
    expect(path.basename(made)).toMatch(new RegExp(`^signin-torch-errors-${process.pid}-[A-Za-z0-9]{6}$`));
    expect(ls(tmp)).toEqual([...expected, path.basename(made)].sort());
  } finally {
    sleeper.kill('SIGKILL');
  }
});
