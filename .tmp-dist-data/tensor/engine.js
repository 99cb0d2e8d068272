"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.track = track;
exports.tidy = tidy;
exports.memory = memory;
exports.scopeDepth = scopeDepth;
/**
 * Deterministic tensor lifetime (architecture.md decision 4): every tensor belongs to the
 * innermost open tidy() scope, which frees all of its tensors on exit except the result and the
 * kept ones. GC finalizers in the addon are only a safety net.
 */
const errors_1 = require("../errors");
const native_1 = require("../native");
const scopes = [];
function track(t) {
    const scope = scopes[scopes.length - 1];
    if (scope)
        scope.push(t);
}
function collect(value, into, depth = 0) {
    if (value === null || typeof value !== 'object' || depth > 4)
        return;
    if (typeof value.dispose === 'function' && 'kept' in value) {
        into.add(value);
        return;
    }
    const items = Array.isArray(value) ? value : value instanceof Map ? [...value.values()] : Object.values(value);
    for (const v of items)
        collect(v, into, depth + 1);
}
function isPromiseLike(v) {
    return typeof v?.then === 'function';
}
/**
 * Runs fn and frees every tensor created inside it, except those in its result (searched through
 * arrays, Maps and plain objects) and those passed to keep(). The result's tensors move to the
 * enclosing scope. fn must be synchronous: a returned Promise throws ERR_TIDY_ASYNC.
 */
function tidy(fn) {
    scopes.push([]);
    let result;
    try {
        result = fn();
        if (isPromiseLike(result)) {
            throw new errors_1.ToolkitError('ERR_TIDY_ASYNC', 'tidy() cannot track tensors across await: fn returned a Promise; use tidy inside the async code instead');
        }
        return result;
    }
    finally {
        const scope = scopes.pop();
        const survivors = new Set();
        collect(result, survivors);
        for (const t of scope) {
            if (survivors.has(t))
                track(t);
            else if (!t.kept)
                t.dispose();
        }
    }
}
function memory() {
    return (0, native_1.native)().liveTensors();
}
/** The number of open tidy() scopes (0 outside any). */
function scopeDepth() {
    return scopes.length;
}
