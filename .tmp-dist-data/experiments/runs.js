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
exports.writeFileAtomic = writeFileAtomic;
exports.writeJsonAtomic = writeJsonAtomic;
exports.createRunDir = createRunDir;
exports.readConfig = readConfig;
exports.appendMetrics = appendMetrics;
exports.readMetrics = readMetrics;
exports.truncateMetrics = truncateMetrics;
exports.writeFinal = writeFinal;
exports.readFinal = readFinal;
exports.isFinished = isFinished;
exports.runHasCheckpoint = runHasCheckpoint;
exports.runStatus = runStatus;
exports.listRuns = listRuns;
/**
 * Run directories: create, read, list. A run directory holds everything about one run; reports,
 * sweeps and resumption read it back from disk and nothing else (architecture.md decision 9).
 */
const fs = __importStar(require("node:fs"));
const path = __importStar(require("node:path"));
const errors_1 = require("../errors");
const logger_1 = require("../logger");
const hash_1 = require("./hash");
const metrics_1 = require("./metrics");
const paths_1 = require("./paths");
const schema_1 = require("./schema");
/**
 * Writes a file so that readers see either the old content or the new one, never a part:
 * write a temporary sibling, fsync it, rename it over the target. Creates missing parent folders.
 */
function writeFileAtomic(file, data) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = (0, paths_1.tempPathFor)(file);
    const fd = fs.openSync(tmp, 'w');
    try {
        fs.writeFileSync(fd, data);
        fs.fsyncSync(fd);
    }
    catch (e) {
        fs.closeSync(fd);
        fs.rmSync(tmp, { force: true });
        throw e;
    }
    fs.closeSync(fd);
    try {
        fs.renameSync(tmp, file);
    }
    catch (e) {
        fs.rmSync(tmp, { force: true });
        throw e;
    }
}
/** JSON with 2-space indentation and a final newline, written atomically. */
function writeJsonAtomic(file, value) {
    writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}
function readJson(file) {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
}
/**
 * Creates (or reopens) the run directory of a config: `<runsDir>/<prefix>_<hash>/config.json`.
 * Reopening checks that the stored config hashes the same (it may differ in defaults that were
 * added later, or in execution-only fields such as device); config.json is then rewritten with the
 * current resolution of defaults.
 */
function createRunDir(runsDir, config, options = {}) {
    const dir = (0, paths_1.runDirFor)(runsDir, config, options.prefix);
    const paths = (0, paths_1.runPaths)(dir);
    fs.mkdirSync(dir, { recursive: true });
    let created = true;
    if (fs.existsSync(paths.config)) {
        const stored = readConfig(dir);
        if ((0, hash_1.configHash)(stored) !== (0, hash_1.configHash)(config)) {
            throw new errors_1.IssuesError('ERR_CONFIG', `Run directory ${dir} holds a different config`, [
                { code: 'hash_mismatch', path: '', message: `config.json hashes to ${(0, hash_1.configHash)(stored)}, expected ${(0, hash_1.configHash)(config)}` },
            ]);
        }
        created = false;
    }
    writeJsonAtomic(paths.config, config);
    return { dir, paths, config, created };
}
/** The validated config of a run directory (defaults added since it was written are filled in). */
function readConfig(runDir) {
    const file = (0, paths_1.runPaths)(runDir).config;
    let raw;
    try {
        raw = readJson(file);
    }
    catch (e) {
        throw new errors_1.IssuesError('ERR_CONFIG', `Cannot read ${file}`, [{ code: 'unreadable', path: '', message: e.message }]);
    }
    return (0, schema_1.parseConfig)(raw, `in ${file}`);
}
/** Appends one metrics row (one JSON line). A single small append is not torn by a crash in practice; readMetrics skips a torn last line anyway. */
function appendMetrics(runDir, row) {
    fs.appendFileSync((0, paths_1.runPaths)(runDir).metrics, `${JSON.stringify(row)}\n`);
}
/**
 * The metrics rows of a run, in file order. A torn (unparsable) LAST line is skipped; any other
 * bad line is an error naming the line. Missing file → [].
 */
