/**
 * Whether a run's processes can have the device its config names, told from the number of CUDA
 * devices libtorch sees (a parameter, so that the rule is tested without a GPU): libtorch's own
 * errors come only once training starts, and as a page of dispatcher keys.
 */
import { type Issue } from '../errors';
import { quoteText } from '../quote';
import { srunTaskGpu } from '../distributed/slurm';
import { int, obj, str } from '../validate';

/**
 * The config's `device` against `deviceCount` CUDA devices, for `localProcesses` processes on this
 * machine. With several, a bare 'cuda' (and 'auto' where CUDA is found) trains each process on its
 * own GPU, cuda:<local rank> (rankPlacement in src/distributed/data-parallel.ts), so N processes
 * need N devices: the check runs before they start, since the ones past the last device would
 * each fail on their own. An explicit 'cuda:N' is the one device of every process. srun tasks
 * bound to a GPU each (srunTaskGpu, told from `env`) see one device, each its own: cuda:0.
 */
export function deviceIssues(device: string, deviceCount: number, localProcesses = 1, env: NodeJS.ProcessEnv = process.env): Issue[] {
  str('device', device);
  int('deviceCount', deviceCount, 0);
  int('localProcesses', localProcesses, 1);
  obj('env', env, 'environment variables');
  const sees = `libtorch sees ${deviceCount} CUDA device${deviceCount === 1 ? '' : 's'}`;
  const m = /^cuda(?::(\d+))?$/.exec(device);
  const index = m?.[1] === undefined ? 0 : Number(m[1]);
  if (m && index >= deviceCount) {
    const message = deviceCount === 0
      ? `Expected 'cpu' or 'auto' but received ${quoteText(device)} (${sees}: no CUDA device is visible, or it was built without CUDA)`
      : `Expected 'cuda', ${deviceCount === 1 ? "'cuda:0'" : `'cuda:0' to 'cuda:${deviceCount - 1}'`}, 'cpu' or 'auto' but received ${quoteText(device)} (${sees})`;
    return [{ code: 'unavailable_device', path: 'device', message }];
  }
  const perProcess = device === 'cuda' || (device === 'auto' && deviceCount > 0);
  if (perProcess && localProcesses > deviceCount && !srunTaskGpu(env, deviceCount, localProcesses)) {
    return [{
      code: 'unavailable_device',
      path: 'device',
      message: `Expected at most ${deviceCount} process${deviceCount === 1 ? '' : 'es'} on this machine with device '${device}', which trains each on cuda:<local rank>, ` +
        `but received ${localProcesses} (${sees}): start at most ${deviceCount} per machine (--nproc), or use device 'cpu'`,
    }];
  }
  return [];
}
