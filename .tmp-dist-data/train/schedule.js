"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.constantLr = constantLr;
exports.stepLr = stepLr;
exports.cosineLr = cosineLr;
exports.withWarmup = withWarmup;
exports.perStep = perStep;
exports.createSchedule = createSchedule;
/**
 * Learning-rate schedules as pure functions of the (fractional) epoch: t = 2.5 is halfway through
 * the third epoch. Per-step use: `lr(step / stepsPerEpoch)` (see perStep). Evaluated at integer
 * epochs they equal PyTorch's MultiStepLR / CosineAnnealingLR stepped once per epoch.
 */
const errors_1 = require("../errors");
const validate_1 = require("../validate");
function checkT(t) {
    if (typeof t !== 'number' || Number.isNaN(t) || t < 0)
        throw new errors_1.InvalidArgumentError('epoch', 'number >= 0', t);
    return t;
}
/** lr(t) = lr. */
function constantLr(lr) {
    (0, validate_1.num)('lr', lr, 0);
    return (t) => (checkT(t), lr);
}
/** MultiStepLR: lr · gamma^(number of milestones <= t). Milestones are absolute epochs. */
function stepLr(lr, milestones, gamma = 0.1) {
    (0, validate_1.num)('lr', lr, 0);
    (0, validate_1.num)('gamma', gamma, 0);
    if (!Array.isArray(milestones) || !milestones.every((m, i) => typeof m === 'number' && m >= 0 && (i === 0 || m > milestones[i - 1]))) {
        throw new errors_1.InvalidArgumentError('milestones', 'strictly increasing array of epochs >= 0', milestones);
    }
    const ms = [...milestones];
    return (t) => {
        checkT(t);
        let k = 0;
        while (k < ms.length && ms[k] <= t)
            k++;
        return lr * gamma ** k;
    };
}
/**
 * Cosine annealing: minLr + (lr − minLr)(1 + cos(π (t − start)/(total − start)))/2 for
 * start <= t <= total, lr before start, minLr after total.
 */
function cosineLr(lr, options) {
    (0, validate_1.num)('lr', lr, 0);
    const minLr = (0, validate_1.num)('minLr', options.minLr ?? 0, 0, lr);
    const start = (0, validate_1.num)('startEpoch', options.startEpoch ?? 0, 0);
    const total = (0, validate_1.num)('totalEpochs', options.totalEpochs, start);
    return (t) => {
        checkT(t);
        if (t <= start)
            return lr;
        if (t >= total)
            return minLr;
        return minLr + ((lr - minLr) * (1 + Math.cos((Math.PI * (t - start)) / (total - start)))) / 2;
    };
}
/**
 * Linear warm-up in front of any schedule: for t < warmupEpochs,
 * lr(t) = main(warmupEpochs) · (startFactor + (1 − startFactor) · t / warmupEpochs); then main(t).
 * Continuous at the end of the warm-up; the main schedule keeps its own (absolute) epochs.
 */
function withWarmup(main, warmupEpochs, startFactor = 0) {
    (0, validate_1.num)('warmupEpochs', warmupEpochs, 0);
    (0, validate_1.num)('startFactor', startFactor, 0, 1);
    if (warmupEpochs === 0)
        return main;
    const peak = main(warmupEpochs);
    return (t) => {
        checkT(t);
        if (t >= warmupEpochs)
            return main(t);
        return peak * (startFactor + ((1 - startFactor) * t) / warmupEpochs);
    };
}
/** A schedule in optimizer steps. */
function perStep(schedule, stepsPerEpoch) {
    (0, validate_1.num)('stepsPerEpoch', stepsPerEpoch, 1);
    return (step) => schedule(step / stepsPerEpoch);
}
/**
 * Builds a config's schedule. Cosine decays from the end of the warm-up (peak lr there) to minLr at
 * `epochs`; step milestones are absolute epochs; the warm-up rises linearly from 0.
 */
function createSchedule(o) {
    const warmup = o.warmupEpochs ?? 0;
    let main;
    switch (o.name) {
        case 'constant':
            main = constantLr(o.lr);
            break;
        case 'step':
            main = stepLr(o.lr, o.milestones ?? [], o.gamma ?? 0.1);
            break;
        case 'cosine':
            main = cosineLr(o.lr, { totalEpochs: o.epochs, minLr: o.minLr ?? 0, startEpoch: warmup });
            break;
        default: throw new errors_1.InvalidArgumentError('schedule name', "one of 'cosine', 'step', 'constant'", o.name);
    }
    return withWarmup(main, warmup);
}
