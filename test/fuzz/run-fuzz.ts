/**
 * The parent side of the fuzz: runs fuzz-worker.ts in child processes, restarting after the call
 * that killed a child, and reports every call that ended in a signal, a hang, too much memory or
 * an error that is not a coded ToolkitError. A child is killed when its resident memory passes
 * `rssCapBytes` (polled; V8's heap is capped separately with --max-old-space-size) or when a
 * single call runs longer than `callTimeoutMs`.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface FuzzFailure {
  call: string;
  /** inconsistent, unnamed: files-worker.ts's outcomes (a load that does not match its bytes; a coded error that names no file). */
  kind: 'signal' | 'exit' | 'hang' | 'memory' | 'uncoded' | 'inconsistent' | 'unnamed';
  detail: string;
}

export interface FuzzReport {
  calls: number;
  coded: number;
  failures: FuzzFailure[];
}

const WORKER = path.join(__dirname, 'fuzz-worker.ts');
const TSX = require.resolve('tsx');
const STARTUP_MS = 30000;

function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

interface ChildResult {
  total: number;
  next: number;
  failure?: FuzzFailure;
}

interface ChildOptions {
  rssCapBytes: number;
  callTimeoutMs: number;
  cwd: string;
  step: number;
  worker: string;
}

function runChild(suite: string, start: number, report: FuzzReport, opts: ChildOptions): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--max-old-space-size=1024', '--import', TSX, opts.worker, suite, String(start), String(opts.step)], {
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      // The tensor-size limit (src/tensor/size-limit.ts) set to half the memory cap: a container's share, as documented.
      env: { ...process.env, OMP_NUM_THREADS: '1', SIGNIN_TORCH_LOG_LEVEL: 'silent', SIGNIN_TORCH_MAX_TENSOR_BYTES: String(Math.floor(opts.rssCapBytes / 2)) },
    });
    let total = -1;
    let current = -1;
    let label = '';
    // Starting (tsx, the addon) can take longer than one call may on a busy machine.
    let lastProgress = Date.now() + STARTUP_MS;
    let killedFor: FuzzFailure['kind'] | undefined;
    let stderr = '';
    let buf = '';
    child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lastProgress = Date.now();
        if (line.startsWith('N ')) total = Number(line.slice(2));
        else if (line.startsWith('S ')) {
          const sp = line.indexOf(' ', 2);
          current = Number(line.slice(2, sp));
          label = line.slice(sp + 1);
        } else if (line.startsWith('E ')) {
          const json = JSON.parse(line.slice(line.indexOf(' ', 2) + 1)) as { ok?: boolean; code?: string; other?: string; pending?: boolean; inconsistent?: string; unnamed?: string; memory?: string };
          report.calls++;
          if (json.code) report.coded++;
          if (json.other) report.failures.push({ call: label, kind: 'uncoded', detail: json.other });
          if (json.inconsistent) report.failures.push({ call: label, kind: 'inconsistent', detail: json.inconsistent });
          if (json.unnamed) report.failures.push({ call: label, kind: 'unnamed', detail: json.unnamed });
          if (json.memory) report.failures.push({ call: label, kind: 'memory', detail: json.memory });
          current = -1;
        }
      }
    });
    const timer = setInterval(() => {
      if (rssBytes(child.pid!) > opts.rssCapBytes) killedFor = 'memory';
      else if (Date.now() - lastProgress > opts.callTimeoutMs) killedFor = 'hang';
      if (killedFor) child.kill('SIGKILL');
    }, 50);
    child.on('close', (code, signal) => {
      clearInterval(timer);
      if (current < 0) {
        const failed = code !== 0 || total < 0;
        resolve({ total, next: total, failure: failed ? { call: '(outside any call)', kind: signal ? 'signal' : 'exit', detail: `${signal ?? code}: ${stderr.trim().slice(-500)}` } : undefined });
        return;
      }
      report.calls++;
      const kind = killedFor ?? (signal ? 'signal' : 'exit');
      const detail = killedFor === 'memory' ? `resident memory above ${opts.rssCapBytes} bytes`
        : killedFor === 'hang' ? `no progress for ${opts.callTimeoutMs} ms`
          : `${signal ?? `exit code ${code}`}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
      resolve({ total, next: current + 1, failure: { call: label, kind, detail } });
    });
  });
}

/**
 * Runs every call of a suite (see fuzz-worker.ts), each crash observed in a child process. Another
 * worker speaking the same protocol (files-worker.ts) takes its own suite names; `step` is passed
 * to it as its third argument.
 */
export async function fuzzSuite(suite: string, opts: { rssCapBytes?: number; callTimeoutMs?: number; step?: number; worker?: string } = {}): Promise<FuzzReport> {
  const report: FuzzReport = { calls: 0, coded: 0, failures: [] };
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-fuzz-'));
  const o = { rssCapBytes: opts.rssCapBytes ?? 3 * 2 ** 30, callTimeoutMs: opts.callTimeoutMs ?? 15000, cwd, step: opts.step ?? 1, worker: opts.worker ?? WORKER };
  try {
    let start = 0;
    for (;;) {
      const r = await runChild(suite, start, report, o);
      if (r.failure) report.failures.push(r.failure);
      if (r.total < 0 || r.next >= r.total) break;
      start = r.next;
    }
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
  return report;
}

if (require.main === module) {
  fuzzSuite(process.argv[2] as 'native', { step: Number(process.argv[3] ?? 1), callTimeoutMs: process.argv[4] ? Number(process.argv[4]) : undefined }).then((r) => {
    console.log(JSON.stringify({ calls: r.calls, coded: r.coded }, null, 1));
    for (const f of r.failures) console.log(`${f.kind}\t${f.call}\t${f.detail}`);
  });
}
