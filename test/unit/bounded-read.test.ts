import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAX_RECORD_BYTES, readRecordBounded, readTail, readTextBounded } from '../../src/bounded-read';
import { errorOf } from '../helpers/error-of';
import { bytesRead, SMALL_READ_BYTES } from '../helpers/bytes-read';
import { tempDir } from '../helpers/temp';

let dir: string;
beforeEach(() => { dir = tempDir('bounded-read-'); });

/**
 * readTail's reference, from the whole text with string operations: the lines (each with its
 * newline) taken from the end while their UTF-8 bytes fit; when not even the last fits, its
 * characters taken from the end while they fit (`tail -c` without a half character).
 */
function tailOf(whole: string, bytes: number): string {
  const lines = whole.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  let want = '';
  for (let k = lines.length - 1; k >= 0 && Buffer.byteLength(lines[k] + want) <= bytes; k--) want = lines[k] + want;
  if (want === '' && lines.length) {
    const chars = Array.from(lines[lines.length - 1]);
    for (let k = chars.length - 1; k >= 0 && Buffer.byteLength(chars[k] + want) <= bytes; k--) want = chars[k] + want;
  }
  return want;
}

describe('readTail', () => {
  test('the longest suffix of whole lines within the bound (byte-wise, multi-byte text), or the whole file when it fits', () => {
    // Lines of 0 to 40 characters, some of them 3-byte and 4-byte UTF-8, some cut by any bound.
    const words = ['a', 'é', '€', '𝄞', 'xyz'];
    const lines = Array.from({ length: 400 }, (_, i) => Array.from({ length: (i * 7) % 41 }, (_, j) => words[(i + j) % words.length]).join(''));
    const file = path.join(dir, 'train.log');
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    const size = fs.statSync(file).size;
    for (const bytes of [1, 50, 1000, 4097, size - 1, size, size + 10]) {
      expect({ bytes, got: readTail(file, bytes) }).toEqual({ bytes, got: tailOf(fs.readFileSync(file, 'utf8'), bytes) });
    }
  });

  (fs.existsSync('/usr/bin/mkfifo') || fs.existsSync('/bin/mkfifo') ? test : test.skip)('a FIFO or a device is refused, naming it, not waited on (in a child)', () => {
    const fifo = path.join(dir, 'train.log');
    spawnSync('mkfifo', [fifo]);
    const script = `const { readTail } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'src', 'bounded-read.ts'))});
for (const f of [${JSON.stringify(fifo)}, '/dev/zero']) { try { readTail(f, 100); } catch (e) { process.stdout.write(e.code + ': ' + e.message + '\\n'); } }`;
    const r = spawnSync(process.execPath, ['--import', require.resolve('tsx'), '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect({ signal: r.signal, status: r.status, stderr: r.stderr }).toEqual({ signal: null, status: 0, stderr: '' });
    expect(r.stdout).toBe(`ERR_INVALID_ARG: Expected a regular file (a log), but it is a FIFO (named pipe): ${fifo}\nERR_INVALID_ARG: Expected a regular file (a log), but it is a character device: /dev/zero\n`);
  });

  test('every bound over short files: last lines longer than it (with and without a final newline), CRLF, characters cut at the bound, empty', () => {
    const texts = [
      '',
      '\n',
      '\n\n\n',
      'abc\n',
      `start\n${'€'.repeat(20)}\n`,
      `start\n${'€'.repeat(20)}`,
      `${'𝄞'.repeat(12)}\n`,
      `é\n${'aé€𝄞'.repeat(5)}\n`,
      `one\r\ntwo\r\n${'x'.repeat(30)}\r\n`,
      'one\r\ntwo\r\nthree',
    ];
    const file = path.join(dir, 'train.log');
    for (const whole of texts) {
      fs.writeFileSync(file, whole);
      for (let bytes = 0; bytes <= Buffer.byteLength(whole) + 2; bytes++) {
        expect({ whole, bytes, got: readTail(file, bytes) }).toEqual({ whole, bytes, got: tailOf(whole, bytes) });
      }
    }
  });

  test('a bound that is not a whole number of bytes is refused, naming it', () => {
    const file = path.join(dir, 'train.log');
    fs.writeFileSync(file, 'abc\n');
    for (const bytes of [-1, 1.5, Number.NaN]) {
      expect(errorOf(() => readTail(file, bytes))).toMatchObject({ code: 'ERR_INVALID_ARG', message: expect.stringMatching(/^Expected a whole number of bytes \(0 or more\) for bytes but received /) });
    }
  });

  test('a last line longer than the bound comes back as its end, no half character', () => {
    const file = path.join(dir, 'one.log');
    fs.writeFileSync(file, `start\n${'€'.repeat(100)}`);
    expect(readTail(file, 31)).toBe('€'.repeat(10));
  });
});

describe('readTextBounded', () => {
  test('a file within the limit is its text, up to exactly the limit', () => {
    const file = path.join(dir, 'config.json');
    fs.writeFileSync(file, '{"name": "résumé"}');
    expect(readTextBounded(file)).toBe(fs.readFileSync(file, 'utf8'));
    expect(readTextBounded(file, fs.statSync(file).size)).toBe('{"name": "résumé"}');
  });

  test('a file over the limit is refused before it is read, naming the file, its size and the limit', () => {
    const file = path.join(dir, 'config.json');
    fs.writeFileSync(file, '');
    fs.truncateSync(file, 2 ** 30); // sparse: no disk
    const before = bytesRead();
    const e = errorOf(() => readTextBounded(file));
    expect(bytesRead() - before).toBeLessThan(SMALL_READ_BYTES);
    expect(e).toMatchObject({ code: 'ERR_INVALID_ARG', message: `Expected a config or record file of at most 64 MiB (${MAX_RECORD_BYTES} bytes), but it is 1024 MiB (1073741824 bytes): ${file}` });
    expect(errorOf(() => readTextBounded(file, 10)).message).toBe(`Expected a config or record file of at most 0 MiB (10 bytes), but it is 1024 MiB (1073741824 bytes): ${file}`);
  });

  test('a file with no size (a device, a pipe) is read up to one byte past the limit', () => {
    const e = errorOf(() => readTextBounded('/dev/zero', 2 ** 20));
    expect(e).toMatchObject({ code: 'ERR_INVALID_ARG', message: 'Expected a config or record file of at most 1 MiB (1048576 bytes), but it is more than 1 MiB (1048576 bytes): /dev/zero' });
    expect(readTextBounded('/dev/null')).toBe('');
    // procfs says size 0 for text it has.
    expect(readTextBounded('/proc/self/status')).toContain(`\nPid:\t${process.pid}\n`);
  });

  test('a pipe given as a config (`--config <(jq ...)`) is read: only run records must be regular files', () => {
    // In a child process: a pipe without a writer would wait for one.
    const script = `const { readTextBounded } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'src', 'bounded-read.ts'))}); process.stdout.write(readTextBounded(process.argv[1]));`;
    const r = spawnSync('bash', ['-c', `"$0" --import "$1" -e "$2" <(printf '{"seed": 7}')`, process.execPath, require.resolve('tsx'), script], { encoding: 'utf8', timeout: 60_000 });
    expect({ signal: r.signal, status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ signal: null, status: 0, stdout: '{"seed": 7}', stderr: '' });
  });

  test('a file of several read chunks is read whole', () => {
    const file = path.join(dir, 'sweep.json');
    const text = `["${'ü'.repeat(2 ** 20)}"]`;
    fs.writeFileSync(file, text);
    expect(readTextBounded(file)).toBe(text);
  });
});

describe('readRecordBounded', () => {
  test('a regular file is read as readTextBounded reads it, within the same limit', () => {
    const file = path.join(dir, 'final.json');
    fs.writeFileSync(file, '{"testAcc": 0.5}');
    expect(readRecordBounded(file)).toBe('{"testAcc": 0.5}');
    fs.truncateSync(file, 2 ** 30);
    const before = bytesRead();
    expect(errorOf(() => readRecordBounded(file))).toMatchObject({ code: 'ERR_INVALID_ARG', message: `Expected a config or record file of at most 64 MiB (${MAX_RECORD_BYTES} bytes), but it is 1024 MiB (1073741824 bytes): ${file}` });
    expect(bytesRead() - before).toBeLessThan(SMALL_READ_BYTES);
  });

  test('anything but a regular file is refused, naming the file and what it is (a FIFO: test/unit/experiments/fifo-records.test.ts)', () => {
    expect(errorOf(() => readRecordBounded('/dev/zero'))).toMatchObject({ code: 'ERR_INVALID_ARG', message: 'Expected a regular file (a run record), but it is a character device: /dev/zero' });
    expect(errorOf(() => readRecordBounded(dir))).toMatchObject({ code: 'ERR_INVALID_ARG', message: `Expected a regular file (a run record), but it is a directory: ${dir}` });
  });
});
