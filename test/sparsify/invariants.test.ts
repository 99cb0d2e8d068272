/**
 * Every method, with and without Sign-In, trained through the real Trainer: after every mask
 * change the invariants hold (θ, gradient and momentum zero outside the mask; grown entries at
 * θ = 0 with zero momentum; Sign-In factors consistent, grown entries at m = √β, w = 0), the
 * sparsity reached is the target, and each method changed the mask as often as its schedule says.
 */
import { Acdc, Gmp, Rigl, maskedLayers, noGrad, signinFactors, sparsityStats, tidy, type Callback } from '../../src';
import { InvariantProbe, fixedSource, toySetup, train } from './helpers';

const SPE = 4;

describe.each([false, true])('sparsify invariants (Sign-In %s)', (signin) => {
  it('GMP prunes on its schedule and keeps the invariants after every prune', async () => {
    const { model, optimizer } = toySetup(signin);
    const src = fixedSource(SPE);
    const gmp = new Gmp({ sparsity: 0.8, startEpoch: 0.5, endEpoch: 2.5, frequency: 2 });
    const probe = new InvariantProbe(optimizer);
    await train(model, optimizer, src, 3, [gmp, probe]);
    // Prunes at steps 2, 4, 6, 8, 10 (the first at s_i = 0 changes nothing): 4 changes × 3 layers at most.
    expect(probe.failures).toEqual([]);
    expect(probe.changes).toBeGreaterThanOrEqual(4);
    const s = sparsityStats(model);
    expect(s.overall.kept).toBe(Math.round(0.2 * s.overall.numel));
    probe.dispose(); src.dispose(); optimizer.dispose();
  });

  it.each(['gradient', 'random'] as const)('RiGL/SET (%s growth): ERK start, drop/grow every ΔT, RiGL skips the step of an update, SET takes it', async (growth) => {
    const { model, optimizer } = toySetup(signin);
    const src = fixedSource(SPE);
    const rigl = new Rigl({ sparsity: 0.7, deltaT: 2, dropFraction: 0.5, totalSteps: 4 * SPE, growth });
    const probe = new InvariantProbe(optimizer);
    const bn = (model.getModule('bn1') as unknown as { weight: import('../../src').Tensor }).weight;
    const skipped: boolean[] = [];
    let before: number[] | undefined;
    const stepWatch: Callback = {
      name: 'step-watch',
      onAfterBackward(ctx) { before = rigl.dueAt(ctx.step) ? Array.from(tidy(() => bn.detach().clone().toArray())) : undefined; },
      onStepEnd() { if (before) skipped.push(JSON.stringify(before) === JSON.stringify(Array.from(tidy(() => bn.detach().clone().toArray())))); },
    };
    await train(model, optimizer, src, 4, [rigl, probe, stepWatch]);
    expect(probe.failures).toEqual([]);
    // Updates at steps 2, 4, 6, 8, 10 (< T_end = 12): RiGL's replace the step, SET's follow it.
    expect(skipped).toEqual(Array(5).fill(growth === 'gradient'));
    expect(probe.grown).toBeGreaterThan(0);
    const s = sparsityStats(model);
    expect(Math.abs(s.overall.kept - 0.3 * s.overall.numel)).toBeLessThanOrEqual(maskedLayers(model).length);
    probe.dispose(); src.dispose(); optimizer.dispose();
  });

  it('AC/DC alternates dense and sparse phases, re-densified weights start at 0 with zero momentum', async () => {
    const { model, optimizer } = toySetup(signin);
    const src = fixedSource(SPE);
    const acdc = new Acdc({ sparsity: 0.9, epochs: 6, warmupEpochs: 1, phaseEpochs: 1, finetuneEpochs: 2 });
    expect([0, 1, 2, 3, 4, 5].map((e) => acdc.phaseAt(e))).toEqual(['dense', 'sparse', 'dense', 'sparse', 'sparse', 'sparse']);
    const probe = new InvariantProbe(optimizer);
    const density: number[] = [];
    const momentumAtDense: number[] = [];
    const watch: Callback = {
      name: 'watch',
      onEpochEnd(ctx) {
        density.push(sparsityStats(ctx.model).overall.kept / sparsityStats(ctx.model).overall.numel);
        if (acdc.phaseAt(ctx.epoch) === 'dense' && ctx.epoch < 6) {
          momentumAtDense.push(maskedLayers(ctx.model).reduce((a, [, l]) => a + noGrad(() => tidy(() => {
            const b = signinFactors(l) ? optimizer.entryBuffers(l.weight)!.m : optimizer.momentumBuffer(l.weight)!;
            return b.abs().sum().item();
          })), 0));
        }
      },
    };
    await train(model, optimizer, src, 6, [acdc, probe, watch]);
    expect(probe.failures).toEqual([]);
    // Density of the NEXT epoch's phase, recorded at each epoch end.
    expect(density.map((d) => (d === 1 ? 'dense' : Math.abs(d - 0.1) < 0.01 ? 'sparse' : d))).toEqual(['sparse', 'dense', 'sparse', 'sparse', 'sparse', 'sparse']);
    expect(momentumAtDense).toEqual([0]);
    probe.dispose(); src.dispose(); optimizer.dispose();
  });
});
