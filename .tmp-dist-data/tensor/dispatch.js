"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.wrap = wrap;
exports.call = call;
exports.callInPlace = callInPlace;
exports.schema = schema;
/**
 * Calls ATen operators by name ("aten::add.Tensor") through the addon. Operator handles are
 * looked up once and cached; Tensor arguments become native handles and native results become
 * Tensors registered with the current tidy() scope.
 */
const errors_1 = require("../errors");
const native_1 = require("../native");
const runtime_1 = require("./runtime");
const tensor_1 = require("./tensor");
const ids = new Map();
function opId(qualified) {
    let id = ids.get(qualified);
    if (id === undefined) {
        const dot = qualified.indexOf('.', qualified.indexOf('::'));
        const name = dot < 0 ? qualified : qualified.slice(0, dot);
        const overload = dot < 0 ? '' : qualified.slice(dot + 1);
        try {
            id = (0, native_1.native)().opHandle(name, overload);
        }
        catch (e) {
            throw (0, errors_1.fromNative)(e);
        }
        ids.set(qualified, id);
    }
    return id;
}
function toNative(v) {
    if (v instanceof tensor_1.Tensor)
        return v.handle;
    if (v instanceof runtime_1.Generator)
        return v.handle;
    if (Array.isArray(v) && v.some((x) => x instanceof tensor_1.Tensor))
        return v.map(toNative);
    return v;
}
function wrap(v) {
    if (v === undefined || v === null || typeof v !== 'object')
        return v;
    if (v instanceof (0, native_1.native)().NativeTensor)
        return new tensor_1.Tensor(v);
    if (Array.isArray(v))
        return v.map(wrap);
    return v;
}
function invoke(qualified, args, kwargs) {
    const nargs = args.map(toNative);
    let nkw;
    if (kwargs) {
        nkw = {};
        for (const [k, v] of Object.entries(kwargs))
            if (v !== undefined)
                nkw[k] = toNative(v);
    }
    try {
        return (0, native_1.native)().callOp(opId(qualified), nargs, nkw);
    }
    catch (e) {
        throw (0, errors_1.fromNative)(e);
    }
}
/** Calls an operator and returns its result with tensors wrapped. */
function call(qualified, args, kwargs) {
    return wrap(invoke(qualified, args, kwargs));
}
/** Calls an in-place operator (its result aliases an input, so the extra handle is released). */
function callInPlace(qualified, args, kwargs) {
    const r = invoke(qualified, args, kwargs);
    r?.dispose();
}
/** The schema of an operator, e.g. for documentation or error messages. */
function schema(qualified) {
    return (0, native_1.native)().opSchema(opId(qualified));
}
