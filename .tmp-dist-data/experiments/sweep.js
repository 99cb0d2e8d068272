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
exports.SweepSpec = void 0;
exports.gridPoints = gridPoints;
exports.parseSweepSpec = parseSweepSpec;
exports.expandSweep = expandSweep;
exports.loadSweepFile = loadSweepFile;
exports.planSweep = planSweep;
exports.defaultChildCommand = defaultChildCommand;
exports.runSweep = runSweep;
/**
 * Sweeps: a grid over dotted config fields × seeds, expanded into validated configs, then run
 * one after another in this process (runOne) or by N child processes (`signin-torch train`).
 * A run whose directory holds final.json is skipped, so a sweep can be restarted at will.
 *
 * Sweep (grid) file:
 *   {
 *     "name": "cifar10-resnet20",                     optional, for humans
 *     "prefix": "train",                              optional run-directory prefix
 *     "base": { ...an experiment config... },         every run starts from this
 *     "grid": { "signin.enabled": [false, true],      dotted path → values (cartesian product);
 *               "pruning.sparsity": [0.8, 0.9] },     or an array of such grids (their union)
 *     "seeds": [0, 1, 2]                              default [0]
 *   }
 */
const node_child_process_1 = require("node:child_process");
const fs = __importStar(require("node:fs"));
const path = __importStar(require("node:path"));
const node_url_1 = require("node:url");
const zod_1 = require("zod");
const errors_1 = require("../errors");
const hash_1 = require("./hash");
const paths_1 = require("./paths");
const runs_1 = require("./runs");
const schema_1 = require("./schema");
const DOTTED = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const Grid = zod_1.z.record(zod_1.z.string().regex(DOTTED, 'a dotted config path such as pruning.sparsity'), zod_1.z.array(zod_1.z.unknown()).min(1));
exports.SweepSpec = zod_1.z.strictObject({
    name: zod_1.z.string().optional(),
    description: zod_1.z.string().optional(),
    prefix: zod_1.z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]*$/, 'letters, digits, dots and dashes').optional(),
    base: zod_1.z.record(zod_1.z.string(), zod_1.z.unknown()),
    grid: zod_1.z.preprocess((v) => (v === undefined ? [{}] : Array.isArray(v) ? v : [v]), zod_1.z.array(Grid).min(1)),
    seeds: zod_1.z.array(zod_1.z.number().int().min(0)).min(1).default([0]),
});
function clone(v) {
    return JSON.parse(JSON.stringify(v));
}
/** The cartesian product of a grid, in order (the first key varies slowest). */
function gridPoints(grid) {
    let points = [{}];
    for (const [key, values] of Object.entries(grid)) {
        points = points.flatMap((p) => values.map((v) => ({ ...p, [key]: v })));
    }
    return points;
}
function sweepError(issues, source) {
    const n = issues.length;
    return new errors_1.IssuesError('ERR_CONFIG', `Invalid sweep${source ? ` ${source}` : ''} (${n} issue${n === 1 ? '' : 's'})`, issues);
}
/** Zod's nested issues (an invalid record key) flattened into our issues. */
function sweepIssues(issues, gridIsList, prefix = []) {
    return issues.flatMap((i) => {
        const full = [...prefix, ...i.path];
        if (i.code === 'invalid_key')
            return sweepIssues(i.issues, gridIsList, full);
        let p = (0, schema_1.formatPath)(full);
        if (!gridIsList)
            p = p.replace(/^grid\[0\]/, 'grid');
        return [{ code: i.code, path: p, message: i.message }];
    });
}
/** Validates a sweep spec; throws one IssuesError('ERR_CONFIG'). `grid` is always a list after parsing. */
function parseSweepSpec(input, source) {
    const gridIsList = Array.isArray(input?.grid);
    const res = exports.SweepSpec.safeParse(input);
    if (!res.success)
        throw sweepError(sweepIssues(res.error.issues, gridIsList), source);
    const bad = res.data.grid.flatMap((g, i) => (Object.keys(g).includes('seed') ? [i] : []));
    if (bad.length > 0) {
        throw sweepError(bad.map((i) => ({ code: 'custom', path: gridIsList ? `grid[${i}].seed` : 'grid.seed', message: 'Use the top-level "seeds" list instead of a grid over seed' })), source);
    }
    return res.data;
}
/**
 * Expands a sweep into validated configs, seeds outermost (every setting's first seed comes
 * before any second seed, so a partial sweep already fills every table cell). Duplicate configs
 * (same hash) are kept once. Every invalid combination is reported in one IssuesError.
 */
