/**
 * The config's `hessian` request as a trainer callback: after the last epoch, the top Hessian
 * eigenvalue of the training loss at the final weights (hessian.ts), added to that epoch's
 * metrics row as `topHessianEigenvalue` (with `hessianIterations` and `hessianConverged`). The
 * examples are the un-augmented, seeded ones the data-driven pruners score on (prune-data.ts),
 * so a plain run and its Sign-In twin are measured on the same data and the same start vector.
 */
import type { ExperimentConfig } from './schema';
import { tidy } from '../tensor/engine';
import { keep } from '../tensor/keep';
import { Generator } from '../tensor/runtime';
import type { Tensor } from '../tensor/tensor';
import type { Callback, EpochMetrics, TrainContext } from '../train/callbacks';
import { modelTopHessianEigenvalue } from '../train/hessian';
import { pruneBatch } from './prune-data';

/** The callbacks a config's `hessian` field asks for (none when absent). */
export function hessianCallbacks(config: ExperimentConfig): Callback[] {
  const h = config.hessian;
  if (!h) return [];
  return [{
    name: 'hessian',
    async onEpochEnd(ctx: TrainContext, metrics: EpochMetrics) {
      if (ctx.epoch !== config.epochs) return;
      const [x, y] = await pruneBatch(config, h.samples);
      const device = ctx.model.parameters()[0]?.device ?? 'cpu';
      const slice = (t: Tensor, start: number, len: number) => keep(device === 'cpu' ? t.narrow(0, start, len) : t.narrow(0, start, len).to({ device }));
      const batches: { x: Tensor; y: Tensor }[] = [];
      try {
        tidy(() => {
          for (let start = 0; start < h.samples; start += h.batchSize) {
            const len = Math.min(h.batchSize, h.samples - start);
            batches.push({ x: slice(x, start, len), y: slice(y, start, len) });
          }
        });
        const r = modelTopHessianEigenvalue(ctx.model, batches, { maxIterations: h.maxIterations, tol: h.tol, generator: new Generator(config.seed) });
        Object.assign(metrics, { topHessianEigenvalue: r.eigenvalue, hessianIterations: r.iterations, hessianConverged: r.converged });
        ctx.logger.info({ eigenvalue: r.eigenvalue, iterations: r.iterations, converged: r.converged }, 'top Hessian eigenvalue at the final weights');
      } finally {
        batches.forEach((b) => { b.x.dispose(); b.y.dispose(); });
        x.dispose();
        y.dispose();
      }
    },
  }];
}
