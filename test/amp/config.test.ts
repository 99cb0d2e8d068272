/**
 * The config keys of mixed precision: `amp` ('bf16' | 'fp16' | false, hashed: it changes what a
 * run computes) and `channelsLast` (true, false or 'auto', the default; not hashed: a memory layout,
 * like device/threads).
 */
import { createHash } from 'node:crypto';
import { configHash, parseConfig } from '../../src/experiments';

const minimal = { dataset: { name: 'cifar10' }, model: { name: 'cifar_resnet_20' }, epochs: 2 };

describe('amp and channelsLast in experiment configs', () => {
  it("accepts the three amp modes and channelsLast true, false or 'auto' (the default)", () => {
    for (const amp of ['bf16', 'fp16', false] as const) expect(parseConfig({ ...minimal, amp }).amp).toBe(amp);
    expect(parseConfig({ ...minimal, channelsLast: true }).channelsLast).toBe(true);
    expect(parseConfig({ ...minimal, channelsLast: false }).channelsLast).toBe(false);
    expect(parseConfig(minimal).channelsLast).toBe('auto');
  });

  it('names the key and the expected values on a bad one', () => {
    expect(() => parseConfig({ ...minimal, amp: 'fp32' })).toThrow(/amp/);
    expect(() => parseConfig({ ...minimal, channelsLast: 'yes' })).toThrow(/channelsLast/);
  });

  it('hashes amp but not channelsLast, and leaves existing hashes unchanged', () => {
    // What the hash was before amp existed: md5 of the canonical JSON of the non-default fields.
    const base = createHash('md5').update('{"dataset":{"name":"cifar10"},"epochs":2,"model":{"name":"cifar_resnet_20"}}').digest('hex');
    expect(configHash(parseConfig(minimal))).toBe(base);
    expect(configHash(parseConfig({ ...minimal, amp: false }))).toBe(base);
    expect(configHash(parseConfig({ ...minimal, channelsLast: true }))).toBe(base);
    expect(configHash(parseConfig({ ...minimal, channelsLast: false }))).toBe(base);
    expect(configHash(parseConfig({ ...minimal, amp: 'bf16' }))).not.toBe(base);
  });
});
