/**
 * SLURM's compressed host lists against SLURM's own expansion, `scontrol show hostnames <list>`:
 * lists written by hand (zero padding, widths that change inside a range, several brackets,
 * repeats) and, like the SLURM_STEP_NODELIST srun sets, lists SLURM itself compressed
 * (`scontrol show hostlist`) from random host sets. SLURM's answers are recorded in
 * test/fixtures/slurm-hostlists.json (test/helpers/slurm-hostlists.ts says how), so the comparison
 * runs everywhere; where scontrol is installed the recording is also checked against it live.
 */
import { expandHostList } from '../../src/distributed/hostlist';
import { errorOf } from '../helpers/error-of';
import { HAND_WRITTEN, INVALID, readFixture, recordScontrol, scontrolVersion } from '../helpers/slurm-hostlists';

const recorded = readFixture();
const live = scontrolVersion();
if (!live) {
  // eslint-disable-next-line no-console
  console.warn('slurm-hostlist.test.ts: scontrol not found (Debian: apt-get install slurm-client); compared with the recorded answers only');
}

it('the recording holds the lists this test names, and a live scontrol still answers as recorded', () => {
  expect(recorded.handWritten.map((e) => e.list)).toEqual(HAND_WRITTEN);
  expect(recorded.compressed).toHaveLength(150);
  expect(recorded.invalid.map((e) => e.list)).toEqual(INVALID);
  if (!live) return;
  const now = recordScontrol();
  const answers = (r: typeof now) => ({ handWritten: r.handWritten, compressed: r.compressed, invalid: r.invalid.map((e) => [e.list, e.refused]) });
  expect(answers(now)).toEqual(answers(recorded));
});

it('expands hand-written lists as scontrol show hostnames does', () => {
  for (const { list, hosts } of recorded.handWritten) expect({ list, hosts: expandHostList(list) }).toEqual({ list, hosts });
});

it("expands 150 lists SLURM compressed from random host sets, as SLURM expands them, in SLURM's order", () => {
  for (const { list, hosts } of recorded.compressed) expect({ list, hosts: expandHostList(list) }).toEqual({ list, hosts });
});

it('refuses the lists scontrol calls invalid, naming the variable and the fault', () => {
  const why: Record<string, RegExp> = {
    'n[3-1]': /the range '3-1' runs backwards/,
    'n[9-11]x': /'n\[9-11\]x' goes on after its last '\]'/,
    'n[0-3]-ib': /goes on after its last/,
    'n[]': /'\[\]' holds '', not a number or a range/,
    'n[1-2]]': /unmatched/,
    'n[-1]': /holds '-1'/,
    'n[1-2].x': /goes on after its last/,
  };
  expect(Object.keys(why)).toEqual(INVALID);
  for (const { list, refused } of recorded.invalid) {
    expect({ list, refused }).toEqual({ list, refused: true });
    const e = errorOf(() => expandHostList(list, 'environment variable SLURM_STEP_NODELIST'));
    expect(e.code).toBe('ERR_INVALID_ARG');
    expect(e.message).toMatch(new RegExp(`^Expected environment variable SLURM_STEP_NODELIST to be a SLURM host list such as 'gpu\\[01-03,07\\],cpu5' but it is '${list.replace(/[[\]().]/g, '\\$&')}': `));
    expect(e.message).toMatch(why[list]);
  }
});

it('refuses what SLURM takes leniently but never writes, and lists of more hosts than a job has, without expanding them', () => {
  for (const list of ['n[1-]', 'n[1-2', 'n[ 1-2]', '', ' , ']) expect(errorOf(() => expandHostList(list)).code).toBe('ERR_INVALID_ARG');
  // 10^16 hosts would be an out-of-memory crash if expanded first.
  expect(errorOf(() => expandHostList('n[0-9999999999999999]')).message).toMatch(/: '0-9999999999999999' is too large a number$/);
  expect(errorOf(() => expandHostList('a[0-999]b[0-999]')).message).toMatch(/it names 1000000 hosts, more than the 65535 a job may have$/);
  expect(expandHostList('n[0-65534]')).toHaveLength(65535);
});
