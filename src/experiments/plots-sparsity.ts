/**
 * Final test accuracy against sparsity, one line per method (the mean over seeds, with points at
 * each seed's value and a bar of ± one standard deviation): the paper's Table 1 as a figure.
 */
import * as path from 'node:path';
import { list, obj, str } from '../validate';
import { slug } from './paths';
import { methodLegend, type PlotOrder, type VegaLiteSpec } from './plots';

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
  const isObj = (x: unknown) => typeof x === 'object' && x !== null;
  list('rows', rows, 'array of table rows ({ label, cells })', isObj);
  for (const [i, r] of rows.entries()) {
    list(`rows[${i}].cells`, r.cells, 'array of cells ({ sparsity, seeds, values } or undefined)', (c) => c === undefined || isObj(c));
    for (const c of r.cells) {
      if (c) {
        list(`rows[${i}] seeds`, c.seeds, 'array of seeds', (x) => typeof x === 'number');
        list(`rows[${i}] values`, c.values, 'array of numbers', (x) => typeof x === 'number');
      }
    }
  }
  return rows.flatMap((r) => r.cells.flatMap((c) => (c ? c.seeds.map((seed, k) => ({ method: r.label, sparsity: Number((c.sparsity * 100).toFixed(2)), seed, value: c.values[k] })) : [])));
}

export function accuracyVsSparsitySpec(points: readonly SparsityPoint[], title: string, order: PlotOrder): VegaLiteSpec {
  list('points', points, 'array of sparsity points');
  str('title', title);
  list('order.methods', obj<PlotOrder>('order', order, 'plot order ({ methods, sparsities })').methods, 'array of method names', (x) => typeof x === 'string');
  const x = { field: 'sparsity', type: 'quantitative', title: 'sparsity (%)', scale: { zero: false } };
  const y = { field: 'value', type: 'quantitative', title: 'final test accuracy (%)', scale: { zero: false } };
  const color = { field: 'method', type: 'nominal', title: 'method', scale: { domain: order.methods }, sort: order.methods, legend: methodLegend(true) };
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
  return path.join(str('outDir', outDir), `accuracy-vs-sparsity_${slug(str('tableTitle', tableTitle))}.svg`);
}
