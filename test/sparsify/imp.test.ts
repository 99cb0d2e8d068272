/**
 * IMP with rewinding and LRR: the prune keeps the top (1 − p) of the kept weights by global |θ|
 * (checked against a plain float64 sort of the trained weights), IMP restores every kept weight,
 * BatchNorm parameter and Sign-In factor from the rewind point, LRR keeps the trained weights.
 */
import { RewindPoint, SGD, impNextLevel, maskedLayers, tidy, type Tensor } from '../../src';
import { expectedKeep, fixedSource, toySetup, train, values, violations } from './helpers';

describe.each([false, true])('IMP and LRR (Sign-In %s)', (signin) => {
  it('IMP: two levels of 20% global magnitude pruning with rewinding to step 2', async () => {
    const { model, optimizer } = toySetup(signin);
    const src = fixedSource(4);
    const rewind = new RewindPoint(2);
    await train(model, optimizer, src, 2, [rewind]);
    expect(rewind.snapshot).toBeDefined();
    const total = maskedLayers(model).reduce((a, [, l]) => a + l.weight.numel, 0);
    let kept = total;
    let opt: SGD = optimizer;
    for (let level = 1; level <= 2; level++) {
      const want = expectedKeep(model, Math.round(kept * 0.8));
      const before = maskedLayers(model).map(([, l]) => tidy(() => l.mask.clone()));
      const change = impNextLevel(model, { fraction: 0.2, rewindTo: rewind.snapshot, optimizer: opt });
      kept = Math.round(kept * 0.8);
      expect(change.perLayer.conv1.kept + change.perLayer.conv2.kept + change.perLayer.fc.kept).toBe(kept);
      maskedLayers(model).forEach(([name, l], i) => {
        expect(values(l.mask)).toEqual(want[i]);
        const snap = values(rewind.snapshot!.get(`${name}.weight`)!);
        const mask = values(l.mask);
        expect(values(l.weight)).toEqual(snap.map((v, j) => (mask[j] ? v : 0)));
        expect(Object.values(violations(l, opt, before[i])).every((n) => n === 0)).toBe(true);
        before[i].dispose();
      });
      expect(values((model.getModule('bn2') as unknown as { bias: Tensor }).bias)).toEqual(values(rewind.snapshot!.get('bn2.bias')!));
      opt.dispose();
      opt = SGD.forModel(model, { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
      await train(model, opt, src, 1, []);
    }
    opt.dispose(); rewind.dispose(); src.dispose();
  });

  it('LRR: prunes 20% by magnitude and keeps the trained weights', async () => {
    const { model, optimizer } = toySetup(signin);
    const src = fixedSource(4);
    await train(model, optimizer, src, 1, []);
    const total = maskedLayers(model).reduce((a, [, l]) => a + l.weight.numel, 0);
    const want = expectedKeep(model, Math.round(total * 0.8));
    const trained = maskedLayers(model).map(([, l]) => values(l.weight));
    impNextLevel(model, { fraction: 0.2, optimizer });
    maskedLayers(model).forEach(([, l], i) => {
      expect(values(l.mask)).toEqual(want[i]);
      expect(values(l.weight)).toEqual(trained[i].map((v, j) => (want[i][j] ? v : 0)));
    });
    optimizer.dispose(); src.dispose();
  });
});
