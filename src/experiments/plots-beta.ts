/**
 * The Sign-In inner scaling per epoch (signin-method.md): β = m² − w² averaged over the kept
 * weights at the end of each epoch, before that epoch's reset (metrics `betaBeforeReset`; in an
 * epoch without a reset, such as the last one or every epoch of a run without resets, the
 * end-of-epoch `meanBeta`, which no reset has touched). A reset restores β, so this is the value
 * SGD noise and weight decay wore it down to: the quantity the method's argument is about. Only
 * Sign-In runs have it. Lines are the mean over seeds, bands ± one standard deviation, one column
 * per sparsity, as the other report plots.
 */
import * as path from 'node:path';
import { obj } from '../validate';
import type { MetricsRow } from './metrics';
import { slug } from './paths';
import type { CurvePoint, PlotOrder, VegaLiteSpec } from './plots';
import { recordSparsity } from './run-sparsity';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/** β at the end of an epoch before its reset, or undefined when the row has none (not Sign-In). */
export function betaBeforeReset(row: MetricsRow): number | undefined {
  obj('row', row, 'metrics row');
  const v = row.betaBeforeReset ?? row.meanBeta;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The β curve points of runs, labelled by `label` (the report's method label of each run). */
export function betaPoints(runs: readonly { name: string; config: { seed: number; pruning: { sparsity: number }; sparsify?: { sparsity: number }; transfer?: unknown }; metrics: MetricsRow[]; sparsity?: number }[],
  label: (runName: string) => string | undefined, sparsityLabel: (s: number) => string): CurvePoint[] {
  const out: CurvePoint[] = [];
  for (const r of runs) {
    const method = label(r.name);
    if (method === undefined) continue;
    for (const m of r.metrics) {
      const value = betaBeforeReset(m);
      if (value !== undefined) out.push({ method, sparsity: sparsityLabel(recordSparsity(r)), seed: r.config.seed, epoch: m.epoch, value });
    }
  }
  return out;
}

/** β before the reset over epochs, one line per Sign-In method, one column per sparsity. */
export function betaSpec(points: readonly CurvePoint[], title: string, order: PlotOrder): VegaLiteSpec {
  const methods = order.methods.filter((m) => points.some((p) => p.method === m));
  const x = { field: 'epoch', type: 'quantitative', title: 'epoch' };
  const yTitle = 'mean m² − w² before the reset';
  const color = { field: 'method', type: 'nominal', title: 'method', scale: { domain: order.methods }, sort: methods, legend: { symbolType: 'stroke', symbolOpacity: 1, symbolStrokeWidth: 3 } };
  return {
    $schema: SCHEMA,
    title: `${title}: Sign-In inner scaling β per epoch`,
    data: { values: points },
    facet: { column: { field: 'sparsity', type: 'ordinal', title: 'sparsity', sort: order.sparsities } },
    spec: {
      width: 260,
      height: 200,
      layer: [
        { mark: { type: 'errorband', extent: 'stdev', opacity: 0.2 }, encoding: { x, y: { field: 'value', type: 'quantitative', title: yTitle, scale: { zero: false } }, color } },
        { mark: { type: 'line', strokeWidth: 1.5, point: true }, encoding: { x, y: { aggregate: 'mean', field: 'value', type: 'quantitative', title: yTitle, scale: { zero: false } }, color } },
      ],
    },
  };
}

/** Where the β plot of a report table goes. */
export function betaPlotPath(outDir: string, tableTitle: string): string {
  return path.join(outDir, `signin-beta_${slug(tableTitle)}.svg`);
}
