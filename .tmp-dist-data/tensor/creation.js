"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.zeros = zeros;
exports.ones = ones;
exports.empty = empty;
exports.full = full;
exports.rand = rand;
exports.randn = randn;
exports.randint = randint;
exports.randperm = randperm;
exports.arange = arange;
exports.linspace = linspace;
exports.eye = eye;
exports.zerosLike = zerosLike;
exports.onesLike = onesLike;
exports.fullLike = fullLike;
exports.fromTypedArray = fromTypedArray;
exports.tensor = tensor;
/** Tensor factories (torch.zeros, torch.tensor, ...). Options: dtype, device, requiresGrad, generator. */
const errors_1 = require("../errors");
const native_1 = require("../native");
const validate_1 = require("../validate");
const dispatch_1 = require("./dispatch");
const tensor_1 = require("./tensor");
function shapeOf(name, shape) {
    return (0, validate_1.intList)(name, shape, 0);
}
function finish(t, opts) {
    if (opts.requiresGrad)
        t.requiresGrad_(true);
    return t;
}
function kw(opts) {
    if (opts.dtype !== undefined)
        (0, validate_1.oneOf)('dtype', opts.dtype, tensor_1.DTYPES);
    return { dtype: opts.dtype, device: opts.device };
}
function zeros(shape, opts = {}) {
    return finish((0, dispatch_1.call)('aten::zeros', [shapeOf('shape', shape)], kw(opts)), opts);
}
function ones(shape, opts = {}) {
    return finish((0, dispatch_1.call)('aten::ones', [shapeOf('shape', shape)], kw(opts)), opts);
}
function empty(shape, opts = {}) {
    return finish((0, dispatch_1.call)('aten::empty.memory_format', [shapeOf('shape', shape)], kw(opts)), opts);
}
function full(shape, value, opts = {}) {
    if (typeof value !== 'number')
        throw new errors_1.InvalidArgumentError('value', 'number', value);
    return finish((0, dispatch_1.call)('aten::full', [shapeOf('shape', shape), value], kw(opts)), opts);
}
/** Uniform on [0, 1). */
function rand(shape, opts = {}) {
    return finish((0, dispatch_1.call)('aten::rand.generator', [shapeOf('shape', shape), opts.generator], kw(opts)), opts);
}
/** Standard normal. */
function randn(shape, opts = {}) {
    return finish((0, dispatch_1.call)('aten::randn.generator', [shapeOf('shape', shape), opts.generator], kw(opts)), opts);
}
/** Integers uniform in [low, high), int64 by default. */
function randint(low, high, shape, opts = {}) {
    if (!(0, validate_1.isInt)(low) || !(0, validate_1.isInt)(high) || high <= low)
        throw new errors_1.InvalidArgumentError('high', `integer > low (${low})`, high);
    return (0, dispatch_1.call)('aten::randint.low_generator', [low, high, shapeOf('shape', shape), opts.generator], kw(opts));
}
/** A random permutation of 0..n-1 (int64). */
function randperm(n, opts = {}) {
    if (!(0, validate_1.isInt)(n) || n < 0)
        throw new errors_1.InvalidArgumentError('n', 'non-negative integer', n);
    return (0, dispatch_1.call)('aten::randperm.generator', [n, opts.generator], kw(opts));
}
/** Values start, start+step, ... < end (like torch.arange; one argument means end). */
function arange(start, end, step = 1, opts = {}) {
    const [s, e] = end === undefined ? [0, start] : [start, end];
    return finish((0, dispatch_1.call)('aten::arange.start_step', [s, e, step], kw(opts)), opts);
}
function linspace(start, end, steps, opts = {}) {
    return finish((0, dispatch_1.call)('aten::linspace', [start, end, steps], kw(opts)), opts);
}
function eye(n, opts = {}) {
    return finish((0, dispatch_1.call)('aten::eye', [n], kw(opts)), opts);
}
function zerosLike(t, opts = {}) {
    return finish((0, dispatch_1.call)('aten::zeros_like', [t], kw(opts)), opts);
}
function onesLike(t, opts = {}) {
    return finish((0, dispatch_1.call)('aten::ones_like', [t], kw(opts)), opts);
}
function fullLike(t, value, opts = {}) {
    return finish((0, dispatch_1.call)('aten::full_like', [t, value], kw(opts)), opts);
}
/** A tensor over a TypedArray's values; zero-copy with { copy: false }. */
function fromTypedArray(data, shape = [data.length], opts = {}) {
    if (!ArrayBuffer.isView(data) || data instanceof DataView)
        throw new errors_1.InvalidArgumentError('data', 'TypedArray', data);
    shapeOf('shape', shape);
    try {
        return new tensor_1.Tensor((0, native_1.native)().fromTypedArray(data, shape, opts.copy ?? true, opts.dtype));
    }
    catch (e) {
        throw (0, errors_1.fromNative)(e);
    }
}
function flattenNested(data, shape, out, depth) {
    if (Array.isArray(data)) {
        if (shape.length === depth)
            shape.push(data.length);
        else if (shape[depth] !== data.length) {
            throw new errors_1.InvalidArgumentError('data', `a rectangular nested array (length ${shape[depth]} at depth ${depth})`, data);
        }
        for (const d of data)
            flattenNested(d, shape, out, depth + 1);
    }
    else if (typeof data === 'number' || typeof data === 'boolean') {
        if (depth !== shape.length)
            throw new errors_1.InvalidArgumentError('data', 'a rectangular nested array', data);
        out.push(Number(data));
    }
    else {
        throw new errors_1.InvalidArgumentError('data', 'number, boolean or nested array of them', data);
    }
}
/**
 * A tensor from (nested) JS numbers or a TypedArray, always a copy. dtype defaults to float32 for
 * numbers, bool for booleans, and the TypedArray's own type.
 */
function tensor(data, opts = {}) {
    let t;
    if (ArrayBuffer.isView(data)) {
        t = fromTypedArray(data, opts.shape ?? [data.length]);
    }
    else {
        const shape = [];
        const flat = [];
        flattenNested(data, shape, flat, 0);
        const isBool = typeof (Array.isArray(data) ? data.flat(Infinity)[0] : data) === 'boolean';
        const base = fromTypedArray(isBool ? Uint8Array.from(flat) : Float64Array.from(flat), opts.shape ?? shape);
        t = base.to(opts.dtype ?? (isBool ? 'bool' : 'float32'));
        base.dispose();
    }
    if ((opts.dtype && t.dtype !== opts.dtype) || opts.device) {
        const moved = t.to({ dtype: opts.dtype, device: opts.device });
        t.dispose();
        t = moved;
    }
    return finish(t, opts);
}
