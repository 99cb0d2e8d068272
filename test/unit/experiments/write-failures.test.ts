/**
 * Writes that the machine refuses: a file-size limit (`ulimit -f`, which makes write(2) store part
 * of a write and then fail with EFBIG, as a nearly full disk does with ENOSPC), and a read-only
 * file system (a tmpfs mounted read-only in a private mount namespace, where `unshare` may do so).
 * Each refused write is ERR_IO naming the file it was for and leaves that file as it was; a run
 * whose log file cannot be opened also frees its lock. (/dev/full as metrics.jsonl is refused as
 * no regular file: fifo-appends.test.ts; as the log it stands for a full disk: logger.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { appendMetrics } from '../../../src/experiments/runs';
import { runPaths } from '../../../src/experiments/paths';
import { removeDir, tempDir } from './fixtures';

const SRC = path.join(__dirname, '..', '..', '..', 'src');
const TSX = require.resolve('tsx');

/** Runs `body` (with atomic.ts and runs.ts required) in a child Node under `shell` (which ends in `exec`); returns what it wrote to stdout. */
function inChild(shell: string, body: string): string {
  const script = `const atomic = require(${JSON.stringify(path.join(SRC, 'atomic.ts'))});
const runs = require(${JSON.stringify(path.join(SRC, 'experiments', 'runs.ts'))});
const report = (f) => { try { f(); process.stdout.write('ok\\n'); } catch (e) { process.stdout.write(e.code + ': ' + e.message + '\\n'); } };
${body}`;
  const r = spawnSync('bash', ['-c', `${shell} "$0" --import "$1" -e "$2"`, process.execPath, TSX, script], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

const row = (epoch: number) => ({ epoch, step: epoch * 5, trainLoss: 1.5, trainAcc: 0.5, lr: 0.1, epochSeconds: 12.25, padding: 'x'.repeat(200) });

let dir: string;
beforeEach(() => { dir = tempDir('write-failures'); });
afterEach(() => removeDir(dir));

describe('a write the file-size limit cuts short (1 KiB)', () => {
  test('a metrics row that only partly fits is not kept: ERR_IO names metrics.jsonl, whose bytes are those before', () => {
    for (let e = 1; e <= 3; e++) appendMetrics(dir, row(e));
    const file = runPaths(dir).metrics;
    const before = fs.readFileSync(file);
    expect(before.length).toBeGreaterThan(600);
    expect(before.length + JSON.stringify(row(4)).length).toBeGreaterThan(1024);
    const out = inChild('ulimit -f 1; exec', `report(() => runs.appendMetrics(${JSON.stringify(dir)}, ${JSON.stringify(row(4))}));`);
    expect(out).toBe(`ERR_IO: Cannot write ${file}: EFBIG: file too large, write\n`);
    expect(fs.readFileSync(file)).toEqual(before);
  });

  test('an atomic write that does not fit: ERR_IO names the target (not its temporary sibling), which keeps its content; no temporary file stays', () => {
    const file = path.join(dir, 'final.json');
    fs.writeFileSync(file, 'old');
    const out = inChild('ulimit -f 1; exec', `report(() => atomic.writeFileAtomic(${JSON.stringify(file)}, 'y'.repeat(4096)));`);
    expect(out).toBe(`ERR_IO: Cannot write ${file}: EFBIG: file too large, write\n`);
    expect(fs.readFileSync(file, 'utf8')).toBe('old');
    expect(fs.readdirSync(dir)).toEqual(['final.json']);
  });
});

/** Whether this machine lets an unprivileged mount namespace mount a tmpfs (containers often do not). */
const privateMounts = spawnSync('unshare', ['-rm', 'sh', '-c', 'mount -t tmpfs tmpfs /tmp']).status === 0;

(privateMounts ? describe : describe.skip)('a read-only file system', () => {
  const readOnly = (mnt: string) => `unshare -rm sh -c 'mount -t tmpfs tmpfs ${mnt} && mkdir ${mnt}/runs && mount -o remount,ro ${mnt} && exec "$@"' sh`;

  test('a new run directory, and a report folder two levels down: EROFS with the file named, where Node says ENOENT', () => {
    const runsDir = path.join(dir, 'runs');
    const out = inChild(`${readOnly(dir)} `, `
      const { parseConfig } = require(${JSON.stringify(path.join(SRC, 'experiments', 'schema.ts'))});
      const config = parseConfig({ dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1 });
      report(() => runs.createRunDir(${JSON.stringify(runsDir)}, config));
      report(() => atomic.writeFileAtomic(${JSON.stringify(path.join(runsDir, 'report', 'plots', 'a.svg'))}, '<svg/>'));`);
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^ERR_IO: Cannot write ${runsDir}/train_[0-9a-f]{32}/config\\.json: EROFS: read-only file system, mkdir '${runsDir}/train_[0-9a-f]{32}' \\(the file system is read-only: remount it read-write, or write somewhere else\\)$`));
    expect(lines[1]).toBe(`ERR_IO: Cannot write ${runsDir}/report/plots/a.svg: EROFS: read-only file system, mkdir '${runsDir}/report' (the file system is read-only: remount it read-write, or write somewhere else)`);
  });
});

describe('a run whose log file cannot be opened', () => {
  test('fails before training with an error naming the file and releases run.lock, so that the run can be started again', async () => {
    const { trainFromConfig } = await import('../../../src/experiments/runner');
    const { parseConfig } = await import('../../../src/experiments/schema');
    const { createRunDir } = await import('../../../src/experiments/runs');
    const config = parseConfig({ dataset: { name: 'fashion_mnist' }, model: { name: 'lenet5' }, epochs: 1 });
    const run = createRunDir(dir, config);
    // A folder where log.jsonl should be: refused before it is opened.
    fs.mkdirSync(runPaths(run.dir).runLog);
    await expect(trainFromConfig(config, run.dir)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', message: `Expected a regular file (a run's log), but it is a directory: ${runPaths(run.dir).runLog}` });
    expect(fs.existsSync(runPaths(run.dir).lock)).toBe(false);
  });
});
