"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.ExperimentConfig = exports.HASH_EXCLUDED_PATHS = exports.DEFAULTS = exports.DATASET_INFO = exports.SCHEDULE_NAMES = exports.MOMENTUM_AT_RESET = exports.RESET_UNITS = exports.PRUNING_SCOPES = exports.DISTRIBUTIONS = exports.PRUNING_METHODS = exports.DATASET_NAMES = void 0;
exports.defaultScope = defaultScope;
exports.formatPath = formatPath;
exports.safeParseConfig = safeParseConfig;
exports.parseConfig = parseConfig;
exports.configError = configError;
exports.getDotted = getDotted;
exports.setDotted = setDotted;
exports.flattenDotted = flattenDotted;
/**
 * The experiment config (architecture.md decision 9: experiments are data). One zod schema, strict
 * (unknown keys are rejected), with every default written once in DEFAULTS. parseConfig gathers
 * every problem and throws ONE IssuesError('ERR_CONFIG'); safeParseConfig returns the issues.
 *
 * Conventions: `sparsity` is the fraction of weights REMOVED (density = 1 - sparsity); accuracies
 * in metrics are fractions in [0, 1]; epochs are counted from 1 in metrics (epoch 1 = after the
 * first epoch).
 */
const zod_1 = require("zod");
const errors_1 = require("../errors");
exports.DATASET_NAMES = ['fashion_mnist', 'mnist', 'cifar10', 'cifar100', 'imagenet'];
exports.PRUNING_METHODS = ['none', 'random', 'magnitude', 'snip', 'grasp', 'synflow'];
exports.DISTRIBUTIONS = ['uniform', 'er', 'erk', 'balanced', 'pyramidal'];
exports.PRUNING_SCOPES = ['global', 'layerwise'];
exports.RESET_UNITS = ['epochs', 'steps'];
exports.MOMENTUM_AT_RESET = ['keep', 'zero'];
exports.SCHEDULE_NAMES = ['cosine', 'step', 'constant'];
/** What a model needs to know about each dataset (the trainer passes these to createModel). */
exports.DATASET_INFO = {
    fashion_mnist: { numClasses: 10, inChannels: 1, inputSize: 28 },
    mnist: { numClasses: 10, inChannels: 1, inputSize: 28 },
    cifar10: { numClasses: 10, inChannels: 3, inputSize: 32 },
    cifar100: { numClasses: 100, inChannels: 3, inputSize: 32 },
    imagenet: { numClasses: 1000, inChannels: 3, inputSize: 224 },
};
/**
 * Every default, in one place. The run-directory hash leaves out fields equal to these, so a new
 * field added here with a default keeps every existing run directory valid (open_lth's desc).
 * Changing an existing default changes the hash of runs that relied on it: don't.
 */
exports.DEFAULTS = {
    dataset: { augment: true },
    model: { options: {} },
    pruning: {
        method: 'none',
        sparsity: 0,
        distribution: 'erk',
        /** Hash baseline only: the parsed default is defaultScope(method) ('layerwise' for random). */
        scope: 'global',
        denseFirst: false,
        denseLast: false,
    },
    signin: {
        enabled: false,
        beta: 1,
        resetPeriod: 1,
        resetUnit: 'epochs',
        momentumAtReset: 'keep',
    },
    optimizer: { lr: 0.1, momentum: 0.9, nesterov: false, weightDecay: 1e-4, excludeBnAndBias: false },
    schedule: { name: 'cosine', warmupEpochs: 0, milestones: [], gamma: 0.1, minLr: 0 },
    labelSmoothing: 0,
    batchSize: 128,
    seed: 0,
    device: 'auto',
    threads: 0,
    evalEvery: 1,
};
/**
 * Fields that say WHERE or HOW FAST a run executes, not WHAT it computes: they are left out of the
 * run-directory hash, so a run started on one machine resumes on another.
 */
