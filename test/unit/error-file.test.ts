/**
 * Error files (src/distributed/error-file.ts) from untrusted workers: a file that is not JSON, one
 * over the read limit, torch's older string form, one without a time, none at all; the order of
 * failures (time, then rank, as torch's min over its failures); what a worker writes, once.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { byFirstFailure, ERROR_FILE_ENV, passOnErrorFile, recordErrorFile, workerFailure } from '../../src/distributed/error-file';
import { ToolkitError } from '../../src/errors';
import { tmpDir } from '../helpers/data-fixtures';

const dir = tmpDir('signin-error-file-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const failureOf = (name: string, content?: string | Buffer) => {
  const file = path.join(dir, name);
  if (content !== undefined) fs.writeFileSync(file, content);
  return workerFailure({ rank: 3, localRank: 1, exitCode: 1, exitMs: 5000, errorFile: file });
};

it('a file that is not JSON, or over 1 MiB, is named as such with the exit time; none says how the worker ended', () => {
  expect(failureOf('garbage.json', '{"message": ')).toMatchObject({ message: expect.stringMatching(/garbage\.json does not read \(/), timeMs: 5000 });
  expect(failureOf('huge.json', Buffer.alloc(2 << 20, 0x20))).toMatchObject({ message: expect.stringMatching(/huge\.json is larger than 1048576 bytes$/), timeMs: 5000 });
  expect(failureOf('absent.json')).toMatchObject({ rank: 3, localRank: 1, exitCode: 1, message: 'exited with code 1, no error file (an error it did not catch, or a signal)', timeMs: 5000 });
  expect(workerFailure({ rank: 0, localRank: 0, exitCode: 137, exitMs: 1, errorFile: path.join(dir, 'none'), signal: 'SIGKILL' }).message).toMatch(/^killed by SIGKILL/);
});

it("torch's forms: a string message with a top-level timestamp; the nested one in seconds; ours in ms with its code", () => {
  expect(failureOf('string.json', JSON.stringify({ message: 'RuntimeError: x', timestamp: '100' }))).toMatchObject({ message: 'RuntimeError: x', timeMs: 100_000 });
  expect(failureOf('nested.json', JSON.stringify({ message: { message: 'ValueError: y', extraInfo: { py_callstack: 'tb', timestamp: '7' } } }))).toMatchObject({ message: 'ValueError: y', timeMs: 7000 });
  expect(failureOf('no-time.json', JSON.stringify({ message: { message: 'ValueError: z' } }))).toMatchObject({ message: 'ValueError: z', timeMs: 5000 });
  const ours = failureOf('ours.json', JSON.stringify({ message: { message: 'ERR_DATASET: bad', extraInfo: { timestamp: '7', timestamp_ms: '7250', code: 'ERR_DATASET' } } }));
  expect(ours).toMatchObject({ code: 'ERR_DATASET', message: 'bad', timeMs: 7250 });
});

it('earliest first; equal times to the lower rank', () => {
  const f = (rank: number, timeMs: number) => ({ rank, localRank: rank, host: 'h', exitCode: 1, message: '', timeMs });
  expect(byFirstFailure([f(0, 20), f(2, 10), f(1, 10)]).map((x) => x.rank)).toEqual([1, 2, 0]);
});

it("a worker writes torch's nested form once, only where the variable is set; a coded error's line is its traceback, a bug's its stack", () => {
  const file = path.join(dir, 'worker.json');
  recordErrorFile(new ToolkitError('ERR_DATASET', 'bad\nbatch'), {}, 1_700_000_000_123);
  expect(fs.existsSync(file)).toBe(false);
  recordErrorFile(new ToolkitError('ERR_DATASET', 'bad batch'), { [ERROR_FILE_ENV]: file }, 1_700_000_000_123);
  recordErrorFile(new Error('later'), { [ERROR_FILE_ENV]: file }, 1_700_000_009_000);
  expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({
    message: { message: 'ERR_DATASET: bad batch', extraInfo: { py_callstack: 'ERR_DATASET: bad batch', timestamp: '1700000000', timestamp_ms: '1700000000123', code: 'ERR_DATASET' } },
  });
  const bug = path.join(dir, 'bug.json');
  recordErrorFile(new TypeError('x is undefined'), { [ERROR_FILE_ENV]: bug });
  const { message } = JSON.parse(fs.readFileSync(bug, 'utf8'));
  expect(message.message).toBe('TypeError: x is undefined');
  expect(message.extraInfo.py_callstack).toMatch(/^TypeError: x is undefined\n\s+at /);
  expect(message.extraInfo.code).toBeUndefined();
});

it('a thrown value that is not an Error: its text, and nothing thrown when it has none', () => {
  const text = path.join(dir, 'string.json');
  recordErrorFile('disk gone', { [ERROR_FILE_ENV]: text });
  expect(JSON.parse(fs.readFileSync(text, 'utf8')).message.message).toBe('Error: disk gone');
  const odd = path.join(dir, 'odd.json');
  expect(() => recordErrorFile({ toString: () => { throw new RangeError('no text'); } }, { [ERROR_FILE_ENV]: odd })).not.toThrow();
  expect(fs.existsSync(odd)).toBe(false);
});

it("a launcher under a supervisor copies the root cause's file as it is, and none over 1 MiB", () => {
  const worker = path.join(dir, 'root-cause.json');
  const content = JSON.stringify({ message: { message: 'ValueError: é', extraInfo: { timestamp: '7' } } });
  fs.writeFileSync(worker, content);
  const own = path.join(dir, 'launcher.json');
  passOnErrorFile(worker, { [ERROR_FILE_ENV]: own });
  expect(fs.readFileSync(own, 'utf8')).toBe(content);
  const huge = path.join(dir, 'huge-root-cause.json');
  fs.writeFileSync(huge, Buffer.alloc((1 << 20) + 1, 0x20));
  const hugeOwn = path.join(dir, 'huge-launcher.json');
  passOnErrorFile(huge, { [ERROR_FILE_ENV]: hugeOwn });
  expect(fs.existsSync(hugeOwn)).toBe(false);
});

(fs.existsSync('/usr/bin/mkfifo') || fs.existsSync('/bin/mkfifo') ? it : it.skip)('a FIFO or a device as the error file is no error file: read and passed on without waiting for a writer (in a child)', () => {
  const fifo = path.join(dir, 'fifo.json');
  execFileSync('mkfifo', [fifo]);
  const own = path.join(dir, 'fifo-launcher.json');
  const script = `const { passOnErrorFile, workerFailure } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'src', 'distributed', 'error-file.ts'))});
const out = [${JSON.stringify(fifo)}, '/dev/zero'].map((errorFile) => workerFailure({ rank: 1, localRank: 1, exitCode: 1, exitMs: 5000, errorFile }).message);
passOnErrorFile(${JSON.stringify(fifo)}, { ${ERROR_FILE_ENV}: ${JSON.stringify(own)} });
process.stdout.write(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['--import', require.resolve('tsx'), '-e', script], { encoding: 'utf8', timeout: 60_000 });
  expect({ signal: r.signal, status: r.status, stderr: r.stderr }).toEqual({ signal: null, status: 0, stderr: '' });
  const none = 'exited with code 1, no error file (an error it did not catch, or a signal)';
  expect(JSON.parse(r.stdout)).toEqual([none, none]);
  expect(fs.existsSync(own)).toBe(false);
});