function readMetrics(runDir) {
    const file = (0, paths_1.runPaths)(runDir).metrics;
    if (!fs.existsSync(file))
        return [];
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    while (lines.length > 0 && lines[lines.length - 1].trim() === '')
        lines.pop();
    const rows = [];
    const issues = [];
    lines.forEach((line, i) => {
        if (line.trim() === '')
            return;
        let raw;
        try {
            raw = JSON.parse(line);
        }
        catch (e) {
            if (i === lines.length - 1)
                return; // torn last write
            issues.push({ code: 'invalid_json', path: `line ${i + 1}`, message: e.message });
            return;
        }
        const res = metrics_1.MetricsRowSchema.safeParse(raw);
        if (res.success)
            rows.push(res.data);
        else
            for (const iss of res.error.issues)
                issues.push({ code: iss.code, path: `line ${i + 1}${iss.path.length ? `: ${(0, schema_1.formatPath)(iss.path)}` : ''}`, message: iss.message });
    });
    if (issues.length > 0)
        throw new errors_1.IssuesError('ERR_CONFIG', `Invalid metrics in ${file}`, issues);
    return rows;
}
/**
 * Keeps only the rows with epoch <= lastEpoch (atomically): a run resumed from a checkpoint at
 * lastEpoch drops rows written after that checkpoint, so epochs never appear twice.
 */
function truncateMetrics(runDir, lastEpoch) {
    const file = (0, paths_1.runPaths)(runDir).metrics;
    if (!fs.existsSync(file))
        return;
    const rows = readMetrics(runDir).filter((r) => r.epoch <= lastEpoch);
    writeFileAtomic(file, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
}
/** Writes final.json (atomically), which marks the run finished. */
function writeFinal(runDir, summary) {
    writeJsonAtomic((0, paths_1.runPaths)(runDir).final, { finishedAt: new Date().toISOString(), ...summary });
}
/** final.json of a run, or undefined when the run has not finished. */
function readFinal(runDir) {
    const file = (0, paths_1.runPaths)(runDir).final;
    if (!fs.existsSync(file))
        return undefined;
    const res = metrics_1.FinalSummarySchema.safeParse(readJson(file));
    if (!res.success) {
        throw new errors_1.IssuesError('ERR_CONFIG', `Invalid ${file}`, res.error.issues.map((i) => ({ code: i.code, path: (0, schema_1.formatPath)(i.path), message: i.message })));
    }
    return res.data;
}
/** A run is finished when its final.json exists. */
function isFinished(runDir) {
    return fs.existsSync((0, paths_1.runPaths)(runDir).final);
}
function runHasCheckpoint(runDir) {
    return fs.existsSync((0, paths_1.runPaths)(runDir).checkpoint);
}
function runStatus(runDir) {
    if (isFinished(runDir))
        return 'finished';
    const p = (0, paths_1.runPaths)(runDir);
    return fs.existsSync(p.checkpoint) || fs.existsSync(p.metrics) ? 'started' : 'new';
}
/** Every run directory under runsDir (one level), sorted by name. A missing runsDir → []. */
function listRuns(runsDir, options = {}) {
    if (!fs.existsSync(runsDir))
        return [];
    const out = [];
    const issues = [];
    for (const entry of fs.readdirSync(runsDir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        if (!entry.isDirectory() || !(0, paths_1.isRunDirName)(entry.name))
            continue;
        const dir = path.join(runsDir, entry.name);
        const file = (0, paths_1.runPaths)(dir).config;
        if (!fs.existsSync(file))
            continue;
        let raw;
        try {
            raw = readJson(file);
        }
        catch (e) {
            issues.push({ code: 'invalid_json', path: entry.name, message: e.message });
            continue;
        }
        const res = (0, schema_1.safeParseConfig)(raw);
        if (!res.success) {
            for (const i of res.issues)
                issues.push({ ...i, path: `${entry.name}: ${i.path}` });
            continue;
        }
        out.push({ dir, name: entry.name, hash: (0, hash_1.configHash)(res.data), config: res.data, status: runStatus(dir) });
    }
    if (issues.length > 0) {
        if (options.strict)
            throw new errors_1.IssuesError('ERR_CONFIG', `Unreadable run directories in ${runsDir}`, issues);
        (0, logger_1.logger)().warn({ runsDir, issues }, 'skipped unreadable run directories');
    }
    return out;
}
