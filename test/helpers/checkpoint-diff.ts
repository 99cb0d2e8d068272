/** Comparing the checkpoints of two training runs (data-parallel against one process, resumed against uninterrupted). */
import { readMetrics, runPaths } from '../../src/experiments';
import { loadSafetensors } from '../../src/nn/safetensors';

/**
 * Max |a - b| over the model and optimizer tensors of two checkpoints; masks must be equal, and the
 * Sign-In factors and momentum buffers present (the runs compared use both).
 */
export function checkpointDiff(a: string, b: string): number {
  const x = loadSafetensors(runPaths(a).checkpoint);
  const y = loadSafetensors(runPaths(b).checkpoint);
  try {
    const keys = [...x.keys()].filter((k) => k.startsWith('model.') || k.startsWith('optim.'));
    expect(keys.some((k) => k.endsWith('weight_mask'))).toBe(true);
    expect(keys.some((k) => k.endsWith('weight_m'))).toBe(true);
    expect(keys.some((k) => k.includes('momentum_buffer'))).toBe(true);
    expect([...y.keys()].sort()).toEqual([...x.keys()].sort());
    let diff = 0;
    for (const k of keys) {
      const u = x.get(k)!.data();
      const v = y.get(k)!.data();
      expect(v.length).toBe(u.length);
      const bytes = (t: typeof u) => Buffer.from(t.buffer, t.byteOffset, t.byteLength);
      if (k.endsWith('_mask')) expect({ k, equal: bytes(u).equals(bytes(v)) }).toEqual({ k, equal: true });
      for (let i = 0; i < u.length; i++) diff = Math.max(diff, Math.abs(Number(u[i]) - Number(v[i])));
    }
    return diff;
  } finally {
    for (const t of [...x.values(), ...y.values()]) t.dispose();
  }
}

/**
 * A resumed run against its uninterrupted reference: the final checkpoint's model and optimizer
 * tensors byte for byte (masks and momentum among them), and the metrics rows less their timings.
 */
export function expectSameRun(runDir: string, reference: string): void {
  const a = loadSafetensors(runPaths(reference).checkpoint);
  const b = loadSafetensors(runPaths(runDir).checkpoint);
  try {
    const keys = [...a.keys()].filter((k) => k.startsWith('model.') || k.startsWith('optim.'));
    expect(keys.some((k) => k.endsWith('weight_mask'))).toBe(true);
    expect(keys.some((k) => k.includes('momentum_buffer'))).toBe(true);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    const bytes = (t: ReturnType<typeof a.get>) => {
      const d = t!.data();
      return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
    };
    for (const k of keys) expect({ k, equal: bytes(a.get(k)).equals(bytes(b.get(k))) }).toEqual({ k, equal: true });
  } finally {
    for (const t of [...a.values(), ...b.values()]) t.dispose();
  }
  expect(untimedRows(runDir)).toEqual(untimedRows(reference));
}

/** A run's metrics rows without their timings (epochSeconds, dataSeconds, evalSeconds), which no two runs share. */
export function untimedRows(runDir: string): Record<string, unknown>[] {
  return readMetrics(runDir).map(({ epochSeconds: _e, dataSeconds: _d, evalSeconds: _v, ...rest }) => rest);
}
