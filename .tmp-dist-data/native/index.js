"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.native = native;
const load_1 = require("./load");
/** The loaded addon (loaded on first use, so pure-TS code paths never need it). */
function native() {
    return (0, load_1.loadNative)();
}