function expandSweep(input, source) {
    const spec = parseSweepSpec(input, source);
    const points = spec.grid.flatMap((g) => gridPoints(g));
    const out = [];
    const seen = new Set();
    const issues = new Map();
    for (const seed of spec.seeds) {
        for (const p of points) {
            const raw = clone(spec.base);
            for (const [k, v] of Object.entries(p))
                (0, schema_1.setDotted)(raw, k, clone(v));
            raw.seed = seed;
            const res = (0, schema_1.safeParseConfig)(raw);
            if (!res.success) {
                const where = Object.entries(p).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ');
                for (const i of res.issues) {
                    const key = `${i.path}\u0000${i.message}`;
                    const fromGridValue = i.code !== 'unrecognized_keys' && Object.keys(p).includes(i.path);
                    if (!issues.has(key))
                        issues.set(key, { ...i, message: fromGridValue ? `${i.message} (grid point ${where})` : i.message });
                }
                continue;
            }
            const h = (0, hash_1.configHash)(res.data);
            if (seen.has(h))
                continue;
            seen.add(h);
            out.push({ config: res.data, point: { ...p, seed } });
        }
    }
    if (issues.size > 0)
        throw (0, schema_1.configError)([...issues.values()], `in sweep${source ? ` ${source}` : ''}`);
    return out;
}
/** Reads and expands a sweep file. */
function loadSweepFile(file) {
    let raw;
    try {
        raw = JSON.parse(fs.readFileSync(file, 'utf8'));
    }
    catch (e) {
        throw new errors_1.IssuesError('ERR_CONFIG', `Cannot read sweep file ${file}`, [{ code: 'unreadable', path: '', message: e.message }]);
    }
    return { spec: parseSweepSpec(raw, file), runs: expandSweep(raw, file) };
}
/** Where each config would run and whether it is already finished (what `sweep --dry-run` prints). */
function planSweep(configs, runsDir, prefix = paths_1.DEFAULT_RUN_PREFIX) {
    return configs.map((config, index) => {
        const runDir = (0, paths_1.runDirFor)(runsDir, config, prefix);
        return { index, config, runDir, status: fs.existsSync(runDir) ? (0, runs_1.runStatus)(runDir) : 'new' };
    });
}
/** The CLI file next to this package's build (dist/cli.js) or source (src/cli.ts, run through tsx). */
function defaultChildCommand(run, runsDir, prefix) {
    const ext = path.extname(__filename);
    const cli = path.join(__dirname, '..', `cli${ext}`);
    // From source (tsx, jest) the child needs tsx's loader, named by absolute URL (cwd may be anywhere).
    const pre = ext === '.ts' ? ['--import', (0, node_url_1.pathToFileURL)(require.resolve('tsx')).href] : [];
    return {
        command: process.execPath,
        args: [...pre, cli, 'train', '--config', (0, paths_1.runPaths)(run.runDir).config, '--runs-dir', runsDir, '--prefix', prefix],
    };
}
function tail(file, lines = 5) {
    try {
        const text = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
        return text.slice(-lines).join(' | ');
    }
    catch {
        return '';
    }
}
function runChild(cmd, logFile) {
    return new Promise((resolve, reject) => {
        const log = fs.openSync(logFile, 'a');
        const child = (0, node_child_process_1.spawn)(cmd.command, cmd.args, { stdio: ['ignore', log, log], env: cmd.env ?? process.env });
        child.on('error', (e) => { fs.closeSync(log); reject(e); });
        child.on('close', (code, signal) => { fs.closeSync(log); resolve({ code, signal }); });
    });
}
/**
 * Runs every config not yet finished. Failures do not stop the sweep: they are collected in the
 * result (and reported through onEvent), and the run can be retried by running the sweep again.
 */
async function runSweep(configs, options) {
    const prefix = options.prefix ?? paths_1.DEFAULT_RUN_PREFIX;
    const processes = options.processes ?? 1;
    if (!Number.isInteger(processes) || processes < 1)
        throw new errors_1.InvalidArgumentError('processes', 'positive integer', processes);
    if (options.runOne && processes > 1)
        throw new errors_1.InvalidArgumentError('processes', '1 when runOne is given (in-process runs are sequential)', processes);
    const emit = options.onEvent ?? (() => undefined);
    const plan = planSweep(configs, options.runsDir, prefix);
    const result = { total: plan.length, skipped: 0, succeeded: 0, failed: [] };
    const pending = [];
    for (const run of plan) {
        if (run.status === 'finished') {
            result.skipped++;
            emit({ type: 'skip', run });
        }
        else {
            pending.push(run);
        }
    }
    const execute = async (run) => {
        const started = Date.now();
        emit({ type: 'start', run });
        let error;
        try {
            (0, runs_1.createRunDir)(options.runsDir, run.config, { prefix });
            if (options.runOne) {
                await options.runOne(run.config, run.runDir);
            }
            else {
                const cmd = (options.childCommand ?? defaultChildCommand)(run, options.runsDir, prefix);
                const logFile = (0, paths_1.runPaths)(run.runDir).log;
                const { code, signal } = await runChild(cmd, logFile);
                if (code !== 0)
                    error = `${signal ? `killed by ${signal}` : `exited with code ${code}`}${tail(logFile) ? `: ${tail(logFile)}` : ''}`;
            }
            if (!error && !(0, runs_1.isFinished)(run.runDir))
                error = `finished without writing ${path.basename((0, paths_1.runPaths)(run.runDir).final)}`;
        }
        catch (e) {
            const err = e;
            error = `${err.code ? `${err.code}: ` : ''}${err.message ?? String(e)}`;
        }
        const seconds = (Date.now() - started) / 1000;
        if (error) {
            result.failed.push({ runDir: run.runDir, error });
            emit({ type: 'fail', run, seconds, error });
        }
        else {
            result.succeeded++;
            emit({ type: 'done', run, seconds });
        }
    };
    let next = 0;
    const worker = async () => {
        while (next < pending.length)
            await execute(pending[next++]);
    };
    await Promise.all(Array.from({ length: Math.min(options.runOne ? 1 : processes, Math.max(pending.length, 1)) }, worker));
    return result;
}
