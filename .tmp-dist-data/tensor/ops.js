"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.cat = cat;
exports.stack = stack;
exports.where = where;
exports.allclose = allclose;
/** Functions over several tensors (torch.cat, torch.where, ...). */
const errors_1 = require("../errors");
const dispatch_1 = require("./dispatch");
const tensor_1 = require("./tensor");
function tensors(name, list) {
    if (!Array.isArray(list) || list.length === 0 || !list.every((t) => t instanceof tensor_1.Tensor)) {
        throw new errors_1.InvalidArgumentError(name, 'non-empty array of Tensors', list);
    }
    return list;
}
function cat(list, dim = 0) {
    return (0, dispatch_1.call)('aten::cat', [tensors('tensors', list), dim]);
}
function stack(list, dim = 0) {
    return (0, dispatch_1.call)('aten::stack', [tensors('tensors', list), dim]);
}
/** Elementwise a where cond is true, else b (numbers broadcast). */
function where(cond, a, b) {
    if (typeof a === 'number' && typeof b === 'number')
        return (0, dispatch_1.call)('aten::where.Scalar', [cond, a, b]);
    if (typeof a === 'number')
        return (0, dispatch_1.call)('aten::where.ScalarSelf', [cond, a, b]);
    if (typeof b === 'number')
        return (0, dispatch_1.call)('aten::where.ScalarOther', [cond, a, b]);
    return (0, dispatch_1.call)('aten::where.self', [cond, a, b]);
}
/** True when all elements are close: |a - b| <= atol + rtol * |b|. */
function allclose(a, b, rtol = 1e-5, atol = 1e-8) {
    return (0, dispatch_1.call)('aten::allclose', [a, b, rtol, atol]);
}
