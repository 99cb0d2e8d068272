/**
 * Sign transfer: the new start holds the source's mask, and on it the source's signs with the
 * fresh init's magnitudes ('signs') or the reverse ('magnitudes'), or the fresh init itself
 * ('mask'); computed here elementwise from the two models' values. Under Sign-In the factors are
 * a valid split of the new θ.
 */
import { Gmp, applySignIn, manualSeed, maskedLayers, signTransfer, signinFactors, tidy, type Tensor } from '../../src';
import { createToyModel } from '../helpers/toy-model';
import { fixedSource, toySetup, train } from './helpers';

function values(t: Tensor): number[] {
  return Array.from(tidy(() => t.detach().to('float64').contiguous().toArray()) as ArrayLike<number>);
}

describe('signTransfer', () => {
  let source: Map<string, Tensor>;
  beforeAll(async () => {
    const { model, optimizer } = toySetup(false, 5);
    const src = fixedSource(4);
    await train(model, optimizer, src, 2, [new Gmp({ sparsity: 0.8, startEpoch: 0, endEpoch: 1, frequency: 2 })]);
    source = model.stateDict();
    optimizer.dispose(); src.dispose();
  });

  it.each([
    ['signs', false], ['magnitudes', false], ['signs', true], ['both', false], ['mask', false], ['mask', true],
  ] as const)('%s (Sign-In applied after: %s)', (kind, signinAfter) => {
    manualSeed(99);
    const model = createToyModel();
    const init = maskedLayers(model).map(([, l]) => values(l.weight));
    expect(signTransfer(model, source, kind)).toBe(3);
    if (signinAfter) applySignIn(model, { beta: 1.5 });
    maskedLayers(model).forEach(([name, l], i) => {
      const s = values(source.get(`${name}.weight`)!);
      const mask = values(source.get(`${name}.weight_mask`)!);
      expect(values(l.mask)).toEqual(mask);
      const want = s.map((v, j) => {
        if (!mask[j]) return 0;
        if (kind === 'signs') return Math.sign(v) * Math.abs(init[i][j]);
        if (kind === 'magnitudes') return Math.abs(v) * Math.sign(init[i][j]);
        if (kind === 'mask') return init[i][j];
        return v;
      });
      const got = values(l.weight);
      if (!signinAfter) expect(got).toEqual(want);
      else {
        got.forEach((g, j) => expect(Math.abs(g - want[j])).toBeLessThanOrEqual(1e-6 * Math.abs(want[j]) + 1e-12));
        const m = values(signinFactors(l)!.m);
        const w = values(signinFactors(l)!.w);
        m.forEach((mv, j) => expect(Math.abs(mv * mv - w[j] * w[j] - 1.5)).toBeLessThan(1e-5));
        expect(got).toEqual(m.map((mv, j) => Math.fround(mv * w[j])));
      }
    });
  });

  it('names a missing layer of the source and writes nothing', () => {
    const model = createToyModel();
    const before = values(maskedLayers(model)[0][1].weight);
    const partial = new Map([...source].filter(([k]) => !k.startsWith('fc.')));
    expect(() => signTransfer(model, partial, 'signs')).toThrow(/source\['fc\.weight'\]/);
    expect(values(maskedLayers(model)[0][1].weight)).toEqual(before);
  });
});
