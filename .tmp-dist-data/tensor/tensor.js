"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.Tensor = exports.DTYPES = void 0;
/**
 * Tensor: the JS handle users hold. Methods mirror torch.Tensor (camelCase); every method returns
 * a new Tensor owned by the current tidy() scope, except the in-place ones (suffix `_`), which
 * return `this`.
 */
const errors_1 = require("../errors");
const native_1 = require("../native");
const validate_1 = require("../validate");
const dispatch_1 = require("./dispatch");
const engine_1 = require("./engine");
exports.DTYPES = ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'];
function checkDim(name, dim) {
    if (!(0, validate_1.isInt)(dim))
        throw new errors_1.InvalidArgumentError(name, 'integer', dim);
}
const disposeSymbol = Symbol.dispose ?? Symbol.for('Symbol.dispose');
class Tensor {
    h;
    cachedShape;
    /** Set by keep(): the tensor survives the tidy() scope that created it. */
    kept = false;
    /** Wraps a native handle (internal: use the factories in src/tensor/creation.ts). */
    constructor(handle) {
        this.h = handle;
        (0, engine_1.track)(this);
    }
    get handle() {
        if (!this.h)
            throw new errors_1.TensorDisposedError();
        return this.h;
    }
    get isDisposed() {
        return this.h === undefined;
    }
    /** Releases the native tensor now. Idempotent. Autograd still holds what backward needs. */
    dispose() {
        if (this.h) {
            this.h.dispose();
            this.h = undefined;
        }
    }
    [disposeSymbol]() {
        this.dispose();
    }
    guard(fn) {
        try {
            return fn(this.handle);
        }
        catch (e) {
            throw (0, errors_1.fromNative)(e);
        }
    }
    get shape() {
        this.cachedShape ??= this.guard((h) => h.shape());
        return this.cachedShape.slice();
    }
    get ndim() {
        return this.shape.length;
    }
    get dtype() {
        return this.guard((h) => h.dtype());
    }
    get device() {
        return this.guard((h) => h.device());
    }
    get numel() {
        return this.guard((h) => h.numel());
    }
    size(dim) {
        const s = this.shape;
        checkDim('dim', dim);
        const d = dim < 0 ? dim + s.length : dim;
        if (d < 0 || d >= s.length)
            throw new errors_1.InvalidArgumentError('dim', `integer in [${-s.length}, ${s.length - 1}]`, dim);
        return s[d];
    }
    get requiresGrad() {
        return this.guard((h) => h.requiresGrad());
    }
    /** Sets requires_grad in place (leaf tensors only, as in PyTorch); returns this. */
    requiresGrad_(value = true) {
        this.guard((h) => h.setRequiresGrad(value));
        return this;
    }
    get isLeaf() {
        return this.guard((h) => h.isLeaf());
    }
    /** The accumulated gradient as a new handle (dispose it or let tidy do it), or undefined. */
    get grad() {
        const g = this.guard((h) => h.grad());
        return g ? new Tensor(g) : undefined;
    }
    set grad(g) {
        this.guard((h) => h.setGrad(g?.handle));
    }
    backward(gradient, options = {}) {
        try {
            (0, native_1.native)().backward([this.handle], gradient ? [gradient.handle] : undefined, options.retainGraph, options.createGraph);
        }
        catch (e) {
            throw (0, errors_1.fromNative)(e);
        }
    }
    /** A copy of the values in a TypedArray (int64 as BigInt64Array, bool as Uint8Array). */
    data() {
        return this.guard((h) => h.toTypedArray());
    }
    /** The values as a flat array of numbers. */
    toArray() {
        return Array.from(this.data(), Number);
    }
    item() {
        return Number(this.guard((h) => h.item()));
    }
    /** True when both tensors share storage. */
    isAliasOf(other) {
        return this.guard((h) => h.sameStorage(other.handle));
    }
    toString() {
        return this.isDisposed ? 'Tensor(disposed)' : `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device})`;
    }
    // Arithmetic (broadcasting, tensor or number operands)
    add(other, alpha = 1) {
        return typeof other === 'number' ? (0, dispatch_1.call)('aten::add.Scalar', [this, other, alpha]) : (0, dispatch_1.call)('aten::add.Tensor', [this, other, alpha]);
    }
    sub(other, alpha = 1) {
        return typeof other === 'number' ? (0, dispatch_1.call)('aten::sub.Scalar', [this, other, alpha]) : (0, dispatch_1.call)('aten::sub.Tensor', [this, other, alpha]);
    }
    mul(other) {
        return typeof other === 'number' ? (0, dispatch_1.call)('aten::mul.Scalar', [this, other]) : (0, dispatch_1.call)('aten::mul.Tensor', [this, other]);
    }
    div(other) {
        return typeof other === 'number' ? (0, dispatch_1.call)('aten::div.Scalar', [this, other]) : (0, dispatch_1.call)('aten::div.Tensor', [this, other]);
    }
    pow(exponent) {
        return typeof exponent === 'number' ? (0, dispatch_1.call)('aten::pow.Tensor_Scalar', [this, exponent]) : (0, dispatch_1.call)('aten::pow.Tensor_Tensor', [this, exponent]);
    }
    maximum(other) { return (0, dispatch_1.call)('aten::maximum', [this, other]); }
    minimum(other) { return (0, dispatch_1.call)('aten::minimum', [this, other]); }
    neg() { return (0, dispatch_1.call)('aten::neg', [this]); }
    abs() { return (0, dispatch_1.call)('aten::abs', [this]); }
    sign() { return (0, dispatch_1.call)('aten::sign', [this]); }
    sqrt() { return (0, dispatch_1.call)('aten::sqrt', [this]); }
    rsqrt() { return (0, dispatch_1.call)('aten::rsqrt', [this]); }
    square() { return (0, dispatch_1.call)('aten::square', [this]); }
    reciprocal() { return (0, dispatch_1.call)('aten::reciprocal', [this]); }
    exp() { return (0, dispatch_1.call)('aten::exp', [this]); }
    log() { return (0, dispatch_1.call)('aten::log', [this]); }
    sigmoid() { return (0, dispatch_1.call)('aten::sigmoid', [this]); }
    tanh() { return (0, dispatch_1.call)('aten::tanh', [this]); }
    relu() { return (0, dispatch_1.call)('aten::relu', [this]); }
    clamp(min, max) { return (0, dispatch_1.call)('aten::clamp', [this, min, max]); }
    matmul(other) { return (0, dispatch_1.call)('aten::matmul', [this, other]); }
    mm(other) { return (0, dispatch_1.call)('aten::mm', [this, other]); }
    /** The transpose of a 2-D tensor. */
    t() { return (0, dispatch_1.call)('aten::t', [this]); }
    // Comparisons and logic (bool results)
    eq(other) { return (0, dispatch_1.call)(typeof other === 'number' ? 'aten::eq.Scalar' : 'aten::eq.Tensor', [this, other]); }
    ne(other) { return (0, dispatch_1.call)(typeof other === 'number' ? 'aten::ne.Scalar' : 'aten::ne.Tensor', [this, other]); }
    lt(other) { return (0, dispatch_1.call)(typeof other === 'number' ? 'aten::lt.Scalar' : 'aten::lt.Tensor', [this, other]); }
    le(other) { return (0, dispatch_1.call)(typeof other === 'number' ? 'aten::le.Scalar' : 'aten::le.Tensor', [this, other]); }
    gt(other) { return (0, dispatch_1.call)(typeof other === 'number' ? 'aten::gt.Scalar' : 'aten::gt.Tensor', [this, other]); }
    ge(other) { return (0, dispatch_1.call)(typeof other === 'number' ? 'aten::ge.Scalar' : 'aten::ge.Tensor', [this, other]); }
    logicalAnd(other) { return (0, dispatch_1.call)('aten::logical_and', [this, other]); }
    logicalOr(other) { return (0, dispatch_1.call)('aten::logical_or', [this, other]); }
    logicalNot() { return (0, dispatch_1.call)('aten::logical_not', [this]); }
    /** Elementwise: `value` where mask is true, else this. */
    maskedFill(mask, value) { return (0, dispatch_1.call)('aten::masked_fill.Scalar', [this, mask, value]); }
    isfinite() { return (0, dispatch_1.call)('aten::isfinite', [this]); }
    // Reductions. dim may be a number or a list; keepdim defaults to false.
    sum(dim, keepdim = false) {
        return dim === undefined ? (0, dispatch_1.call)('aten::sum', [this]) : (0, dispatch_1.call)('aten::sum.dim_IntList', [this, [dim].flat(), keepdim]);
    }
    mean(dim, keepdim = false) {
        return dim === undefined ? (0, dispatch_1.call)('aten::mean', [this]) : (0, dispatch_1.call)('aten::mean.dim', [this, [dim].flat(), keepdim]);
    }
    /** Unbiased (Bessel-corrected) variance, as torch.var's default. */
    var(dim, keepdim = false, unbiased = true) {
        return dim === undefined ? (0, dispatch_1.call)('aten::var', [this, unbiased]) : (0, dispatch_1.call)('aten::var.dim', [this, [dim].flat(), unbiased, keepdim]);
    }
    std(dim, keepdim = false, unbiased = true) {
        return dim === undefined ? (0, dispatch_1.call)('aten::std', [this, unbiased]) : (0, dispatch_1.call)('aten::std.dim', [this, [dim].flat(), unbiased, keepdim]);
    }
    prod() { return (0, dispatch_1.call)('aten::prod', [this]); }
    /** The maximum over all elements. */
    max() { return (0, dispatch_1.call)('aten::max', [this]); }
    min() { return (0, dispatch_1.call)('aten::min', [this]); }
    maxDim(dim, keepdim = false) {
        const [values, indices] = (0, dispatch_1.call)('aten::max.dim', [this, dim, keepdim]);
        return { values, indices };
    }
    minDim(dim, keepdim = false) {
        const [values, indices] = (0, dispatch_1.call)('aten::min.dim', [this, dim, keepdim]);
        return { values, indices };
    }
    argmax(dim, keepdim = false) { return (0, dispatch_1.call)('aten::argmax', [this, dim, keepdim]); }
    argmin(dim, keepdim = false) { return (0, dispatch_1.call)('aten::argmin', [this, dim, keepdim]); }
    /** The p-norm over all elements or over dims. */
    norm(p = 2, dim, keepdim = false) {
        return dim === undefined ? (0, dispatch_1.call)('aten::norm.Scalar', [this, p]) : (0, dispatch_1.call)('aten::norm.ScalarOpt_dim', [this, p, [dim].flat(), keepdim]);
    }
    topk(k, dim = -1, largest = true, sorted = true) {
        const [values, indices] = (0, dispatch_1.call)('aten::topk', [this, k, dim, largest, sorted]);
        return { values, indices };
    }
    /** The k-th smallest element (1-based k, as torch.kthvalue). */
    kthvalue(k, dim = -1, keepdim = false) {
        const [values, indices] = (0, dispatch_1.call)('aten::kthvalue', [this, k, dim, keepdim]);
        return { values, indices };
    }
    sort(dim = -1, descending = false) {
        const [values, indices] = (0, dispatch_1.call)('aten::sort.stable', [this], { stable: true, dim, descending });
        return { values, indices };
    }
    cumsum(dim) { return (0, dispatch_1.call)('aten::cumsum', [this, dim]); }
    countNonzero(dim) { return (0, dispatch_1.call)('aten::count_nonzero', [this, dim]); }
    all() { return (0, dispatch_1.call)('aten::all', [this]); }
    any() { return (0, dispatch_1.call)('aten::any', [this]); }
    // Shape
    reshape(shape) { return (0, dispatch_1.call)('aten::reshape', [this, shape]); }
    view(shape) { return (0, dispatch_1.call)('aten::view', [this, shape]); }
    flatten(startDim = 0, endDim = -1) { return (0, dispatch_1.call)('aten::flatten.using_ints', [this, startDim, endDim]); }
    permute(dims) { return (0, dispatch_1.call)('aten::permute', [this, dims]); }
    transpose(dim0, dim1) { return (0, dispatch_1.call)('aten::transpose.int', [this, dim0, dim1]); }
    squeeze(dim) { return dim === undefined ? (0, dispatch_1.call)('aten::squeeze', [this]) : (0, dispatch_1.call)('aten::squeeze.dim', [this, dim]); }
    unsqueeze(dim) { return (0, dispatch_1.call)('aten::unsqueeze', [this, dim]); }
    expand(shape) { return (0, dispatch_1.call)('aten::expand', [this, shape]); }
    expandAs(other) { return (0, dispatch_1.call)('aten::expand_as', [this, other]); }
    repeat(repeats) { return (0, dispatch_1.call)('aten::repeat', [this, repeats]); }
    flip(dims) { return (0, dispatch_1.call)('aten::flip', [this, dims]); }
    contiguous() { return (0, dispatch_1.call)('aten::contiguous', [this]); }
    clone() { return (0, dispatch_1.call)('aten::clone', [this]); }
    /** Elements start..end (exclusive) with step along dim; a view. */
    slice(dim, start, end, step = 1) { return (0, dispatch_1.call)('aten::slice.Tensor', [this, dim, start, end, step]); }
    narrow(dim, start, length) { return (0, dispatch_1.call)('aten::narrow', [this, dim, start, length]); }
    select(dim, index) { return (0, dispatch_1.call)('aten::select.int', [this, dim, index]); }
    indexSelect(dim, index) { return (0, dispatch_1.call)('aten::index_select', [this, dim, index]); }
    /** Advanced indexing: one index tensor (or undefined for ':') per leading dim. */
    index(indices) { return (0, dispatch_1.call)('aten::index.Tensor', [this, indices]); }
    gather(dim, index) { return (0, dispatch_1.call)('aten::gather', [this, dim, index]); }
    chunk(chunks, dim = 0) { return (0, dispatch_1.call)('aten::chunk', [this, chunks, dim]); }
    split(size, dim = 0) { return (0, dispatch_1.call)('aten::split.Tensor', [this, size, dim]); }
    // Conversion
    /** Converts dtype and/or device (a copy when either changes). */
    to(target) {
        const opts = typeof target === 'string' ? (exports.DTYPES.includes(target) ? { dtype: target } : { device: target }) : target;
        return (0, dispatch_1.call)('aten::to.dtype_layout', [this], { dtype: opts.dtype, device: opts.device });
    }
    float() { return this.to('float32'); }
    double() { return this.to('float64'); }
    long() { return this.to('int64'); }
    bool() { return this.to('bool'); }
    cpu() { return this.to('cpu'); }
    /** A tensor that shares storage but is cut from the autograd graph. */
    detach() { return (0, dispatch_1.call)('aten::detach', [this]); }
    // In place (return this)
    add_(other, alpha = 1) {
        if (typeof other === 'number')
            (0, dispatch_1.callInPlace)('aten::add_.Scalar', [this, other, alpha]);
        else
            (0, dispatch_1.callInPlace)('aten::add_.Tensor', [this, other, alpha]);
        return this;
    }
    sub_(other, alpha = 1) {
        if (typeof other === 'number')
            (0, dispatch_1.callInPlace)('aten::sub_.Scalar', [this, other, alpha]);
        else
            (0, dispatch_1.callInPlace)('aten::sub_.Tensor', [this, other, alpha]);
        return this;
    }
    mul_(other) {
        (0, dispatch_1.callInPlace)(typeof other === 'number' ? 'aten::mul_.Scalar' : 'aten::mul_.Tensor', [this, other]);
        return this;
    }
    div_(other) {
        (0, dispatch_1.callInPlace)(typeof other === 'number' ? 'aten::div_.Scalar' : 'aten::div_.Tensor', [this, other]);
        return this;
    }
    clamp_(min, max) { (0, dispatch_1.callInPlace)('aten::clamp_', [this, min, max]); return this; }
    copy_(src) { (0, dispatch_1.callInPlace)('aten::copy_', [this, src]); return this; }
    zero_() { (0, dispatch_1.callInPlace)('aten::zero_', [this]); return this; }
    fill_(value) { (0, dispatch_1.callInPlace)('aten::fill_.Scalar', [this, value]); return this; }
    maskedFill_(mask, value) { (0, dispatch_1.callInPlace)('aten::masked_fill_.Scalar', [this, mask, value]); return this; }
    uniform_(from = 0, to = 1, generator) { (0, dispatch_1.callInPlace)('aten::uniform_', [this, from, to, generator]); return this; }
    normal_(mean = 0, std = 1, generator) { (0, dispatch_1.callInPlace)('aten::normal_', [this, mean, std, generator]); return this; }
}
exports.Tensor = Tensor;
