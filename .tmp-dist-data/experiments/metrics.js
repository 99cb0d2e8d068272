"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.FinalSummarySchema = exports.MetricsRowSchema = void 0;
exports.mean = mean;
exports.sampleStd = sampleStd;
exports.meanStd = meanStd;
/**
 * What a run writes about itself: one metrics row per epoch (metrics.jsonl) and a final summary
 * (final.json), plus the small statistics the report needs. Accuracies are fractions in [0, 1].
 */
const zod_1 = require("zod");
const frac = zod_1.z.number().min(0).max(1);
const SignFlipsSchema = zod_1.z.looseObject({
    overall: frac,
    fromInit: frac,
    fromPrev: frac,
    perLayer: zod_1.z.record(zod_1.z.string(), frac),
});
/** Rows are checked loosely: required numbers must be numbers, extra fields are kept. */
exports.MetricsRowSchema = zod_1.z.looseObject({
    epoch: zod_1.z.number().int().min(0),
    step: zod_1.z.number().int().min(0),
    trainLoss: zod_1.z.number(),
    trainAcc: frac,
    testLoss: zod_1.z.number().optional(),
    testAcc: frac.optional(),
    testTop5: frac.optional(),
    lr: zod_1.z.number(),
    time: zod_1.z.number(),
    signFlips: SignFlipsSchema.optional(),
    meanBeta: zod_1.z.number().optional(),
});
exports.FinalSummarySchema = zod_1.z.looseObject({
    epoch: zod_1.z.number().int().min(0),
    step: zod_1.z.number().int().min(0),
    testAcc: frac,
    testTop5: frac.optional(),
    testLoss: zod_1.z.number().optional(),
    trainAcc: frac.optional(),
    trainLoss: zod_1.z.number().optional(),
    time: zod_1.z.number().optional(),
    finishedAt: zod_1.z.string().optional(),
    signFlips: SignFlipsSchema.optional(),
});
function mean(xs) {
    if (xs.length === 0)
        return NaN;
    return xs.reduce((a, b) => a + b, 0) / xs.length;
}
/** Sample standard deviation (n − 1 in the denominator); 0 for a single value, NaN for none. */
function sampleStd(xs) {
    if (xs.length === 0)
        return NaN;
    if (xs.length === 1)
        return 0;
    const m = mean(xs);
    return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}
function meanStd(xs) {
    return { mean: mean(xs), std: sampleStd(xs), n: xs.length };
}
