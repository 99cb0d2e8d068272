"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.noGrad = noGrad;
exports.enableGrad = enableGrad;
exports.isGradEnabled = isGradEnabled;
exports.grad = grad;
exports.backward = backward;
/** Autograd beyond Tensor.backward(): grad mode scopes and torch.autograd.grad. */
const errors_1 = require("../errors");
const native_1 = require("../native");
const tensor_1 = require("./tensor");
function withGradMode(enabled, fn) {
    const previous = (0, native_1.native)().setGradEnabled(enabled);
    try {
        return fn();
    }
    finally {
        (0, native_1.native)().setGradEnabled(previous);
    }
}
/** Runs fn with gradient recording off (torch.no_grad). */
function noGrad(fn) {
    return withGradMode(false, fn);
}
/** Runs fn with gradient recording on (torch.enable_grad). */
function enableGrad(fn) {
    return withGradMode(true, fn);
}
function isGradEnabled() {
    return (0, native_1.native)().isGradEnabled();
}
/** The gradients of outputs with respect to inputs (torch.autograd.grad); unused inputs give undefined. */
function grad(outputs, inputs, options = {}) {
    const outs = Array.isArray(outputs) ? outputs : [outputs];
    try {
        const result = (0, native_1.native)().grad(outs.map((t) => t.handle), inputs.map((t) => t.handle), options.gradOutputs?.map((t) => t.handle), options.retainGraph, options.createGraph, options.allowUnused);
        return result.map((h) => (h ? new tensor_1.Tensor(h) : undefined));
    }
    catch (e) {
        throw (0, errors_1.fromNative)(e);
    }
}
/** Backward from several tensors at once (torch.autograd.backward). */
function backward(tensors, grads, options = {}) {
    try {
        (0, native_1.native)().backward(tensors.map((t) => t.handle), grads?.map((t) => t.handle), options.retainGraph, options.createGraph);
    }
    catch (e) {
        throw (0, errors_1.fromNative)(e);
    }
}
