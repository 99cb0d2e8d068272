"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.scheduleFor = scheduleFor;
exports.modelOptionsFor = modelOptionsFor;
exports.pruneOptionsFor = pruneOptionsFor;
/** Small derivations from a config that the trainer and the CLI share. */
const schedule_1 = require("../train/schedule");
const schema_1 = require("./schema");
/** The learning rate as a function of fractional epoch (warm-up + cosine/step/constant). */
function scheduleFor(config) {
    return (0, schedule_1.createSchedule)({ ...config.schedule, lr: config.optimizer.lr, epochs: config.epochs });
}
/** createModel options: the dataset's classes, channels and input size, then config.model.options. */
function modelOptionsFor(config) {
    return { ...schema_1.DATASET_INFO[config.dataset.name], ...config.model.options };
}
/** pruneModel options (src/pruning) for a config; undefined when the config trains dense. */
function pruneOptionsFor(config) {
    const p = config.pruning;
    if (p.method === 'none')
        return undefined;
    return {
        method: p.method,
        sparsity: p.sparsity,
        scope: p.scope,
        ...(p.scope === 'layerwise' ? { distribution: p.distribution } : {}),
        ...(p.iterations !== undefined ? { iterations: p.iterations } : {}),
        denseFirst: p.denseFirst,
        denseLast: p.denseLast,
        seed: config.seed,
    };
}
