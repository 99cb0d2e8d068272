/**
 * Final test accuracy against sparsity, one line per method (the mean over seeds, with points at
 * each seed's value and a bar of ± one standard deviation): the paper's Table 1 as a figure.
 */
import * as path from 'node:path';
import { slug } from './paths';
import type { PlotOrder, VegaLiteSpec } from './plots';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/** One run's final accuracy (percent) at its sparsity (percent). */
export interface SparsityPoint {
  method: string;
  sparsity: number;
  seed: number;
  value: number;
}

/** The points of a report table's cells (sparsity as a fraction in the table, percent here). */
export function sparsityPoints(rows: readonly { label: string; cells: readonly ({ sparsity: number; seeds: number[]; values: number[] } | undefined)[] }[]): SparsityPoint[] {
  return rows.flatMap((r) => r.cells.flatMap((c) => (c ? c.seeds.map((seed, k) => ({ method: r.label, sparsity: Number((c.sparsity * 100).toFixed(2)), seed, value: c.values[k] })) : [])));
}

export function accuracyVsSparsitySpec(points: readonly SparsityPoint[], title: string, order: PlotOrder): VegaLiteSpec {
  const x = { field: 'sparsity', type: 'quantitative', title: 'sparsity (%)', scale: { zero: false } };
  const y = { field: 'value', type: 'quantitative', title: 'final test accuracy (%)', scale: { zero: false } };
  const color = { field: 'method', type: 'nominal', title: 'method', scale: { domain: order.methods }, sort: order.methods };
  return {
    $schema: SCHEMA,
    title: `${title}: final test accuracy vs sparsity`,
    data: { values: points },
    width: 360,
    height: 240,
    layer: [
      { mark: { type: 'errorbar', extent: 'stdev' }, encoding: { x, y, color } },
      { mark: { type: 'point', opacity: 0.4 }, encoding: { x, y, color } },
      { mark: { type: 'line', point: true }, encoding: { x, y: { ...y, aggregate: 'mean' }, color } },
    ],
  };
}

/** Where the accuracy-vs-sparsity plot of a report table goes. */
export function sparsityPlotPath(outDir: string, tableTitle: string): string {
  return path.join(outDir, `accuracy-vs-sparsity_${slug(tableTitle)}.svg`);
}
