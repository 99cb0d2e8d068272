/**
 * A failed.json edited by hand, or written by a tool of the user's, as `list runs` prints its
 * reason: one line of bounded length, and no control character (an escape sequence would act on
 * the terminal instead of being shown).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRunDir, listRuns, loadRuns, parseConfig, scanRuns } from '../../../src/experiments';
import { runState } from '../../../src/experiments/run-scan';
import { MAX_QUOTED_CHARS } from '../../../src/quote';
import { cli } from '../../helpers/cli';
import { tmpDir } from '../../helpers/data-fixtures';

const root = tmpDir('signin-failed-reason-');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const newRun = (seed: number, failed: unknown) => {
  const dir = createRunDir(root, parseConfig({ dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1, seed })).dir;
  fs.writeFileSync(path.join(dir, 'failed.json'), JSON.stringify(failed));
  return dir;
};

// Every C0 and C1 control character but \n (which splits lines), and the bidi overrides.
const controls = [...Array(32).keys(), 0x7f, ...Array.from({ length: 32 }, (_, i) => 0x80 + i), 0x202e, 0x2066]
  .filter((c) => c !== 10).map((c) => String.fromCharCode(c)).join('');
const CONTROL = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;

it('a reason of 3 MB over 50,000 lines is its first 200 characters, one line, with its full length', () => {
  const message = Array.from({ length: 50_000 }, (_, i) => `line ${i} ${'x'.repeat(54)}`).join('\n');
  const dir = newRun(1, { code: 'ERR_CONFIG', message });
  const { reason } = runState(dir);
  const full = `ERR_CONFIG: ${message.split('\n').join('; ')}`;
  expect(reason).toBe(`${full.slice(0, MAX_QUOTED_CHARS)}… (${full.length} characters)`);
});

it('control characters are shown escaped, never written out', () => {
  const dir = newRun(2, { code: 'ERR_CONFIG', message: `before\u001b[2J${controls}after` });
  const { reason } = runState(dir);
  expect(reason).not.toMatch(CONTROL);
  expect(reason).toContain('before\\u001b[2J');
  expect(runState(newRun(6, { message: 'a\u001bb\u009bc\u202ed\u0000' })).reason).toBe('error: a\\u001bb\\u009bc\\u202ed\\u0000');
  // A tab is a space, as a terminal shows it; \r only where a line ends (trimmed with it).
  expect(runState(newRun(3, { message: 'a\tb\r\nc\r' })).reason).toBe('error: a b; c');
});

it("a rank's root cause and rank 0's error are each bounded, the rank and code too", () => {
  const long = 'y'.repeat(10_000);
  const dir = newRun(4, { code: long, message: long, rootCause: { rank: `1${'\u001b'.repeat(5000)}`, code: 'ERR_DATASET', message: `${long}\u0007` } });
  const { reason } = runState(dir);
  expect(reason).not.toMatch(CONTROL);
  expect(reason!.length).toBeLessThan(4 * (MAX_QUOTED_CHARS + 30));
  expect(reason).toMatch(/^rank 1\\u001b.*failed first: ERR_DATASET: y+… \(10019 characters\); rank 0: y+… \(20002 characters\)$/);
});

it('list runs prints the bounded reason on one line under the table', async () => {
  const runs = path.join(root, 'listed');
  fs.mkdirSync(runs);
  const dir = createRunDir(runs, parseConfig({ dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1, seed: 5 })).dir;
  fs.writeFileSync(path.join(dir, 'failed.json'), JSON.stringify({ code: 'ERR_TORCH', message: `\u001b]0;owned\u0007${'z\n'.repeat(100_000)}` }));
  const r = await cli(['list', 'runs', '--runs-dir', runs]);
  expect(r.code).toBe(0);
  expect(r.out.replace(/\n/g, '')).not.toMatch(CONTROL);
  const lines = r.out.trimEnd().split('\n');
  expect(lines).toHaveLength(3);
  expect(lines[2]).toMatch(new RegExp(`^${path.basename(dir)} failed: ERR_TORCH: \\\\u001b\\]0;owned\\\\u0007z(; z)+… \\(300029 characters\\)$`));
  expect(lines[2].length).toBeLessThan(MAX_QUOTED_CHARS + 100);
});

it("a failed.json that does not parse: the parser's message, which quotes the file's start, printable and bounded", () => {
  const dir = newRun(7, {});
  fs.writeFileSync(path.join(dir, 'failed.json'), `\u001b]0;owned\u0007${'q'.repeat(5000)}`);
  const { state, reason } = runState(dir);
  expect(state).toBe('failed');
  expect(reason).toMatch(/^failed\.json does not read \(.*\\u001b\]0;owned\\u0007/);
  expect(reason).not.toMatch(CONTROL);
  expect(reason!.length).toBeLessThan(MAX_QUOTED_CHARS + 100);
});

it("a corrupt run's problems, which quote its files' bytes, are printable in list runs too", async () => {
  const runs = path.join(root, 'corrupt');
  const dir = path.join(runs, `train_${'0'.repeat(32)}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), '\u001b]0;owned\u0007{');
  const r = await cli(['list', 'runs', '--runs-dir', runs]);
  expect(r.out.replace(/\n/g, '')).not.toMatch(CONTROL);
  expect(r.out).toContain('config.json is not valid JSON (Unexpected token \'\\u001b\'');
});

it('listRuns, scanRuns and loadRuns give code the state and reason `list runs` prints, where status says only started', async () => {
  const runs = path.join(root, 'states');
  fs.mkdirSync(runs);
  const make = (seed: number) => createRunDir(runs, parseConfig({ dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1, seed })).dir;
  const finished = make(10);
  fs.writeFileSync(path.join(finished, 'final.json'), JSON.stringify({ epoch: 1, step: 1, testAcc: 0.5, testLoss: 1, time: 1 }));
  const interrupted = make(11);
  fs.writeFileSync(path.join(interrupted, 'interrupted.json'), JSON.stringify({ epoch: 1, step: 3, batch: 3, reason: 'SIGINT' }));
  const failed = make(12);
  fs.writeFileSync(path.join(failed, 'failed.json'), JSON.stringify({ code: 'ERR_DATASET', message: 'no files' }));
  const fresh = make(13);
  const expected = new Map([[finished, ['finished', undefined]], [interrupted, ['interrupted', undefined]], [failed, ['failed', 'ERR_DATASET: no files']], [fresh, ['new', undefined]]]);
  const listed = (await cli(['list', 'runs', '--runs-dir', runs, '--json'])).out;
  const byCli = new Map((JSON.parse(listed) as { run: string; status: string; reason?: string }[]).map((r) => [path.join(runs, r.run), [r.status, r.reason]]));
  expect(byCli).toEqual(expected);
  for (const scan of [listRuns(runs), scanRuns(runs).runs, loadRuns(runs)]) {
    expect(new Map(scan.map((r) => [r.dir, [r.state, r.reason]]))).toEqual(expected);
  }
});
