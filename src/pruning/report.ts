/**
 * maskReport: per masked layer, its shape, size, kept weights, density, and the FLOPs of the
 * sparse forward vs the dense one; the same totals for the model; and a formatted table.
 *
 * FLOPs are counted for the masked conv/linear layers only (other layers are not changed by
 * pruning), per example, 2 per multiply-accumulate: a conv with output H×W costs
 * 2·H·W·(kept weights) sparse and 2·H·W·(all weights) dense; a linear layer 2·(kept weights) per
 * output position. The output sizes come from one recorded forward of a batch of one (all ones,
 * eval mode, no grad) with the layers' forward wrapped; without an input shape (option, the
 * model's `inputShape`) the FLOPs are left out.
 */
import { InvalidArgumentError } from '../errors';
import { percent } from '../quote';
import { MaskedConv2d, maskedLayers } from '../nn/masked';
import type { Module } from '../nn/module';
import { noGrad } from '../tensor/autograd';
import { ones } from '../tensor/creation';
import { tidy } from '../tensor/engine';
import type { Tensor } from '../tensor/tensor';
import { keysOf, options } from '../validate';

export interface LayerMaskReport {
  /** Parameter name (`conv1.weight`). */
  name: string;
  kind: 'conv' | 'linear';
  shape: number[];
  total: number;
  remaining: number;
  density: number;
  /** True when the layer has no weight left (layer collapse). */
  empty: boolean;
  /** Output positions per example (H·W of a conv, 1 for a linear layer on vectors); undefined without an input shape. */
  positions?: number;
  denseFlops?: number;
  sparseFlops?: number;
}

export interface MaskReport {
  layers: LayerMaskReport[];
  total: number;
  remaining: number;
  density: number;
  sparsity: number;
  inputShape?: number[];
  denseFlops?: number;
  sparseFlops?: number;
  /** Layers with no weight left. */
  emptyLayers: string[];
  /** The report as a fixed-width text table. */
  table: string;
}

export interface MaskReportOptions {
  /** One example's input shape without the batch dimension (default: the model's inputShape). */
  inputShape?: number[];
}

/** Output positions of each masked layer, from one recorded forward of a batch of one. */
function recordPositions(model: Module, inputShape: number[]): Map<string, number> {
  const layers = maskedLayers(model);
  const positions = new Map<string, number>();
  const wrapped: { layer: { forward: unknown }; own: boolean; prev: unknown }[] = [];
  for (const [name, layer] of layers) {
    const original = layer.forward;
    const own = Object.prototype.hasOwnProperty.call(layer, 'forward');
    wrapped.push({ layer, own, prev: original });
    (layer as { forward: unknown }).forward = (x: Tensor, ...rest: unknown[]) => {
      const y = (original as (this: unknown, ...a: unknown[]) => Tensor).call(layer, x, ...rest);
      const s = y.shape;
      // A conv's output [N, C, H, W] has H·W positions; a linear output [N, ..., out] has numel / (N · out).
      const per = layer instanceof MaskedConv2d ? s.slice(2).reduce((a, b) => a * b, 1) : y.numel / (s[0] * s[s.length - 1]);
      positions.set(name, (positions.get(name) ?? 0) + per);
      return y;
    };
  }
  const modes = [...model.namedModules()].map(([, m]) => [m, m.training] as const);
  try {
    model.eval();
    noGrad(() => tidy(() => {
      const dtype = layers[0]?.[1].weight.dtype ?? 'float32';
      const device = layers[0]?.[1].weight.device;
      model.forward(ones([1, ...inputShape], { dtype: dtype as 'float32', device }));
    }));
  } finally {
    for (const [m, t] of modes) m.training = t;
    for (const w of wrapped) {
      if (w.own) w.layer.forward = w.prev;
      else delete (w.layer as { forward?: unknown }).forward;
    }
  }
  return positions;
}

function fmtCount(n: number | undefined): string {
  if (n === undefined) return '-';
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'K']];
  for (const [v, u] of units) if (Math.abs(n) >= v) return `${(n / v).toFixed(2)}${u}`;
  return String(n);
}


function formatTable(r: Omit<MaskReport, 'table'>): string {
  const head = ['layer', 'shape', 'params', 'remaining', 'density', 'FLOPs dense', 'FLOPs sparse', 'note'];
  const rows = r.layers.map((l) => [
    l.name, `[${l.shape.join(', ')}]`, String(l.total), String(l.remaining), percent(l.density),
    fmtCount(l.denseFlops), fmtCount(l.sparseFlops), l.empty ? 'EMPTY (layer collapse)' : '',
  ]);
  const foot = ['total', '', String(r.total), String(r.remaining), percent(r.density), fmtCount(r.denseFlops), fmtCount(r.sparseFlops),
    r.denseFlops ? `FLOPs ${percent((r.sparseFlops ?? 0) / r.denseFlops)} of dense` : ''];
  const all = [head, ...rows, foot];
  const widths = head.map((_, c) => Math.max(...all.map((row) => row[c].length)));
  const line = (row: string[]) => row.map((cell, c) => (c <= 1 || c === 7 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(head), rule, ...rows.map(line), rule, line(foot)].join('\n');
}

/** The masks of a model's masked layers as data and as a text table (see the file comment). */
export function maskReport(model: Module, opts: MaskReportOptions = {}): MaskReport {
  const o = options<MaskReportOptions>('options', opts, keysOf<MaskReportOptions>({ inputShape: true }));
  const layers = maskedLayers(model);
  if (layers.length === 0) throw new InvalidArgumentError('model', 'a model with masked layers (MaskedConv2d / MaskedLinear)', model);
  let inputShape = o.inputShape;
  if (inputShape !== undefined && (!Array.isArray(inputShape) || !inputShape.every((d) => Number.isInteger(d) && d > 0))) {
    throw new InvalidArgumentError('inputShape', 'array of positive integers', inputShape);
  }
  const own = (model as unknown as { inputShape?: readonly number[] }).inputShape;
  if (inputShape === undefined && Array.isArray(own) && own.length) inputShape = [...own];
  const positions = inputShape ? recordPositions(model, inputShape) : undefined;
  const rows: LayerMaskReport[] = layers.map(([name, layer]) => {
    const total = layer.weight.numel;
    const remaining = tidy(() => layer.mask.ne(0).sum().item());
    const row: LayerMaskReport = {
      name: name ? `${name}.weight` : 'weight',
      kind: layer instanceof MaskedConv2d ? 'conv' : 'linear',
      shape: layer.weight.shape,
      total,
      remaining,
      density: remaining / total,
      empty: remaining === 0,
    };
    if (positions) {
      const p = positions.get(name) ?? 0;
      row.positions = p;
      row.denseFlops = 2 * p * total;
      row.sparseFlops = 2 * p * remaining;
    }
    return row;
  });
  const total = rows.reduce((s, l) => s + l.total, 0);
  const remaining = rows.reduce((s, l) => s + l.remaining, 0);
  const base: Omit<MaskReport, 'table'> = {
    layers: rows,
    total,
    remaining,
    density: remaining / total,
    sparsity: 1 - remaining / total,
    inputShape,
    denseFlops: positions ? rows.reduce((s, l) => s + (l.denseFlops ?? 0), 0) : undefined,
    sparseFlops: positions ? rows.reduce((s, l) => s + (l.sparseFlops ?? 0), 0) : undefined,
    emptyLayers: rows.filter((l) => l.empty).map((l) => l.name),
  };
  return { ...base, table: formatTable(base) };
}
