"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.Generator = exports.cuda = void 0;
exports.manualSeed = manualSeed;
exports.getRngState = getRngState;
exports.setRngState = setRngState;
exports.setNumThreads = setNumThreads;
exports.getNumThreads = getNumThreads;
exports.torchVersion = torchVersion;
/** Process-wide runtime controls: seeds, RNG state, generators, threads, devices. */
const errors_1 = require("../errors");
const native_1 = require("../native");
const validate_1 = require("../validate");
const tensor_1 = require("./tensor");
function guarded(fn) {
    try {
        return fn();
    }
    catch (e) {
        throw (0, errors_1.fromNative)(e);
    }
}
/** Seeds the global CPU (and CUDA) generators, like torch.manual_seed. */
function manualSeed(seed) {
    (0, validate_1.int)('seed', seed, 0);
    guarded(() => (0, native_1.native)().manualSeed(seed));
}
/** The global CPU generator's state as a uint8 tensor (for checkpoints). */
function getRngState() {
    return guarded(() => new tensor_1.Tensor((0, native_1.native)().getRngState()));
}
function setRngState(state) {
    guarded(() => (0, native_1.native)().setRngState(state.handle));
}
/** libtorch's intra-op thread count (process-wide). */
function setNumThreads(n) {
    (0, validate_1.int)('threads', n, 1);
    guarded(() => (0, native_1.native)().setNumThreads(n));
}
function getNumThreads() {
    return (0, native_1.native)().getNumThreads();
}
function torchVersion() {
    return (0, native_1.native)().torchVersion();
}
exports.cuda = {
    isAvailable() {
        return (0, native_1.native)().cudaDeviceCount() > 0;
    },
    deviceCount() {
        return (0, native_1.native)().cudaDeviceCount();
    },
};
/** An independent CPU random generator, passed to random factories, init and data shuffling. */
class Generator {
    handle;
    constructor(seed) {
        (0, validate_1.int)('seed', seed, 0);
        this.handle = guarded(() => new ((0, native_1.native)().Generator)(seed));
    }
    manualSeed(seed) {
        (0, validate_1.int)('seed', seed, 0);
        this.handle.manualSeed(seed);
        return this;
    }
    initialSeed() {
        return this.handle.initialSeed();
    }
    getState() {
        return guarded(() => new tensor_1.Tensor(this.handle.getState()));
    }
    setState(state) {
        guarded(() => this.handle.setState(state.handle));
    }
}
exports.Generator = Generator;
