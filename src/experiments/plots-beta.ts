/**
 * The Sign-In inner scaling per epoch (signin-method.md): β = m² − w² averaged over the kept
 * weights at the end of each epoch, before that epoch's reset (metrics `betaBeforeReset`; in an
 * epoch without a reset, such as the last one or every epoch of a run without resets, the
 * end-of-epoch `meanBeta`, which no reset has touched). A reset restores β, so this is the value
 * SGD noise and weight decay wore it down to: the quantity the method's argument is about. Only
 * Sign-In runs have it. Lines are the mean over seeds, bands ± one standard deviation, one column
 * per sparsity, as the other report plots.
 *
 * Beside it the same value per layer (`betaBeforeResetPerLayer`, else `betaPerLayer`) as a heatmap:
 * epochs across, layers down in network order, colour the mean over seeds, one panel per Sign-In
 * method and sparsity. A heatmap rather than a line per layer, since ResNet-50's 54 layers would
 * need 54 colours; rather than the last epoch's bars (as sign flips per layer), since the last
 * epoch has no reset and the learning rate there is smallest, so it shows the least wear.
 */
import * as path from 'node:path';
import { obj } from '../validate';
import type { MetricsRow } from './metrics';
import { slug } from './paths';
import { epochEnc, methodLegend, type CurvePoint, type PlotOrder, type VegaLiteSpec } from './plots';
import { recordSparsity } from './run-sparsity';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';
/** At most this many epoch columns in the per-layer heatmap (longer runs average neighbouring epochs). */
const EPOCH_BINS = 40;

/** What the β plots read of a run (RunRecord's fields). */
type BetaRun = { name: string; config: { seed: number; pruning: { sparsity: number }; sparsify?: { sparsity: number }; transfer?: unknown }; metrics: MetricsRow[]; sparsity?: number };

/** β at the end of an epoch before its reset, or undefined when the row has none (not Sign-In). */
export function betaBeforeReset(row: MetricsRow): number | undefined {
  obj('row', row, 'metrics row');
  const v = row.betaBeforeReset ?? row.meanBeta;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * β per layer at the end of an epoch before its reset, or undefined when the row has none: not
 * Sign-In, written before rows had it, or resumed in that epoch from a checkpoint without the
 * per-layer sums (its end-of-epoch values would be after the reset, not before).
 */
export function betaBeforeResetPerLayer(row: MetricsRow): Record<string, number> | undefined {
  obj('row', row, 'metrics row');
  if (row.betaBeforeResetPerLayer) return row.betaBeforeResetPerLayer;
  return row.betaBeforeReset === undefined ? row.betaPerLayer : undefined;
}

/** The β curve points of runs, labelled by `label` (the report's method label of each run). */
export function betaPoints(runs: readonly BetaRun[],
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
  const x = epochEnc(points);
  const yTitle = 'mean m² − w² before the reset';
  // Colours as in the other plots (the whole domain); the legend names only the methods with a β.
  const color = { field: 'method', type: 'nominal', title: 'method', scale: { domain: order.methods }, sort: methods, legend: { ...methodLegend(true), values: methods } };
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

/** One layer's β before the reset in one epoch of one run. */
export interface LayerBetaPoint extends CurvePoint {
  layer: string;
}

/** The per-layer β points of runs (see betaPoints) and the layer names in network order. */
export function betaLayerPoints(runs: readonly BetaRun[],
  label: (runName: string) => string | undefined, sparsityLabel: (s: number) => string): { points: LayerBetaPoint[]; layers: string[] } {
  const points: LayerBetaPoint[] = [];
  const layers: string[] = [];
  for (const r of runs) {
    const method = label(r.name);
    if (method === undefined) continue;
    for (const m of r.metrics) {
      for (const [layer, value] of Object.entries(betaBeforeResetPerLayer(m) ?? {})) {
        if (!Number.isFinite(value)) continue;
        if (!layers.includes(layer)) layers.push(layer);
        points.push({ method, sparsity: sparsityLabel(recordSparsity(r)), seed: r.config.seed, epoch: m.epoch, layer, value });
      }
    }
  }
  return { points, layers };
}

/** β before the reset per layer and epoch, a heatmap per Sign-In method (rows) and sparsity (columns). */
export function betaPerLayerSpec(points: readonly LayerBetaPoint[], layers: readonly string[], title: string, order: PlotOrder): VegaLiteSpec {
  const methods = order.methods.filter((m) => points.some((p) => p.method === m));
  const last = points.reduce((a, p) => Math.max(a, p.epoch), 1);
  const step = Math.ceil(last / EPOCH_BINS);
  return {
    $schema: SCHEMA,
    title: `${title}: Sign-In inner scaling β per layer and epoch`,
    data: { values: points },
    // A cell spans epochs from + 0.5 … to − 0.5, so that an axis tick at epoch e sits inside e's cell.
    transform: [
      { calculate: `floor((datum.epoch - 1) / ${step}) * ${step} + 0.5`, as: 'from' },
      { calculate: `datum.from + ${step}`, as: 'to' },
    ],
    facet: {
      row: { field: 'method', type: 'nominal', title: 'method', sort: methods },
      column: { field: 'sparsity', type: 'ordinal', title: 'sparsity', sort: order.sparsities },
    },
    spec: {
      width: 260,
      height: { step: 10 },
      // No per-cell labels, and epochs grouped: 160 epochs of 54 layers would be 8,640 cells a panel.
      mark: { type: 'rect', aria: false },
      encoding: {
        x: {
          field: 'from', type: 'quantitative', title: step > 1 ? `epoch (cells of ${step})` : 'epoch',
          scale: { domain: [0.5, Math.ceil(last / step) * step + 0.5], nice: false, zero: false },
          // vega's own ticks fall between epochs on a short axis (1.5 printed as 2).
          axis: last <= 20 ? { values: Array.from({ length: last }, (_, i) => i + 1), format: 'd' } : { tickMinStep: 1, format: 'd' },
        },
        x2: { field: 'to' },
        y: { field: 'layer', type: 'nominal', sort: layers, title: 'layer' },
        color: { aggregate: 'mean', field: 'value', type: 'quantitative', title: 'β before reset', scale: { scheme: 'viridis', zero: false } },
      },
    },
  };
}

/** Where the β plot of a report table goes. */
export function betaPlotPath(outDir: string, tableTitle: string): string {
  return path.join(outDir, `signin-beta_${slug(tableTitle)}.svg`);
}

/** Where the per-layer β plot of a report table goes. */
export function betaPerLayerPlotPath(outDir: string, tableTitle: string): string {
  return path.join(outDir, `signin-beta-per-layer_${slug(tableTitle)}.svg`);
}
