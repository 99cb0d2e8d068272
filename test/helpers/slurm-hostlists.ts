/**
 * The SLURM host lists that test/distributed/slurm-hostlist.test.ts checks expandHostList on, and
 * SLURM's own verdict on them: `scontrol show hostnames <list>` (Debian's slurm-client) expands a
 * list locally, with a configuration file but no controller. The verdicts are recorded once in
 * test/fixtures/slurm-hostlists.json (scripts/record-slurm-hostlists.ts) so that the comparison
 * also runs where SLURM is not installed, as on CI: slurm-client pulls in munge, a daemon.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const FIXTURE = path.join(__dirname, '..', 'fixtures', 'slurm-hostlists.json');

/** Zero padding, widths that change inside a range, several brackets, repeats, odd separators. */
export const HAND_WRITTEN = [
  'gpu[01-03,07],cpu5,node[8-10]', 'n[098-102]', 'x[1-010]', 'n[01-2]', 'n[00-0]', 'n[007]', 'n[1,1]', 'z,a,z', 'a b',
  'a[1-2]b[3-4]', 'rack[1-2]-node[01-02]', 'n[1-2]-[3-4]', '[1-2]', 'n[1-2],,m', 'n[1-3,2]', 'n1-2', 'vm', 'n[0001-0003]x[1]',
  'node-[9-11],node-[009-011]', 'a[1-2][3-4]', 'n[18446744073]',
];

/** Lists scontrol calls invalid. */
export const INVALID = ['n[3-1]', 'n[9-11]x', 'n[0-3]-ib', 'n[]', 'n[1-2]]', 'n[-1]', 'n[1-2].x'];

/** Deterministic pseudo-random integers in [0, n). */
function lcg(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((s / 2 ** 31) * n); // the high bits: an LCG's low bits repeat with a short period
  };
}

/** 150 random host sets, for SLURM to compress as srun compresses SLURM_STEP_NODELIST. */
export function randomHostSets(): string[][] {
  const rand = lcg(15);
  const prefixes = ['gpu', 'n', 'node', 'rack1-n', 'c', ''];
  return Array.from({ length: 150 }, () =>
    Array.from({ length: 1 + rand(40) }, () => `${prefixes[rand(prefixes.length)]}${String(rand(25)).padStart(1 + rand(4), '0')}`),
  );
}

export interface Expansion {
  list: string;
  hosts: string[];
}

export interface HostListRecord {
  scontrol: string;
  command: string;
  handWritten: Expansion[];
  /** Lists `scontrol show hostlist` compressed from randomHostSets(), and their expansions. */
  compressed: Expansion[];
  /** What scontrol printed for each of INVALID instead of host names. */
  invalid: { list: string; refused: true; message: string }[];
}

function withConf<T>(fn: (run: (...args: string[]) => { out: string; err: string; ok: boolean }) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-scontrol-'));
  try {
    const conf = path.join(dir, 'slurm.conf');
    fs.writeFileSync(conf, 'ClusterName=hostlist\nSlurmctldHost=localhost\n');
    return fn((...args) => {
      const r = spawnSync('scontrol', args, { encoding: 'utf8', env: { ...process.env, SLURM_CONF: conf } });
      // scontrol 22.05 exits 0 on an invalid list, printing "Invalid hostlist: ..." on stderr.
      return { out: r.stdout ?? '', err: r.stderr ?? '', ok: r.status === 0 && !/Invalid hostlist|error:/.test(`${r.stdout}${r.stderr}`) };
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** scontrol's version, or null where it is not installed. */
export function scontrolVersion(): string | null {
  return withConf((run) => {
    const r = run('--version');
    return r.ok ? r.out.trim() : null;
  });
}

function debianPackage(): string {
  const r = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'slurm-client'], { encoding: 'utf8' });
  return r.status === 0 ? ` (Debian slurm-client ${r.stdout.trim()})` : '';
}

/** SLURM's expansions of all the lists above, from a live scontrol. */
export function recordScontrol(): HostListRecord {
  return withConf((run) => {
    const expand = (list: string): Expansion => {
      const r = run('show', 'hostnames', list);
      if (!r.ok) throw new Error(`scontrol show hostnames '${list}' failed: ${r.err}`);
      return { list, hosts: r.out.split('\n').filter(Boolean) };
    };
    const compress = (hosts: string[]): string => run('show', 'hostlist', hosts.join(',')).out.trim();
    return {
      scontrol: `${run('--version').out.trim()}${debianPackage()}`,
      command: 'SLURM_CONF=<file: ClusterName=hostlist, SlurmctldHost=localhost> scontrol show hostnames <list>; ' +
        "the compressed lists from scontrol show hostlist <randomHostSets()'s hosts joined by ','>; " +
        'made by npx tsx scripts/record-slurm-hostlists.ts',
      handWritten: HAND_WRITTEN.map(expand),
      compressed: randomHostSets().map((hosts) => expand(compress(hosts))),
      invalid: INVALID.map((list) => {
        const r = run('show', 'hostnames', list);
        if (r.ok) throw new Error(`scontrol show hostnames '${list}' accepted it: ${r.out}`);
        return { list, refused: true as const, message: r.err.trim() };
      }),
    };
  });
}

/** JSON with one list per line, so that a re-recording's diff shows which lists changed. */
export function formatRecord(r: HostListRecord): string {
  const lines = (xs: object[]): string => xs.map((x) => `    ${JSON.stringify(x)}`).join(',\n');
  return `{\n  "scontrol": ${JSON.stringify(r.scontrol)},\n  "command": ${JSON.stringify(r.command)},\n` +
    `  "handWritten": [\n${lines(r.handWritten)}\n  ],\n  "compressed": [\n${lines(r.compressed)}\n  ],\n` +
    `  "invalid": [\n${lines(r.invalid)}\n  ]\n}\n`;
}

export function readFixture(): HostListRecord {
  return JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as HostListRecord;
}
