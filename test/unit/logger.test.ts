/**
 * Logs never reach stdout (it carries a command's result), and a run's log lines are also kept
 * in its log.jsonl. Checked in a child process whose stdout and stderr are pipes, as when a user
 * writes `signin-torch prune --json > out.json`.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const LOGGER = path.join(__dirname, '..', '..', 'src', 'logger.ts');
const TSX = require.resolve('tsx');

function runScript(body: string, env: NodeJS.ProcessEnv = {}) {
  const script = `const { logger, runLogger } = require(${JSON.stringify(LOGGER)});\n${body}`;
  const r = spawnSync(process.execPath, ['--import', TSX, '-e', script], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return r;
}

const jsonLines = (text: string) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('logger', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-logger-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a SIGNIN_TORCH_LOG_LEVEL that is no level is an ERR_INVALID_ARG listing the levels', () => {
    const script = `const { logger } = require(${JSON.stringify(LOGGER)});\ntry { logger(); } catch (e) { process.stdout.write(e.code + ': ' + e.message); }`;
    const r = spawnSync(process.execPath, ['--import', TSX, '-e', script], { encoding: 'utf8', env: { ...process.env, SIGNIN_TORCH_LOG_LEVEL: 'loud' } });
    expect(r.stdout).toBe("ERR_INVALID_ARG: Expected environment variable SIGNIN_TORCH_LOG_LEVEL to be one of trace, debug, info, warn, error, fatal, silent but it is 'loud'");
    expect(runScript(`logger().debug('shown'); logger().trace('not shown');`, { SIGNIN_TORCH_LOG_LEVEL: 'debug' }).stderr).toMatch(/^\{"level":20,.*"msg":"shown"\}\n$/);
  });

  it('writes JSON lines to stderr and nothing to stdout', () => {
    const r = runScript(`logger().warn({ model: 'lenet5' }, 'layer collapse'); process.stdout.write('RESULT');`);
    expect(r.stdout).toBe('RESULT');
    const lines = jsonLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, model: 'lenet5', msg: 'layer collapse' });
  });

  it('tees a run logger into the run file, with one time key per line and the run bindings', () => {
    const file = path.join(dir, 'run', 'log.jsonl');
    const r = runScript(`
      const { log, close } = runLogger(${JSON.stringify(file)}, { run: 'r1' });
      log.info({ epoch: 1, epochSeconds: 2.5 }, 'epoch done');
      log.debug('not at info');
      close();`);
    expect(r.stdout).toBe('');
    const raw = fs.readFileSync(file, 'utf8');
    const fileLines = jsonLines(raw);
    expect(fileLines).toHaveLength(1);
    expect(fileLines[0]).toMatchObject({ run: 'r1', epoch: 1, epochSeconds: 2.5, msg: 'epoch done', level: 30 });
    expect(typeof fileLines[0].time).toBe('number');
    expect(raw.match(/"time":/g)).toHaveLength(1);
    expect(jsonLines(r.stderr)).toEqual(fileLines);
  });

  it('keeps info lines in the run file when the library logger is silent, and appends across sessions', () => {
    const file = path.join(dir, 'log.jsonl');
    const session = `const { log, close } = runLogger(${JSON.stringify(file)}, { run: 'r2' }); log.info('session'); log.error({ err: new Error('boom') }, 'run failed'); close();`;
    const r1 = runScript(session, { SIGNIN_TORCH_LOG_LEVEL: 'silent' });
    runScript(session, { SIGNIN_TORCH_LOG_LEVEL: 'silent' });
    expect(r1.stderr).toBe('');
    const lines = jsonLines(fs.readFileSync(file, 'utf8'));
    expect(lines.map((l) => l.msg)).toEqual(['session', 'run failed', 'session', 'run failed']);
    expect((lines[1].err as { message: string }).message).toBe('boom');
  });

  // /dev/full fails every write with ENOSPC, as a full disk does: the run's log file is lost, not
  // the run (pino's file stream used to throw its 'error' out of the log call, and its flush on
  // close to retry forever, holding the run's lock).
  (fs.existsSync('/dev/full') ? it : it.skip)('a run file that cannot be written (disk full) is said once on the library logger; logging and close() go on', () => {
    const r = runScript(`
      const { log, close } = runLogger('/dev/full', { run: 'r3' });
      log.info({ epoch: 1 }, 'epoch done');
      log.info({ epoch: 2 }, 'epoch done');
      close();
      process.stdout.write('closed');`);
    expect(r.stdout).toBe('closed');
    const lines = jsonLines(r.stderr);
    expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([
      "Cannot write /dev/full: ENOSPC: no space left on device, write (the disk is full: free space on it, then run the command again); this run's log lines are no longer saved in that file (training goes on)",
    ]);
    expect(lines.filter((l) => l.level === 30)).toEqual([
      expect.objectContaining({ run: 'r3', epoch: 1, msg: 'epoch done' }), expect.objectContaining({ run: 'r3', epoch: 2, msg: 'epoch done' }),
    ]);
  });
});
