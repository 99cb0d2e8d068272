/**
 * SLURM's compressed host lists against SLURM's own expansion: `scontrol show hostnames <list>`
 * (Debian's slurm-client) expands a list locally, with a configuration file but no controller.
 * The lists are written by hand (zero padding, widths that change inside a range, several
 * brackets, repeats) and, like the SLURM_STEP_NODELIST srun sets, compressed by SLURM itself
 * (`scontrol show hostlist`) from random host sets. Skipped, saying so, where scontrol is absent.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expandHostList } from '../../src/distributed/hostlist';
import { tmpDir } from '../helpers/data-fixtures';
import { errorOf } from '../helpers/error-of';

const dir = tmpDir('signin-hostlist-');
const conf = path.join(dir, 'slurm.conf');
fs.writeFileSync(conf, 'ClusterName=hostlist\nSlurmctldHost=localhost\n');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function scontrol(...args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('scontrol', ['show', ...args], { encoding: 'utf8', env: { ...process.env, SLURM_CONF: conf } });
  const out = `${r.stdout}${r.stderr}`;
  return { ok: r.status === 0 && !/Invalid hostlist|error:/.test(out), out: r.stdout };
}

// scontrol needs a configuration source even for --version.
const haveScontrol = spawnSync('scontrol', ['--version'], { encoding: 'utf8', env: { ...process.env, SLURM_CONF: conf } }).status === 0;
if (!haveScontrol) {
  // eslint-disable-next-line no-console
  console.warn('slurm-hostlist.test.ts: scontrol not found (Debian: apt-get install slurm-client); comparisons with SLURM skipped');
}
const withScontrol = haveScontrol ? it : it.skip;

const names = (list: string): string[] => scontrol('hostnames', list).out.split('\n').filter(Boolean);

const HAND_WRITTEN = [
  'gpu[01-03,07],cpu5,node[8-10]', 'n[098-102]', 'x[1-010]', 'n[01-2]', 'n[00-0]', 'n[007]', 'n[1,1]', 'z,a,z', 'a b',
  'a[1-2]b[3-4]', 'rack[1-2]-node[01-02]', 'n[1-2]-[3-4]', '[1-2]', 'n[1-2],,m', 'n[1-3,2]', 'n1-2', 'vm', 'n[0001-0003]x[1]',
  'node-[9-11],node-[009-011]', 'a[1-2][3-4]', 'n[18446744073]',
];

withScontrol('expands hand-written lists as scontrol show hostnames does', () => {
  for (const list of HAND_WRITTEN) expect({ list, hosts: expandHostList(list) }).toEqual({ list, hosts: names(list) });
});

/** Deterministic pseudo-random integers in [0, n). */
function lcg(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((s / 2 ** 31) * n); // the high bits: an LCG's low bits repeat with a short period
  };
}

withScontrol("expands 150 lists SLURM compressed from random host sets, as SLURM expands them, in SLURM's order", () => {
  const rand = lcg(15);
  const prefixes = ['gpu', 'n', 'node', 'rack1-n', 'c', ''];
  for (let k = 0; k < 150; k++) {
    const hosts = Array.from({ length: 1 + rand(40) }, () => `${prefixes[rand(prefixes.length)]}${String(rand(25)).padStart(1 + rand(4), '0')}`);
    const compressed = scontrol('hostlist', hosts.join(',')).out.trim();
    expect({ compressed, hosts: expandHostList(compressed) }).toEqual({ compressed, hosts: names(compressed) });
  }
});

withScontrol('refuses the lists scontrol calls invalid, naming the variable and the fault', () => {
  const cases: [string, RegExp][] = [
    ['n[3-1]', /the range '3-1' runs backwards/],
    ['n[9-11]x', /'n\[9-11\]x' goes on after its last '\]'/],
    ['n[0-3]-ib', /goes on after its last/],
    ['n[]', /'\[\]' holds '', not a number or a range/],
    ['n[1-2]]', /unmatched/],
    ['n[-1]', /holds '-1'/],
    ['n[1-2].x', /goes on after its last/],
  ];
  for (const [list, why] of cases) {
    expect({ list, scontrol: scontrol('hostnames', list).ok }).toEqual({ list, scontrol: false });
    const e = errorOf(() => expandHostList(list, 'environment variable SLURM_STEP_NODELIST'));
    expect(e.code).toBe('ERR_INVALID_ARG');
    expect(e.message).toMatch(new RegExp(`^Expected environment variable SLURM_STEP_NODELIST to be a SLURM host list such as 'gpu\\[01-03,07\\],cpu5' but it is '${list.replace(/[[\]().]/g, '\\$&')}': `));
    expect(e.message).toMatch(why);
  }
});

it('refuses what SLURM takes leniently but never writes, and lists of more hosts than a job has, without expanding them', () => {
  for (const list of ['n[1-]', 'n[1-2', 'n[ 1-2]', '', ' , ']) expect(errorOf(() => expandHostList(list)).code).toBe('ERR_INVALID_ARG');
  // 10^16 hosts would be an out-of-memory crash if expanded first.
  expect(errorOf(() => expandHostList('n[0-9999999999999999]')).message).toMatch(/: '0-9999999999999999' is too large a number$/);
  expect(errorOf(() => expandHostList('a[0-999]b[0-999]')).message).toMatch(/it names 1000000 hosts, more than the 65535 a job may have$/);
  expect(expandHostList('n[0-65534]')).toHaveLength(65535);
});
