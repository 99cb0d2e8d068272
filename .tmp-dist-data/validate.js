"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.isInt = isInt;
exports.int = int;
exports.num = num;
exports.bool = bool;
exports.oneOf = oneOf;
exports.intList = intList;
exports.pair = pair;
exports.options = options;
/** Argument checks shared by the public API; each throws InvalidArgumentError naming the argument. */
const errors_1 = require("./errors");
function isInt(v) {
    return typeof v === 'number' && Number.isInteger(v);
}
function int(name, v, min = -Infinity, max = Infinity) {
    if (!isInt(v) || v < min || v > max) {
        const range = min === 0 && max === Infinity ? 'non-negative integer'
            : min === 1 && max === Infinity ? 'positive integer'
                : `integer in [${min}, ${max}]`;
        throw new errors_1.InvalidArgumentError(name, range === 'integer in [-Infinity, Infinity]' ? 'integer' : range, v);
    }
    return v;
}
function num(name, v, min = -Infinity, max = Infinity) {
    if (typeof v !== 'number' || Number.isNaN(v) || v < min || v > max) {
        const expected = min === -Infinity && max === Infinity ? 'number'
            : max === Infinity ? `number >= ${min}` : `number in [${min}, ${max}]`;
        throw new errors_1.InvalidArgumentError(name, expected, v);
    }
    return v;
}
function bool(name, v) {
    if (typeof v !== 'boolean')
        throw new errors_1.InvalidArgumentError(name, 'boolean', v);
    return v;
}
function oneOf(name, v, allowed) {
    if (typeof v !== 'string' || !allowed.includes(v)) {
        throw new errors_1.InvalidArgumentError(name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, v);
    }
    return v;
}
function intList(name, v, min = -Infinity) {
    if (!Array.isArray(v) || !v.every((x) => isInt(x) && x >= min)) {
        throw new errors_1.InvalidArgumentError(name, min === 0 ? 'array of non-negative integers' : 'array of integers', v);
    }
    return v;
}
/** An int or a pair of ints (PyTorch's `int[2]` arguments such as stride). */
function pair(name, v, min = 0) {
    if (isInt(v) && v >= min)
        return [v, v];
    if (Array.isArray(v) && v.length === 2 && v.every((x) => isInt(x) && x >= min))
        return [v[0], v[1]];
    throw new errors_1.InvalidArgumentError(name, `integer >= ${min} or a pair of them`, v);
}
function options(name, v) {
    if (v === undefined)
        return {};
    if (typeof v !== 'object' || v === null || Array.isArray(v))
        throw new errors_1.InvalidArgumentError(name, 'options object', v);
    return v;
}
