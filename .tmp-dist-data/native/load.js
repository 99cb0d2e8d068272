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
var __setModuleDefault = (this && this.__setModuleDefault) || (Object.create ? (function(o, v) {
    Object.defineProperty(o, "default", { enumerable: true, value: v });
}) : function(o, v) {
    o["default"] = v;
});
var __importStar = (this && this.__importStar) || (function () {
    var ownKeys = function(o) {
        ownKeys = Object.getOwnPropertyNames || function (o) {
            var ar = [];
            for (var k in o) if (Object.prototype.hasOwnProperty.call(o, k)) ar[ar.length] = k;
            return ar;
        };
        return ownKeys(o);
    };
    return function (mod) {
        if (mod && mod.__esModule) return mod;
        var result = {};
        if (mod != null) for (var k = ownKeys(mod), i = 0; i < k.length; i++) if (k[i] !== "default") __createBinding(result, mod, k[i]);
        __setModuleDefault(result, mod);
        return result;
    };
})();
Object.defineProperty(exports, "__esModule", { value: true });
exports.packageRoot = void 0;
exports.loadNative = loadNative;
/**
 * Finds and loads the addon. Tries, in order: $SIGNIN_TORCH_ADDON, the cmake-js build
 * (build-cmake/Release), the node-gyp build (build/Release), then a prebuilt binary (prebuilds/,
 * via node-gyp-build). On failure the error lists every attempt and how to fix it.
 */
const fs = __importStar(require("node:fs"));
const path = __importStar(require("node:path"));
const errors_1 = require("../errors");
exports.packageRoot = path.resolve(__dirname, '..', '..');
function candidates() {
    const file = (p) => () => {
        if (!fs.existsSync(p))
            throw new Error('not built');
        return require(p);
    };
    const list = [];
    if (process.env.SIGNIN_TORCH_ADDON) {
        list.push({ label: `$SIGNIN_TORCH_ADDON (${process.env.SIGNIN_TORCH_ADDON})`, load: file(path.resolve(process.env.SIGNIN_TORCH_ADDON)) });
    }
    list.push({ label: 'build-cmake/Release/signin_torch.node', load: file(path.join(exports.packageRoot, 'build-cmake', 'Release', 'signin_torch.node')) });
    list.push({ label: 'build/Release/signin_torch.node', load: file(path.join(exports.packageRoot, 'build', 'Release', 'signin_torch.node')) });
    list.push({
        label: 'prebuilds/ (node-gyp-build)',
        load: () => {
            const dir = path.join(exports.packageRoot, 'prebuilds');
            if (!fs.existsSync(dir))
                throw new Error('no prebuilds folder');
            return require('node-gyp-build')(exports.packageRoot);
        },
    });
    return list;
}
let cached;
function loadNative() {
    if (cached)
        return cached;
    const failures = [];
    for (const c of candidates()) {
        try {
            cached = c.load();
            return cached;
        }
        catch (e) {
            failures.push(`  - ${c.label}: ${e.message.split('\n')[0]}`);
        }
    }
    const libtorchMissing = failures.some((f) => /libtorch|libc10|libtorch_cpu/.test(f));
    throw new errors_1.ToolkitError('ERR_ADDON_LOAD', [
        'signin-torch: could not load the native addon. Tried:',
        ...failures,
        'To fix:',
        libtorchMissing
            ? '  - libtorch is not on the loader path: sudo apt-get install -y libtorch-dev (or set LD_LIBRARY_PATH to your libtorch/lib)'
            : '  - install libtorch: sudo apt-get install -y libtorch-dev (or set LIBTORCH / Torch_DIR)',
        '  - build the addon: npm run build:native (cmake-js) or npx node-gyp rebuild',
    ].join('\n'));
}
