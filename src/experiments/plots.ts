/**
 * Plots as vega-lite specs (pure data, testable) rendered to SVG headlessly with vega's View
 * (renderer 'none' + toSVG). SVG only: PNG would need node-canvas, a native dependency we skip.
 * Lines show the mean over seeds, bands ± one standard deviation.
 */

/** A vega-lite spec (kept loose: vega-lite's own type is large and version-bound). */
export type VegaLiteSpec = Record<string, unknown>;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/** One value of one run at one epoch. */
export interface CurvePoint {
  method: string;
  /** Column label, e.g. '90%'. */
  sparsity: string;
  seed: number;
  epoch: number;
  value: number;
}

export interface FlipCurvePoint extends CurvePoint {
  /** 'from init' or 'from previous epoch'. */
  measure: string;
}

export interface LayerPoint {
  method: string;
  sparsity: string;
  seed: number;
  layer: string;
  value: number;
}

export interface PlotOrder {
  /** Methods in legend order (fixes colours across plots). */
  methods: string[];
  /** Sparsity labels in column order. */
  sparsities: string[];
}

/**
 * The method legend, one label a row under the plot and never cut: labels that differ only at
 * their end ('Random + Sign-In (signin.resetPeriod=5)') would otherwise all end in the same '…'.
 * Lines get line symbols (the band would otherwise fade them).
 */
export function methodLegend(lines: boolean): Record<string, unknown> {
  return {
    orient: 'bottom', direction: 'vertical', labelLimit: 0,
    ...(lines ? { symbolType: 'stroke', symbolOpacity: 1, symbolStrokeWidth: 3 } : {}),
  };
}

/** Colour by method, in the order's legend order. */
function colorEnc(order: PlotOrder, lines = true): Record<string, unknown> {
  return { field: 'method', type: 'nominal', title: 'method', scale: { domain: order.methods }, sort: order.methods, legend: methodLegend(lines) };
}

/**
 * The epoch axis, whole epochs only: a 2-epoch run's axis read 1.0, 1.2, ... 2.0. A short run
 * names its epochs (vega's tickMinStep still puts a tick at 1.5); a long one's ticks are whole.
 */
export function epochEnc(points: readonly { epoch: number }[]): Record<string, unknown> {
  const epochs = [...new Set(points.map((p) => p.epoch))].sort((a, b) => a - b);
  const axis = epochs.length <= 12 ? { values: epochs, format: 'd' } : { tickMinStep: 1, format: 'd' };
  return { field: 'epoch', type: 'quantitative', title: 'epoch', axis };
}

function columnEnc(order: PlotOrder): Record<string, unknown> {
  return { field: 'sparsity', type: 'ordinal', title: 'sparsity', sort: order.sparsities };
}

function bandAndLine(points: readonly CurvePoint[], yTitle: string, order: PlotOrder, zero: boolean): Record<string, unknown>[] {
  const x = epochEnc(points);
  const scale = { zero };
  return [
    { mark: { type: 'errorband', extent: 'stdev', opacity: 0.2 }, encoding: { x, y: { field: 'value', type: 'quantitative', title: yTitle, scale }, color: colorEnc(order) } },
    { mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x, y: { aggregate: 'mean', field: 'value', type: 'quantitative', title: yTitle, scale }, color: colorEnc(order) } },
  ];
}

/** Test accuracy (%) over epochs, one line per method, one column per sparsity. */
export function testAccuracySpec(points: readonly CurvePoint[], title: string, order: PlotOrder): VegaLiteSpec {
  return {
    $schema: SCHEMA,
    title: `${title}: test accuracy`,
    data: { values: points },
    facet: { column: columnEnc(order) },
    spec: { width: 260, height: 200, layer: bandAndLine(points, 'test accuracy (%)', order, false) },
  };
}

/** Fraction of unmasked weights with flipped sign over epochs (rows: vs init, vs previous epoch). */
export function signFlipsSpec(points: readonly FlipCurvePoint[], title: string, order: PlotOrder): VegaLiteSpec {
  return {
    $schema: SCHEMA,
    title: `${title}: sign flips`,
    data: { values: points },
    facet: { row: { field: 'measure', type: 'nominal', title: null, sort: ['from init', 'from previous epoch'] }, column: columnEnc(order) },
    spec: { width: 260, height: 160, layer: bandAndLine(points, 'flipped fraction', order, true) },
    resolve: { scale: { y: 'independent' } },
  };
}

/** Per-layer flipped fraction (vs init) at the final epoch, grouped bars by method, in network order. */
export function perLayerFlipsSpec(points: readonly LayerPoint[], layers: readonly string[], title: string, order: PlotOrder): VegaLiteSpec {
  return {
    $schema: SCHEMA,
    title: `${title}: sign flips per layer (final epoch, vs init)`,
    data: { values: points },
    facet: { row: { ...columnEnc(order) } },
    spec: {
      width: { step: Math.max(8, 6 * order.methods.length) },
      height: 160,
      mark: 'bar',
      encoding: {
        x: { field: 'layer', type: 'nominal', sort: layers, title: 'layer', axis: { labelAngle: -60 } },
        xOffset: { field: 'method', type: 'nominal', sort: order.methods },
        y: { aggregate: 'mean', field: 'value', type: 'quantitative', title: 'flipped fraction' },
        color: colorEnc(order, false),
      },
    },
  };
}

/** Renders a vega-lite spec to an SVG string without a browser or canvas. */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  // Loaded on first use: vega is large and most users of this module never plot.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const vega = require('vega') as typeof import('vega');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const vl = require('vega-lite') as typeof import('vega-lite');
  const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
