/**
 * What the engine benchmarks share: the machine and its load, robust statistics, process
 * counters from /proc, and running one measurement in a fresh process (ours under tsx, PyTorch
 * under /usr/bin/python3, the interpreter that has the same libtorch) that prints one JSON line.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const PYTHON = '/usr/bin/python3';
export const RESULTS_DIR = path.join(__dirname, 'results');

export function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

/** The q-quantile by linear interpolation between order statistics. */
export function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (pos - lo);
}

/** "median (min–max)" with the given digits. */
export function spread(xs: number[], digits = 1): string {
  return `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;
}

export interface Machine {
  cpu: string;
  cores: number;
  memGiB: number;
  load: number[];
  /** CPU time in clock ticks: busy on every CPU (steal included), all of it, and this process's own with its waited-for children. */
  ticks: { busy: number; total: number; own: number };
}

function cpuTicks(): Machine['ticks'] {
  if (!fs.existsSync('/proc/stat')) return { busy: 0, total: 0, own: 0 };
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq + (steal ?? 0);
  const self = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  // Fields 14-17 of /proc/<pid>/stat (utime, stime, cutime, cstime) are 11-14 after the comm.
  const own = [11, 12, 13, 14].reduce((a, i) => a + Number(self[i]), 0);
  return { busy, total: busy + idle + iowait, own };
}

export function machine(): Machine {
  const cpus = os.cpus();
  return { cpu: cpus[0]?.model ?? 'unknown CPU', cores: cpus.length, memGiB: os.totalmem() / 2 ** 30, load: os.loadavg(), ticks: cpuTicks() };
}

/** Cores' worth of CPU that processes other than this bench used between two snapshots. */
export function othersCores(before: Machine, after: Machine): number {
  const total = after.ticks.total - before.ticks.total;
  if (total <= 0) return 0;
  const others = (after.ticks.busy - before.ticks.busy) - (after.ticks.own - before.ticks.own);
  return Math.max(0, (others / total) * before.cores);
}

/**
 * One line naming the machine and how quiet it was: the load average before and after, and the
 * CPU that other processes (not this bench or its children) used while it ran, from /proc.
 */
export function machineNote(before: Machine, after: Machine = machine()): string {
  const fmt = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');
  const busy = wasBusy(before, after);
  return `Machine: ${before.cpu}, ${before.cores} cores, ${before.memGiB.toFixed(0)} GiB. `
    + `Load average (1/5/15 min) before ${fmt(before.load)}, after ${fmt(after.load)}; other processes used `
    + `${othersCores(before, after).toFixed(2)} cores on average while it ran`
    + (busy ? ': **the machine was busy; these figures are noisy and not a verdict**.' : ' (quiet).');
}

/** True when other processes took more than a quarter of a core on average during the bench. */
export function wasBusy(before: Machine, after: Machine): boolean {
  return othersCores(before, after) > 0.25;
}

/** A goal's verdict, withheld on a busy machine. */
export function verdict(met: boolean, before: Machine, after: Machine): string {
  return `${met ? 'met' : 'not met'}${wasBusy(before, after) ? ' (busy machine: not a verdict)' : ''}`;
}

export interface ProcCounters {
  /** Minor and major page faults of this process so far. */
  minflt: number;
  majflt: number;
  /** Resident set size now and its peak (VmHWM), in MB (2^20 bytes). */
  rssMb: number;
  hwmMb: number;
}

export function procCounters(): ProcCounters {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  // Fields after the parenthesised command name; minflt and majflt are fields 10 and 12 (1-based).
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { minflt: Number(f[7]), majflt: Number(f[9]), rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

/** `--key value` and `--flag` arguments. */
export function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith('--')) continue;
    const key = argv[i].slice(2);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) out[key] = 'true';
    else out[key] = argv[++i];
  }
  return out;
}

function lastJson<T>(what: string, r: ReturnType<typeof spawnSync>): T {
  const stdout = String(r.stdout ?? '');
  if (r.status !== 0) {
    throw new Error(`${what} failed (status ${r.status}, signal ${r.signal}): ${String(r.stderr ?? '').slice(-2000)}`);
  }
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`${what} printed no JSON result: ${stdout.slice(-500)} ${String(r.stderr ?? '').slice(-1000)}`);
  }
}

/** Runs `file --child <json>` in a fresh Node process (under tsx) and returns its JSON line. */
export function runOurs<T>(file: string, params: object, timeoutMs = 30 * 60_000): T {
  const r = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), file, '--child', JSON.stringify(params)], {
    encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 2 ** 20, cwd: path.join(__dirname, '..'),
    env: { ...process.env, SIGNIN_TORCH_LOG_LEVEL: 'warn' },
  });
  return lastJson<T>(`${path.basename(file)} ${JSON.stringify(params)}`, r);
}

/** Runs a script under bench/pytorch with /usr/bin/python3 and returns its JSON line. */
export function runPytorch<T>(script: string, params: object, timeoutMs = 30 * 60_000): T {
  const r = spawnSync(PYTHON, [path.join(__dirname, 'pytorch', script), JSON.stringify(params)], {
    encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 2 ** 20,
  });
  return lastJson<T>(`${script} ${JSON.stringify(params)}`, r);
}

/** The JSON parameters of a `--child` run, or undefined when this process is the parent. */
export function childParams<T>(argv = process.argv.slice(2)): T | undefined {
  const i = argv.indexOf('--child');
  return i < 0 ? undefined : (JSON.parse(argv[i + 1]) as T);
}

/** Runs a child body and prints its result as the last stdout line. */
export function childMain<T>(body: () => Promise<T> | T): void {
  Promise.resolve()
    .then(body)
    .then(
      (r) => process.stdout.write(`\n${JSON.stringify(r)}\n`),
      (e) => {
        process.stderr.write(`${(e as Error).stack ?? e}\n`);
        process.exit(1);
      },
    );
}

/** A bench's command-line arguments (`--key value`): as given, and as numbers where given. */
export interface BenchArgs {
  raw: Record<string, string>;
  num(key: string): number | undefined;
}

/**
 * A bench file's entry point: run by runOurs (`--child <json>`), the measured body with its
 * parameters, its result printed for the parent; run by itself, its report from the command line.
 */
export function benchMain<P>(mod: NodeModule, child: (params: P) => unknown, report: (args: BenchArgs) => Promise<{ markdown: string }>): void {
  const params = childParams<P>();
  if (params) {
    childMain(() => child(params));
  } else if (require.main === mod) {
    const raw = parseArgs(process.argv.slice(2));
    printReport(report({ raw, num: (k) => (raw[k] ? Number(raw[k]) : undefined) }));
  }
}

/** A bench run from its own command line: its markdown on stdout, or its failure's stack and exit status 1. */
export function printReport(report: Promise<{ markdown: string }>): void {
  report.then(
    (r) => process.stdout.write(`${r.markdown}\n`),
    (e) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}

export function ms(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
