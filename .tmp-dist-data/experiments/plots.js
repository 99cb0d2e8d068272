"use strict";
/**
 * Plots as vega-lite specs (pure data, testable) rendered to SVG headlessly with vega's View
 * (renderer 'none' + toSVG). SVG only: PNG would need node-canvas, a native dependency we skip.
 * Lines show the mean over seeds, bands ± one standard deviation.
 */
Object.defineProperty(exports, "__esModule", { value: true });
exports.testAccuracySpec = testAccuracySpec;
exports.signFlipsSpec = signFlipsSpec;
exports.perLayerFlipsSpec = perLayerFlipsSpec;
exports.renderSvg = renderSvg;
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';
/** Colour by method; lines get line symbols in the legend (the band would otherwise fade them). */
function colorEnc(order, lines = true) {
    return {
        field: 'method', type: 'nominal', title: 'method', scale: { domain: order.methods }, sort: order.methods,
        ...(lines ? { legend: { symbolType: 'stroke', symbolOpacity: 1, symbolStrokeWidth: 3 } } : {}),
    };
}
function columnEnc(order) {
    return { field: 'sparsity', type: 'ordinal', title: 'sparsity', sort: order.sparsities };
}
function bandAndLine(yTitle, order, zero) {
    const x = { field: 'epoch', type: 'quantitative', title: 'epoch' };
    const scale = { zero };
    return [
        { mark: { type: 'errorband', extent: 'stdev', opacity: 0.2 }, encoding: { x, y: { field: 'value', type: 'quantitative', title: yTitle, scale }, color: colorEnc(order) } },
        { mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x, y: { aggregate: 'mean', field: 'value', type: 'quantitative', title: yTitle, scale }, color: colorEnc(order) } },
    ];
}
/** Test accuracy (%) over epochs, one line per method, one column per sparsity. */
function testAccuracySpec(points, title, order) {
    return {
        $schema: SCHEMA,
        title: `${title}: test accuracy`,
        data: { values: points },
        facet: { column: columnEnc(order) },
        spec: { width: 260, height: 200, layer: bandAndLine('test accuracy (%)', order, false) },
    };
}
/** Fraction of unmasked weights with flipped sign over epochs (rows: vs init, vs previous epoch). */
function signFlipsSpec(points, title, order) {
    return {
        $schema: SCHEMA,
        title: `${title}: sign flips`,
        data: { values: points },
        facet: { row: { field: 'measure', type: 'nominal', title: null, sort: ['from init', 'from previous epoch'] }, column: columnEnc(order) },
        spec: { width: 260, height: 160, layer: bandAndLine('flipped fraction', order, true) },
        resolve: { scale: { y: 'independent' } },
    };
}
/** Per-layer flipped fraction (vs init) at the final epoch, grouped bars by method, in network order. */
function perLayerFlipsSpec(points, layers, title, order) {
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
async function renderSvg(spec) {
    // Loaded on first use: vega is large and most users of this module never plot.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const vega = require('vega');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const vl = require('vega-lite');
    const compiled = vl.compile(spec).spec;
    const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
    try {
        return await view.toSVG();
    }
    finally {
        view.finalize();
    }
}
