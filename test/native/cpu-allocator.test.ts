/**
 * The caching CPU allocator (native/memory/cpu_allocator.cc) against its contract, computed here
 * independently: sizes round up to eight classes per power of two (pages of 4 KiB, after a
 * 64-byte header), freed large blocks are reused (by a request of their class, or of a class at
 * least half theirs that has none idle), small ones never enter the cache, the limit
 * and emptyCpuCache() give memory back, and reused memory holds exactly what was written.
 */
import { arange, cpuMemoryStats, emptyCpuCache, setCpuCacheLimit, zeros } from '../../src';

const PAGE = 4096;

function sizeClass(bytes: number): number {
  const pages = Math.ceil(bytes / PAGE) * PAGE;
  const pow2 = 2 ** Math.floor(Math.log2(pages));
  const step = Math.max(PAGE, pow2 / 8);
  return Math.ceil(pages / step) * step;
}

const DEFAULT_LIMIT = cpuMemoryStats().cacheLimitBytes;

beforeEach(() => {
  setCpuCacheLimit(DEFAULT_LIMIT);
  emptyCpuCache();
});

afterAll(() => setCpuCacheLimit(DEFAULT_LIMIT));

it.each([
  [16_384, 'exactly a power of two of floats'],
  [250_001, 'an odd count'],
  [3 * 2 ** 20 + 7, 'just above 12 MiB of floats'],
])('a freed block of %d floats is cached in its size class and reused (%s)', (n) => {
  const bytes = sizeClass(n * 4 + 64);
  const before = cpuMemoryStats();
  const a = zeros([n]);
  const during = cpuMemoryStats();
  expect(during.inUseBytes - before.inUseBytes).toBe(bytes);
  a.dispose();
  const after = cpuMemoryStats();
  expect(after.cachedBytes - before.cachedBytes).toBe(bytes);
  expect(after.inUseBytes).toBe(before.inUseBytes);

  const b = zeros([n]);
  const reused = cpuMemoryStats();
  expect(reused.hits).toBe(after.hits + 1);
  expect(reused.misses).toBe(after.misses);
  b.dispose();
});

it('a request in the same size class reuses the block; the next class does not', () => {
  // 1 MiB + 64 B rounds up to 1 MiB + 128 KiB (1,179,648 B): 280,000 floats fit, 300,000 do not.
  const a = zeros([(1_179_648 - 64) / 4]);
  a.dispose();
  const s0 = cpuMemoryStats();
  const b = zeros([280_000]);
  expect(cpuMemoryStats().hits).toBe(s0.hits + 1);
  const c = zeros([300_000]);
  expect(cpuMemoryStats().misses).toBe(s0.misses + 1);
  b.dispose();
  c.dispose();
});

describe('a request whose class has no idle block', () => {
  const cls = (floats: number) => sizeClass(floats * 4 + 64);
  const [small, mid, big, bigger] = [400_000, 600_000, 1_000_000, 1_100_000];

  it('takes the smallest idle block up to twice its class, counted whole, which goes back to its own class', () => {
    expect(cls(big)).toBeLessThanOrEqual(2 * cls(mid));
    expect(cls(bigger)).toBeLessThanOrEqual(2 * cls(mid));
    expect(cls(bigger)).toBeGreaterThan(cls(big));
    // Both alive at once: the second would otherwise take the first one's idle block.
    [zeros([bigger]), zeros([big])].forEach((t) => t.dispose());
    const s0 = cpuMemoryStats();
    const t = zeros([mid]);
    const s1 = cpuMemoryStats();
    expect([s1.hits, s1.misses]).toEqual([s0.hits + 1, s0.misses]);
    expect(s1.inUseBytes - s0.inUseBytes).toBe(cls(big));
    expect(s1.cachedBytes).toBe(cls(bigger));
    expect(t.sum().item()).toBe(0);
    t.dispose();
    expect(cpuMemoryStats().cachedBytes).toBe(cls(big) + cls(bigger));
    const u = zeros([big]);
    expect(cpuMemoryStats().cachedBytes).toBe(cls(bigger));
    expect(cpuMemoryStats().misses).toBe(s0.misses);
    u.dispose();
  });

  it('maps a new block when the idle ones are more than twice its class', () => {
    expect(cls(big)).toBeGreaterThan(2 * cls(small));
    zeros([big]).dispose();
    const s0 = cpuMemoryStats();
    const t = zeros([small]);
    expect(cpuMemoryStats().misses).toBe(s0.misses + 1);
    expect(cpuMemoryStats().inUseBytes - s0.inUseBytes).toBe(cls(small));
    t.dispose();
  });

  it('takes its own class first when it has an idle block', () => {
    [zeros([big]), zeros([mid])].forEach((t) => t.dispose());
    const t = zeros([mid]);
    expect(cpuMemoryStats().cachedBytes).toBe(cls(big));
    t.dispose();
  });
});

it('small tensors never enter the cache', () => {
  const s0 = cpuMemoryStats();
  const t = zeros([1000]);
  t.dispose();
  const s1 = cpuMemoryStats();
  expect([s1.inUseBytes, s1.cachedBytes, s1.hits, s1.misses]).toEqual([s0.inUseBytes, s0.cachedBytes, s0.hits, s0.misses]);
});

it('emptyCpuCache() returns every cached block; the limit bounds what is kept', () => {
  const ts = [1, 2, 3].map((k) => zeros([k * 100_000]));
  ts.forEach((t) => t.dispose());
  expect(cpuMemoryStats().cachedBytes).toBe(sizeClass(400_064) + sizeClass(800_064) + sizeClass(1_200_064));
  const released = cpuMemoryStats().releases;
  emptyCpuCache();
  expect(cpuMemoryStats().cachedBytes).toBe(0);
  expect(cpuMemoryStats().releases).toBe(released + 3);

  setCpuCacheLimit(sizeClass(800_064));
  const us = [1, 2, 3].map((k) => zeros([k * 100_000]));
  us.forEach((t) => t.dispose());
  // Freed in order: the 400 KB block fits under the limit, the next two would not and are unmapped.
  expect(cpuMemoryStats().cachedBytes).toBe(sizeClass(400_064));
  expect(cpuMemoryStats().releases).toBe(released + 5);
  setCpuCacheLimit(0);
  expect(cpuMemoryStats().cachedBytes).toBe(0);
});

it('reused memory holds exactly what is written to it', () => {
  for (let round = 0; round < 3; round++) {
    const n = 300_000;
    const t = arange(0, n, 1, { dtype: 'float64' });
    const sum = t.sum().item() as number;
    expect(sum).toBe((n * (n - 1)) / 2);
    t.dispose();
  }
});

it('rejects a negative or fractional limit, naming the argument', () => {
  expect(() => setCpuCacheLimit(-1)).toThrow(/bytes/);
  expect(() => setCpuCacheLimit(1.5)).toThrow(/bytes/);
});
