"use strict";
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.logger = logger;
exports.setLogger = setLogger;
exports.childLogger = childLogger;
/**
 * The library's logger (architecture.md decision 10): pino, JSON lines by default, pretty when
 * stdout is a TTY. Level from SIGNIN_TORCH_LOG_LEVEL (default 'info').
 */
const pino_1 = __importDefault(require("pino"));
let root;
function logger() {
    if (!root) {
        const level = process.env.SIGNIN_TORCH_LOG_LEVEL ?? 'info';
        root = process.stdout.isTTY
            ? (0, pino_1.default)({ level, transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname' } } })
            : (0, pino_1.default)({ level, base: undefined });
    }
    return root;
}
/** Replaces the library logger (e.g. to route logs into an application's own pino instance). */
function setLogger(l) {
    root = l;
}
function childLogger(bindings) {
    return logger().child(bindings);
}
