"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.keep = keep;
/** Marks a tensor to survive the tidy() scopes that would free it; free it with dispose(). */
function keep(t) {
    t.kept = true;
    return t;
}
