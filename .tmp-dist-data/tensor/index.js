"use strict";
var __createBinding = (this && this.__createBinding) || (Object.create ? (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    var desc = Object.getOwnPropertyDescriptor(m, k);
    if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
      desc = { enumerable: true, get: function() { return m[k]; } };
    }
    Object.defineProperty(o, k2, desc);
}) : (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    o[k2] = m[k];
}));
var __exportStar = (this && this.__exportStar) || function(m, exports) {
    for (var p in m) if (p !== "default" && !Object.prototype.hasOwnProperty.call(exports, p)) __createBinding(exports, m, p);
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.schema = exports.callInPlace = exports.call = exports.keep = exports.scopeDepth = exports.track = exports.memory = exports.tidy = exports.DTYPES = exports.Tensor = void 0;
var tensor_1 = require("./tensor");
Object.defineProperty(exports, "Tensor", { enumerable: true, get: function () { return tensor_1.Tensor; } });
Object.defineProperty(exports, "DTYPES", { enumerable: true, get: function () { return tensor_1.DTYPES; } });
var engine_1 = require("./engine");
Object.defineProperty(exports, "tidy", { enumerable: true, get: function () { return engine_1.tidy; } });
Object.defineProperty(exports, "memory", { enumerable: true, get: function () { return engine_1.memory; } });
Object.defineProperty(exports, "track", { enumerable: true, get: function () { return engine_1.track; } });
Object.defineProperty(exports, "scopeDepth", { enumerable: true, get: function () { return engine_1.scopeDepth; } });
var keep_1 = require("./keep");
Object.defineProperty(exports, "keep", { enumerable: true, get: function () { return keep_1.keep; } });
__exportStar(require("./creation"), exports);
__exportStar(require("./ops"), exports);
__exportStar(require("./autograd"), exports);
__exportStar(require("./runtime"), exports);
var dispatch_1 = require("./dispatch");
Object.defineProperty(exports, "call", { enumerable: true, get: function () { return dispatch_1.call; } });
Object.defineProperty(exports, "callInPlace", { enumerable: true, get: function () { return dispatch_1.callInPlace; } });
Object.defineProperty(exports, "schema", { enumerable: true, get: function () { return dispatch_1.schema; } });
