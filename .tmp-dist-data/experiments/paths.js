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
exports.DEFAULT_RUNS_DIR = exports.DEFAULT_RUN_PREFIX = exports.REPORT_FILES = exports.RUN_FILES = void 0;
exports.runDirName = runDirName;
exports.runDirFor = runDirFor;
exports.isRunDirName = isRunDirName;
exports.runPaths = runPaths;
exports.slug = slug;
exports.reportPaths = reportPaths;
exports.tempPathFor = tempPathFor;
/**
 * The only module that knows file names (open_lth's foundations/paths.py). Everything else asks
 * for a path here, so a layout change is a one-file change.
 *
 * <runsDir>/<prefix>_<md5 of non-default config>/
 *   config.json              the full validated config (defaults filled in)
 *   metrics.jsonl            one MetricsRow per epoch
 *   checkpoint.safetensors   last checkpoint (tensors + JSON metadata)
 *   checkpoint.json          optional sidecar for checkpoint metadata
 *   mask-report.json         per-layer densities after pruning
 *   final.json               FinalSummary; present only when the run finished
 *   train.log                stdout/stderr of a sweep's child process
 */
const path = __importStar(require("node:path"));
const hash_1 = require("./hash");
exports.RUN_FILES = {
    config: 'config.json',
    metrics: 'metrics.jsonl',
    checkpoint: 'checkpoint.safetensors',
    checkpointMeta: 'checkpoint.json',
    maskReport: 'mask-report.json',
    final: 'final.json',
    log: 'train.log',
};
exports.REPORT_FILES = {
    markdown: 'report.md',
    csv: 'accuracy.csv',
    json: 'report.json',
};
/** Default prefix of run directories (open_lth's 'train_'). */
exports.DEFAULT_RUN_PREFIX = 'train';
/** Default root of run directories, relative to the working directory. */
exports.DEFAULT_RUNS_DIR = 'runs';
/** `<prefix>_<hash>`. */
function runDirName(config, prefix = exports.DEFAULT_RUN_PREFIX) {
    return `${prefix}_${(0, hash_1.configHash)(config)}`;
}
function runDirFor(runsDir, config, prefix) {
    return path.join(runsDir, runDirName(config, prefix));
}
/** True when a directory name looks like a run directory (`<prefix>_<32 hex>`). */
function isRunDirName(name) {
    return /^[A-Za-z0-9][A-Za-z0-9.-]*_[0-9a-f]{32}$/.test(name);
}
function runPaths(runDir) {
    const out = { dir: runDir };
    for (const [k, f] of Object.entries(exports.RUN_FILES))
        out[k] = path.join(runDir, f);
    return out;
}
/** A slug safe in file names (report plots per setting). */
function slug(text) {
    return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'all';
}
function reportPaths(outDir) {
    return {
        dir: outDir,
        markdown: path.join(outDir, exports.REPORT_FILES.markdown),
        csv: path.join(outDir, exports.REPORT_FILES.csv),
        json: path.join(outDir, exports.REPORT_FILES.json),
        testAccuracyPlot: (s) => path.join(outDir, `test-accuracy_${slug(s)}.svg`),
        signFlipsPlot: (s) => path.join(outDir, `sign-flips_${slug(s)}.svg`),
        perLayerFlipsPlot: (s) => path.join(outDir, `sign-flips-per-layer_${slug(s)}.svg`),
    };
}
/** Temporary sibling used by writeFileAtomic (same directory, so rename is atomic). */
function tempPathFor(file) {
    return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
}