exports.HASH_EXCLUDED_PATHS = ['dataset.root', 'device', 'threads'];
const D = exports.DEFAULTS;
const nonNegInt = () => zod_1.z.number().int().min(0);
const DatasetSchema = zod_1.z.strictObject({
    name: zod_1.z.enum(exports.DATASET_NAMES).describe('Dataset (required).'),
    root: zod_1.z.string().min(1).optional().describe('Folder holding the dataset files; default: the data module\'s default. Not hashed.'),
    augment: zod_1.z.boolean().default(D.dataset.augment).describe('Standard training augmentation of the dataset (crop + flip for CIFAR, random-resized crop + flip for ImageNet, none for MNIST-like). Default true.'),
});
const ModelSchema = zod_1.z.strictObject({
    name: zod_1.z.string().regex(/^[a-z][a-z0-9_]*$/, 'a lowercase snake_case registry name such as cifar_resnet_20').describe('Model registry name, e.g. cifar_resnet_20, resnet18, resnet50 (required).'),
    options: zod_1.z.record(zod_1.z.string(), zod_1.z.unknown()).default(() => ({})).describe('Extra model options (numClasses/inChannels come from the dataset). Default {}.'),
});
const PruningSchema = zod_1.z.strictObject({
    method: zod_1.z.enum(exports.PRUNING_METHODS).default(D.pruning.method).describe("Pruning at initialization. Default 'none' (dense)."),
    sparsity: zod_1.z.number().min(0).lt(1).default(D.pruning.sparsity).describe('Fraction of prunable weights REMOVED, in [0, 1). Default 0.'),
    distribution: zod_1.z.enum(exports.DISTRIBUTIONS).optional().describe("Layer densities; only with scope 'layerwise' (e.g. Random-ERK). Default 'erk' there, absent with scope 'global'."),
    scope: zod_1.z.enum(exports.PRUNING_SCOPES).optional().describe("'global' (one threshold over all layers) or 'layerwise' (per-layer counts from distribution). Default: 'layerwise' for random, else 'global'."),
    denseFirst: zod_1.z.boolean().default(D.pruning.denseFirst).describe('Keep the first conv layer dense. Default false.'),
    denseLast: zod_1.z.boolean().default(D.pruning.denseLast).describe('Keep the classifier dense. Default false.'),
    iterations: zod_1.z.number().int().min(1).optional().describe("Prune-score rounds on an exponential schedule. Default: the pruner's (100 for SynFlow, else 1)."),
}).transform((p) => {
    const scope = p.scope ?? defaultScope(p.method);
    return { ...p, scope, distribution: scope === 'layerwise' ? (p.distribution ?? D.pruning.distribution) : p.distribution };
});
/** The scope a pruning method gets when the config names none. */
function defaultScope(method) {
    return method === 'random' ? 'layerwise' : 'global';
}
const SignInSchema = zod_1.z.strictObject({
    enabled: zod_1.z.boolean().default(D.signin.enabled).describe('Reparameterize masked conv/linear weights as θ = M ⊙ m ⊙ w. Default false.'),
    beta: zod_1.z.number().gt(0).default(D.signin.beta).describe('Inner scaling β = m² − w² set at init and at each reset. Default 1.'),
    resetPeriod: nonNegInt().default(D.signin.resetPeriod).describe('Reset every this many resetUnits; 0 = never reset (ablation). Default 1.'),
    resetUnit: zod_1.z.enum(exports.RESET_UNITS).default(D.signin.resetUnit).describe("Unit of resetPeriod. Default 'epochs'."),
    stopResetAfterEpoch: nonNegInt().optional().describe('No resets after this epoch (e.g. before the final LR decay). Default: reset until the end.'),
    momentumAtReset: zod_1.z.enum(exports.MOMENTUM_AT_RESET).default(D.signin.momentumAtReset).describe("Momentum buffers of m and w at a reset. Default 'keep'."),
    layers: zod_1.z.array(zod_1.z.string().min(1)).min(1).optional().describe('Dotted module names to reparameterize. Default: every masked conv/linear layer.'),
});
const OptimizerSchema = zod_1.z.strictObject({
    lr: zod_1.z.number().gt(0).default(D.optimizer.lr).describe('Peak learning rate. Default 0.1.'),
    momentum: zod_1.z.number().min(0).lt(1).default(D.optimizer.momentum).describe('SGD momentum. Default 0.9.'),
    nesterov: zod_1.z.boolean().default(D.optimizer.nesterov).describe('Nesterov momentum. Default false.'),
    weightDecay: zod_1.z.number().min(0).default(D.optimizer.weightDecay).describe('L2 weight decay. Default 1e-4.'),
    excludeBnAndBias: zod_1.z.boolean().default(D.optimizer.excludeBnAndBias).describe('No weight decay on BatchNorm parameters and biases. Default false.'),
});
const ScheduleSchema = zod_1.z.strictObject({
    name: zod_1.z.enum(exports.SCHEDULE_NAMES).default(D.schedule.name).describe("LR schedule. Default 'cosine' (to minLr at the last epoch)."),
    warmupEpochs: zod_1.z.number().min(0).default(D.schedule.warmupEpochs).describe('Linear warm-up from 0 to lr over this many epochs. Default 0.'),
    milestones: zod_1.z.array(zod_1.z.number().int().min(1)).default(() => [])
        .refine((m) => m.every((v, i) => i === 0 || v > m[i - 1]), 'Expected strictly increasing epochs')
        .describe("Epochs at which the 'step' schedule multiplies the LR by gamma. Default []."),
    gamma: zod_1.z.number().gt(0).max(1).default(D.schedule.gamma).describe("Decay factor of the 'step' schedule. Default 0.1."),
    minLr: zod_1.z.number().min(0).default(D.schedule.minLr).describe("Final LR of the 'cosine' schedule. Default 0."),
});
exports.ExperimentConfig = zod_1.z.strictObject({
    dataset: DatasetSchema,
    model: ModelSchema,
    pruning: PruningSchema.prefault({}),
    signin: SignInSchema.prefault({}),
    optimizer: OptimizerSchema.prefault({}),
    schedule: ScheduleSchema.prefault({}),
    labelSmoothing: zod_1.z.number().min(0).lt(1).default(D.labelSmoothing).describe('Label smoothing of the training loss. Default 0.'),
    gradClip: zod_1.z.number().gt(0).optional().describe('Max global gradient norm. Default: no clipping.'),
    epochs: zod_1.z.number().int().min(1).describe('Training epochs (required).'),
    batchSize: zod_1.z.number().int().min(1).default(D.batchSize).describe('Training batch size. Default 128.'),
    seed: nonNegInt().default(D.seed).describe('Seed of init, mask, shuffling and augmentation. Default 0.'),
    device: zod_1.z.string().regex(/^(auto|cpu|cuda(:\d+)?)$/, "'auto', 'cpu', 'cuda' or 'cuda:N'").default(D.device).describe("'auto' (CUDA when available), 'cpu', 'cuda', 'cuda:N'. Default 'auto'. Not hashed."),
    threads: nonNegInt().default(D.threads).describe("CPU threads for libtorch; 0 = libtorch's default. Not hashed."),
    evalEvery: zod_1.z.number().int().min(1).default(D.evalEvery).describe('Evaluate on the test set every this many epochs (and after the last). Default 1.'),
});
// ---------------------------------------------------------------------------------------------
// Issues
/** `a.b[2].c` from a zod path. */
function formatPath(path) {
    let out = '';
    for (const p of path) {
        if (typeof p === 'number')
            out += `[${p}]`;
        else
            out += out ? `.${String(p)}` : String(p);
    }
    return out;
}
function quoteList(values) {
    return values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ');
}
/** The object schema found at a path (through defaults/optionals), to list valid keys. */
function shapeKeysAt(path) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let s = exports.ExperimentConfig;
    const unwrap = (x) => {
        while (x?._zod?.def?.innerType || x?._zod?.def?.in)
            x = x._zod.def.innerType ?? x._zod.def.in;
        return x;
    };
    s = unwrap(s);
    for (const p of path) {
        const shape = s?._zod?.def?.shape;
        if (!shape || typeof p !== 'string' || !(p in shape))
            return undefined;
        s = unwrap(shape[p]);
    }
    const shape = s?._zod?.def?.shape;
    return shape ? Object.keys(shape) : undefined;
}
function editDistance(a, b) {
    const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++)
        dp[0][j] = j;
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            dp[i][j] = Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
        }
    }
    return dp[a.length][b.length];
}
function closest(word, candidates) {
    let best;
    let bestD = Infinity;
    for (const c of candidates) {
        const d = editDistance(word, c);
        if (d < bestD)
            [best, bestD] = [c, d];
    }
    return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
function bound(kind, value, inclusive) {
    if (kind === 'min')
        return inclusive ? `>= ${String(value)}` : `> ${String(value)}`;
    return inclusive ? `<= ${String(value)}` : `< ${String(value)}`;
}
/** One zod issue → our issues (an unrecognized_keys issue becomes one issue per key). */
function toIssues(iss) {
    const input = iss.input;
    const got = (0, errors_1.describeValue)(input);
    switch (iss.code) {
        case 'invalid_type': {
            if (input === undefined)
                return [{ code: 'required', path: formatPath(iss.path), message: `Required: expected ${iss.expected}` }];
            const expected = iss.expected === 'int' ? 'integer' : iss.expected;
            return [{ code: iss.code, path: formatPath(iss.path), message: `Expected ${expected} but received ${got}` }];
        }
        case 'invalid_value': {
            const values = iss.values;
            const hint = typeof input === 'string' ? closest(input, values.filter((v) => typeof v === 'string')) : undefined;
            return [{
                    code: iss.code,
                    path: formatPath(iss.path),
                    message: `Expected one of ${quoteList(values)} but received ${got}${hint ? ` (did you mean '${hint}'?)` : ''}`,
                }];
        }
        case 'too_small':
        case 'too_big': {
            const kind = iss.code === 'too_small' ? 'min' : 'max';
            const limit = iss.code === 'too_small' ? iss.minimum : iss.maximum;
            const what = iss.origin === 'array' ? `an array with length ${bound(kind, limit, true)}`
                : iss.origin === 'string' ? `a string with length ${bound(kind, limit, true)}`
                    : `a number ${bound(kind, limit, iss.inclusive)}`;
            return [{ code: iss.code, path: formatPath(iss.path), message: `Expected ${what} but received ${got}` }];
        }
        case 'unrecognized_keys': {
            const valid = shapeKeysAt(iss.path) ?? [];
            return iss.keys.map((k) => {
                const hint = closest(k, valid);
                return {
                    code: iss.code,
                    path: formatPath([...iss.path, k]),
                    message: `Unknown key${hint ? ` (did you mean '${hint}'?)` : ''}; valid keys: ${valid.join(', ')}`,
                };
            });
        }
        case 'invalid_format':
            return [{ code: iss.code, path: formatPath(iss.path), message: `Expected ${iss.message} but received ${got}` }];
        default:
            return [{ code: iss.code, path: formatPath(iss.path), message: iss.message }];
    }
}
function isObj(v) {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
}
/** Reads a dotted path from raw input, or the default when absent. */
function rawAt(raw, path) {
    let v = raw;
    for (const k of path.split('.')) {
        if (!isObj(v)) {
            v = undefined;
            break;
        }
        v = v[k];
    }
    return v === undefined ? getDotted(exports.DEFAULTS, path) : v;
}
/**
 * Checks that involve more than one field. They read the raw input defensively (each check runs
 * only when its own fields have valid types), so they are reported together with field errors.
 */
function crossFieldIssues(raw) {
    const issues = [];
    const method = rawAt(raw, 'pruning.method');
    const sparsity = rawAt(raw, 'pruning.sparsity');
    if (method === 'none' && typeof sparsity === 'number' && sparsity > 0) {
        issues.push({
            code: 'custom',
            path: 'pruning.sparsity',
            message: `Expected 0 when pruning.method is 'none' but received ${(0, errors_1.describeValue)(sparsity)}; set pruning.method to one of ${quoteList(exports.PRUNING_METHODS.filter((m) => m !== 'none'))}`,
        });
    }
    const distribution = getDotted(raw, 'pruning.distribution');
    const scope = getDotted(raw, 'pruning.scope') ?? (typeof method === 'string' && exports.PRUNING_METHODS.includes(method) ? defaultScope(method) : undefined);
    if (distribution !== undefined && method !== 'none' && scope === 'global') {
        issues.push({
            code: 'custom',
            path: 'pruning.distribution',
            message: `Layer densities apply only with pruning.scope 'layerwise' (the scope here is 'global'); set pruning.scope to 'layerwise' or remove pruning.distribution`,
        });
    }
    const schedule = rawAt(raw, 'schedule.name');
    const milestones = rawAt(raw, 'schedule.milestones');
    if (schedule === 'step' && Array.isArray(milestones) && milestones.length === 0) {
        issues.push({ code: 'custom', path: 'schedule.milestones', message: "Expected at least one epoch when schedule.name is 'step'" });
    }
    const epochs = rawAt(raw, 'epochs');
    const warmup = rawAt(raw, 'schedule.warmupEpochs');
    if (typeof epochs === 'number' && Number.isInteger(epochs) && epochs >= 1 && typeof warmup === 'number' && warmup >= epochs) {
        issues.push({ code: 'custom', path: 'schedule.warmupEpochs', message: `Expected a number < epochs (${epochs}) but received ${(0, errors_1.describeValue)(warmup)}` });
    }
    return issues;
}
/** Validates a config; never throws. Issues carry dotted paths and name the allowed values. */
function safeParseConfig(input) {
    const res = exports.ExperimentConfig.safeParse(input, { reportInput: true });
    const issues = res.success ? [] : res.error.issues.flatMap(toIssues);
    if (isObj(input))
        issues.push(...crossFieldIssues(input));
    if (issues.length > 0 || !res.success)
        return { success: false, issues };
    return { success: true, data: res.data };
}
/** Validates a config and fills in defaults; throws one IssuesError('ERR_CONFIG') listing every issue. */
function parseConfig(input, source) {
    const res = safeParseConfig(input);
    if (!res.success)
        throw configError(res.issues, source);
    return res.data;
}
function configError(issues, source) {
    const n = issues.length;
    return new errors_1.IssuesError('ERR_CONFIG', `Invalid experiment config${source ? ` ${source}` : ''} (${n} issue${n === 1 ? '' : 's'})`, issues);
}
// ---------------------------------------------------------------------------------------------
// Dotted paths (shared by sweeps, the CLI's --set and the report)
function getDotted(obj, path) {
    let v = obj;
    for (const k of path.split('.')) {
        if (!isObj(v))
            return undefined;
        v = v[k];
    }
    return v;
}
/** Sets a dotted path on a plain object, creating intermediate objects; returns obj. */
function setDotted(obj, path, value) {
    const keys = path.split('.');
    if (keys.some((k) => k.length === 0))
        throw configError([{ code: 'invalid_path', path, message: 'Expected a dotted path of non-empty keys' }]);
    let cur = obj;
    for (const k of keys.slice(0, -1)) {
        if (!isObj(cur[k]))
            cur[k] = {};
        cur = cur[k];
    }
    cur[keys[keys.length - 1]] = value;
    return obj;
}
/** Leaves of a plain object as dotted paths (arrays and records count as leaves only when empty). */
function flattenDotted(obj, prefix = '') {
    const out = {};
    if (!isObj(obj))
        return out;
    for (const [k, v] of Object.entries(obj)) {
        const p = prefix ? `${prefix}.${k}` : k;
        if (isObj(v) && Object.keys(v).length > 0)
            Object.assign(out, flattenDotted(v, p));
        else if (v !== undefined)
            out[p] = v;
    }
    return out;
}
