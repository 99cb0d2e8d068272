/**
 * SIGNIN_TORCH_CPU_ALLOCATOR picks the CPU allocator the addon installs at load: a value that is
 * neither 'caching' nor 'system' is refused before the addon loads, naming the variable, the
 * values and what it received. Each case is a fresh process, as the allocator is chosen once.
 * Which allocator a process got is read from its behaviour: a 4 MiB tensor is in the caching
 * allocator's in-use bytes (its size class, computed here) and not with c10's own.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const SRC = path.join(__dirname, '..', '..', 'src', 'index.ts');
const TSX = require.resolve('tsx');
const FLOATS = 2 ** 20;
// 4 MiB of floats and the 64-byte header, rounded up to the size class: 4 MiB + 512 KiB.
const CACHED_BYTES = 4 * 2 ** 20 + 2 ** 19;

/** The in-use bytes a 4 MiB tensor adds in a child with the variable set (deleted when undefined), or the child's error. */
function inUseDelta(value: string | undefined): string {
  const script = `try {
  const { cpuMemoryStats, zeros } = require(${JSON.stringify(SRC)});
  const before = cpuMemoryStats().inUseBytes;
  const t = zeros([${FLOATS}]);
  process.stdout.write(String(cpuMemoryStats().inUseBytes - before));
  t.dispose();
} catch (e) { process.stdout.write(e.code + ': ' + e.message); }`;
  const env = { ...process.env, OMP_NUM_THREADS: '1', SIGNIN_TORCH_CPU_ALLOCATOR: value };
  if (value === undefined) delete env.SIGNIN_TORCH_CPU_ALLOCATOR;
  const r = spawnSync(process.execPath, ['--import', TSX, '-e', script], { encoding: 'utf8', env, timeout: 120_000 });
  expect({ value, status: r.status, stderr: r.stderr }).toEqual({ value, status: 0, stderr: '' });
  return r.stdout;
}

test.each(['sytem', 'malloc', 'System', ' system'])('%j is refused before the addon loads', (value) => {
  expect(inUseDelta(value)).toBe(`ERR_INVALID_ARG: Expected environment variable SIGNIN_TORCH_CPU_ALLOCATOR to be 'caching' (the toolkit's caching allocator, also when unset or empty) or 'system' (c10's own) but it is '${value}'`);
});

test('unset, empty and caching install the caching allocator; system keeps c10\'s', () => {
  expect([undefined, '', 'caching', 'system'].map(inUseDelta)).toEqual([String(CACHED_BYTES), String(CACHED_BYTES), String(CACHED_BYTES), '0']);
});
