/**
 * deviceIssues with a faked CUDA device count: the rule that refuses, before any process starts,
 * a device the run's processes cannot have (under `--nproc N` a bare 'cuda' is cuda:<local rank>).
 */
import { deviceIssues } from '../../../src/experiments/devices';

const messages = (device: string, count: number, local?: number) => deviceIssues(device, count, local).map((i) => `${i.path}: ${i.message}`);

describe('deviceIssues', () => {
  test('the CPU, and CUDA devices that exist, are fine for one process', () => {
    for (const [device, count] of [['cpu', 0], ['auto', 0], ['auto', 1], ['cuda', 1], ['cuda:1', 2]] as const) expect(messages(device, count)).toEqual([]);
  });

  test('a CUDA device libtorch does not see is refused, naming those it sees', () => {
    expect(messages('cuda', 0)).toEqual(["device: Expected 'cpu' or 'auto' but received 'cuda' (libtorch sees 0 CUDA devices: no CUDA device is visible, or it was built without CUDA)"]);
    expect(messages('cuda:2', 2)).toEqual(["device: Expected 'cuda', 'cuda:0' to 'cuda:1', 'cpu' or 'auto' but received 'cuda:2' (libtorch sees 2 CUDA devices)"]);
    expect(messages('cuda:1', 1)).toEqual(["device: Expected 'cuda', 'cuda:0', 'cpu' or 'auto' but received 'cuda:1' (libtorch sees 1 CUDA device)"]);
  });

  test('a device index of a million digits is quoted in part', () => {
    expect(messages(`cuda:${'9'.repeat(1e6)}`, 1)).toEqual([`device: Expected 'cuda', 'cuda:0', 'cpu' or 'auto' but received 'cuda:${'9'.repeat(195)}…' (1000005 characters) (libtorch sees 1 CUDA device)`]);
  });

  test('several processes with a bare cuda (or auto finding CUDA) need one device each on this machine', () => {
    expect(messages('cuda', 4, 4)).toEqual([]);
    expect(messages('cuda', 8, 2)).toEqual([]);
    expect(messages('cuda', 2, 4)).toEqual([
      "device: Expected at most 2 processes on this machine with device 'cuda', which trains each on cuda:<local rank>, but received 4 (libtorch sees 2 CUDA devices): start at most 2 per machine (--nproc), or use device 'cpu'",
    ]);
    expect(messages('auto', 1, 2)).toEqual([
      "device: Expected at most 1 process on this machine with device 'auto', which trains each on cuda:<local rank>, but received 2 (libtorch sees 1 CUDA device): start at most 1 per machine (--nproc), or use device 'cpu'",
    ]);
    // auto without CUDA trains on the CPU; an explicit device is every process's; the CPU has no count.
    for (const device of ['auto', 'cpu']) expect(messages(device, 0, 4)).toEqual([]);
    expect(messages('cuda:0', 1, 4)).toEqual([]);
    // No CUDA at all: the one message that says so, not a count of processes.
    expect(messages('cuda', 0, 4)).toEqual([expect.stringContaining("device: Expected 'cpu' or 'auto' but received 'cuda'")]);
  });

  test('its arguments are checked', () => {
    expect(() => deviceIssues('cuda', -1)).toThrow('Expected non-negative integer for deviceCount but received -1');
    expect(() => deviceIssues('cuda', 1, 0)).toThrow('Expected positive integer for localProcesses but received 0');
  });
});
