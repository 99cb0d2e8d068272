/**
 * Integer environment variables read as torch reads them: Python's int() on the string, the
 * reference (it runs in python3 without torch). Strings int() takes with a digit separator ('1_0')
 * or in non-ASCII digits are refused here: neither launcher writes them.
 */
import { execFileSync } from 'child_process';
import { intVar } from '../../src/distributed/env-var';
import { errorOf } from '../helpers/error-of';

const RAW = ['3', ' 3', '3 ', '\t3\n', '+3', '-0', '007', '0', '-3', '', ' ', '3.0', '1e2', '0x3', 'abc', '3a', '+', '- 3', '4', '5'];

function pythonInt(values: string[]): (number | null)[] {
  const script = 'import json,sys\nout=[]\nfor s in json.load(sys.stdin):\n  try: out.append(int(s))\n  except ValueError: out.append(None)\nprint(json.dumps(out))';
  return JSON.parse(execFileSync('python3', ['-c', script], { input: JSON.stringify(values) }).toString());
}

describe('intVar', () => {
  const ref = pythonInt(RAW);

  it.each(RAW.map((raw, i) => [raw, i] as const))('reads %j as int() does, within [0, 4]', (raw, i) => {
    const want = ref[i];
    if (want !== null && want >= 0 && want <= 4) expect(intVar({ X: raw }, 'X', 0, 4)).toBe(want);
    else expect(errorOf(() => intVar({ X: raw }, 'X', 0, 4))).toMatchObject({ code: 'ERR_INVALID_ARG', message: `Expected environment variable X to be an integer in [0, 4] but it is '${raw}'` });
  });

  it('says what an unset variable is only when it is unset, and takes the expected wording given', () => {
    expect(errorOf(() => intVar({}, 'X', 1, 9, 'the tasks; srun sets it'))).toMatchObject({ message: 'Expected environment variable X to be an integer in [1, 9] but it is unset (the tasks; srun sets it)' });
    expect(errorOf(() => intVar({ X: '10' }, 'X', 1, 9, 'the tasks; srun sets it', 'at most 9 tasks'))).toMatchObject({ message: "Expected environment variable X to be at most 9 tasks but it is '10'" });
  });
});
