/**
 * `train --nproc` on the CPU is bounded as `sweep --processes` is (twice the logical CPUs): each
 * worker is a libtorch process on this machine's cores. Refused before anything is launched, in
 * one line naming --nproc; on CUDA the bound is the device count (deviceIssues), not this one.
 */
import type { CliDeps } from '../../src/cli';
import type { LaunchOptions } from '../../src/distributed/launch';
import { maxThreads, maxThreadsReason } from '../../src/validate';
import { cli } from '../helpers/cli';
import { tempDir } from '../helpers/temp';

const limit = maxThreads();
// A global batch every world size below divides, so that only the bound can refuse.
const args = (nproc: number, device: string): string[] => [
  'train', '--dataset', 'mnist', '--model', 'lenet5', '--epochs', '1', '--device', device, '--nproc', String(nproc),
  '--batch-size', String(limit * (limit + 1)), '--runs-dir', tempDir('nproc-'),
];

function deps(launches: LaunchOptions[], resolved: string): CliDeps {
  return {
    loadTrainer: () => ({ trainFromConfig: async () => undefined, resolveDevice: (d: string) => (d === 'auto' ? resolved : d) }),
    launch: async (o) => {
      launches.push(o);
      return { exitCode: 0, codes: new Array<number>(o.nproc).fill(0) };
    },
  };
}

test.each(['cpu', 'auto'])("--device %s on a machine without CUDA: more than twice the logical CPUs is refused, naming --nproc", async (device) => {
  const launches: LaunchOptions[] = [];
  const r = await cli(args(limit + 1, device), deps(launches, 'cpu'));
  expect({ code: r.code, err: r.err, launches }).toEqual({
    code: 1,
    err: `ERR_INVALID_ARG: Expected --nproc to be an integer in [1, ${limit}] (${maxThreadsReason()}: with device '${device}' every worker trains on this machine's CPUs) but received ${limit + 1}\n`,
    launches: [],
  });
});

test('at the bound on the CPU, and beyond it on CUDA, the workers are launched', async () => {
  const launches: LaunchOptions[] = [];
  expect((await cli(args(limit, 'cpu'), deps(launches, 'cpu'))).code).toBe(0);
  expect((await cli(args(limit + 1, 'auto'), deps(launches, 'cuda'))).code).toBe(0);
  expect(launches.map((l) => l.nproc)).toEqual([limit, limit + 1]);
});
