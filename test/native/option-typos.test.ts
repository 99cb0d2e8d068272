/**
 * A misspelled option (a PyTorch user's `batch_size`, the config's `gradClip` given to the
 * Trainer, `tran: false`) used to be ignored without a word: the loader made batches of 1, the
 * gradients went unclipped, the training split was loaded in place of the test split. Each entry
 * point below now refuses a key it does not know and names the valid ones, as the SGD and
 * pruneModel already did; the same call spelled right still works.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  Acdc, ArrayDataset, AvgPool2d, BasicBlock, BatchNorm2d, Bottleneck, Conv2d, DataLoader, DatasetError, F, GELU, Gmp, ImpLevels, LayerNorm, LeakyReLU, Linear, MaskedConv2d, MaskedLinear, MaxPool2d,
  MultiHeadAttention, GradScaler, ImageFolder, PatchEmbed, RandomSampler, Rigl, SignTracker, Str, Trainer, checkDatasetFiles, createDataset, createModel, downloadDataset,
  fashionMnist, impLayers, impNextLevel, impPlan, layerDensities, maskReport, mnist, setMasks, createSchedule, evaluateRun, exportRun, fromTypedArray, init, randn, randomCrop,
  randomResizedCrop, scaledDotProductAttention, tensor, tidy, zeros, grad, backward, cifar10,
} from '../../src';
import { errorOf } from '../helpers/error-of';

const unknown = (key: string) => new RegExp(`^Unknown option '${key}' in options; valid options: `);

function dataset(): ArrayDataset {
  return new ArrayDataset({ images: new Uint8Array(6 * 2 * 2), labels: [0, 1, 0, 1, 0, 1], width: 2, height: 2, channels: 1, numClasses: 2, name: 'tiny' });
}

describe('a misspelled option is refused, naming the valid ones', () => {
  it('DataLoader: batch_size (batchSize)', async () => {
    const e = errorOf(() => new DataLoader(dataset(), { batch_size: 3 } as never));
    expect(e.code).toBe('ERR_INVALID_ARG');
    expect(e.message).toMatch(unknown('batch_size'));
    expect(e.message).toContain('batchSize');
    const sizes: number[] = [];
    for await (const b of new DataLoader(dataset(), { batchSize: 3 })) {
      sizes.push(b.x.shape[0]);
      b.x.dispose();
      b.y.dispose();
    }
    expect(sizes).toEqual([3, 3]);
  });

  it('Trainer: gradClip (gradClipNorm)', () => {
    const model = new Linear(4, 2);
    const optimizer = { lr: 0, step() {}, zeroGrad() {}, stateDict: () => new Map(), loadStateDict() {} };
    const train = new DataLoader(dataset(), { batchSize: 3 });
    const base = { model, optimizer, train, epochs: 1, lr: () => 0.1 };
    const e = errorOf(() => new Trainer({ ...base, gradClip: 1 } as never));
    expect(e.code).toBe('ERR_INVALID_ARG');
    expect(e.message).toMatch(unknown('gradClip'));
    expect(e.message).toContain('gradClipNorm');
    expect(new Trainer({ ...base, gradClipNorm: 1 })).toBeInstanceOf(Trainer);
  });

  it('Trainer: a Dataset as train or test is answered with the DataLoader to wrap it in', () => {
    const model = new Linear(4, 2);
    const optimizer = { lr: 0, step() {}, zeroGrad() {}, stateDict: () => new Map(), loadStateDict() {} };
    const train = new DataLoader(dataset(), { batchSize: 3 });
    for (const o of [{ train: dataset() }, { train, test: dataset() }]) {
      const e = errorOf(() => new Trainer({ model, optimizer, epochs: 1, lr: () => 0.1, ...o } as never));
      expect(e.code).toBe('ERR_INVALID_ARG');
      expect(e.message).toMatch(/^Expected a batch source \(a DataLoader over the Dataset: new DataLoader\(dataset, \{ batchSize, shuffle \}\)\) for (train|test) but received an instance of ArrayDataset$/);
    }
  });

  it('F.crossEntropy and F.nllLoss: label_smoothing, ignore_index', () => {
    tidy(() => {
      const logits = randn([4, 3]);
      const target = tensor([0, 1, 2, 0], { dtype: 'int64' });
      expect(errorOf(() => F.crossEntropy(logits, target, { label_smoothing: 0.1 } as never)).message).toMatch(unknown('label_smoothing'));
      expect(errorOf(() => F.nllLoss(F.logSoftmax(logits, 1), target, { ignore_index: 0 } as never)).message).toMatch(unknown('ignore_index'));
      // The spelled-right option still acts: smoothing ε mixes in the mean of -log p over the classes.
      const logp = F.logSoftmax(logits, 1);
      const nll = F.nllLoss(logp, target).item();
      const uniform = logp.neg().mean().item();
      expect(F.crossEntropy(logits, target, { labelSmoothing: 0.1 }).item()).toBeCloseTo(0.9 * nll + 0.1 * uniform, 5);
    });
  });

  it('createDataset: tran (train)', () => {
    const e = errorOf(() => createDataset('fashion_mnist', { tran: false } as never));
    expect(e.code).toBe('ERR_INVALID_ARG');
    expect(e.message).toMatch(unknown('tran'));
    expect(e.message).toContain('train');
  });

  it('downloadDataset: mirorr (mirror), refused before anything is fetched or made', async () => {
    const root = path.join(__dirname, 'no-such-download-root');
    await expect(downloadDataset('mnist', { root, mirorr: 'http://127.0.0.1:9/' } as never)).rejects.toThrow(unknown('mirorr'));
    expect(fs.existsSync(root)).toBe(false);
  });

  it('evaluateRun and exportRun: spilt (split), dtpye (dtype), before the run directory is looked at', async () => {
    const runDir = path.join(__dirname, 'no-such-run');
    await expect(evaluateRun(runDir, { spilt: 'train' } as never)).rejects.toThrow(unknown('spilt'));
    await expect(evaluateRun(runDir, { split: 'train' })).rejects.toThrow(/for runDir/);
    expect(errorOf(() => exportRun(runDir, { out: 'x.safetensors', dtpye: 'float16' } as never)).message).toMatch(unknown('dtpye'));
    expect(errorOf(() => exportRun(runDir, { out: 'x.safetensors', dtype: 'float16' })).message).toMatch(/^Expected a run directory .* for runDir/);
  });

  it('tensor creation and conversion, backward: requires_grad, dType, seed, retain_graph', () => {
    tidy(() => {
      expect(errorOf(() => tensor([1, 2], { requires_grad: true } as never)).message).toMatch(unknown('requires_grad'));
      expect(errorOf(() => zeros([2], { dType: 'int64' } as never)).message).toMatch(unknown('dType'));
      expect(errorOf(() => randn([2], { seed: 1 } as never)).message).toMatch(unknown('seed'));
      expect(errorOf(() => fromTypedArray(Float32Array.of(1), [1], { share: true } as never)).message).toMatch(unknown('share'));
      expect(errorOf(() => tensor([1]).to({ dType: 'float64' } as never)).message).toMatch(/^Unknown option 'dType' in target; valid options: dtype, device$/);
      const x = tensor([2]).requiresGrad_(true);
      expect(errorOf(() => x.mul(x).sum().backward(undefined, { retain_graph: true } as never)).message).toMatch(unknown('retain_graph'));
      expect(tensor([1, 2], { requiresGrad: true }).requiresGrad).toBe(true);
      expect(zeros([2], { dtype: 'int64' }).dtype).toBe('int64');
    });
  });

  it('autograd.grad and autograd.backward: retain_graph, allow_unused', () => {
    tidy(() => {
      const x = tensor([3]).requiresGrad_(true);
      const unused = tensor([1]).requiresGrad_(true);
      const y = x.mul(x).sum();
      expect(errorOf(() => grad(y, [x], { retain_graph: true } as never)).message).toMatch(unknown('retain_graph'));
      expect(errorOf(() => grad(y, [x, unused], { allow_unused: true } as never)).message).toMatch(unknown('allow_unused'));
      expect(errorOf(() => backward([y], undefined, { retain_graph: true } as never)).message).toMatch(unknown('retain_graph'));
      const [dx, du] = grad(y, [x, unused], { retainGraph: true, allowUnused: true });
      expect(dx!.item()).toBe(6);
      expect(du).toBeUndefined();
      backward([y]);
      expect(x.grad!.item()).toBe(6);
    });
  });

  it('layers: strides, epsilon, biases', () => {
    expect(errorOf(() => new Conv2d(1, 4, 3, { padding: 1, strides: 2 } as never)).message).toMatch(unknown('strides'));
    expect(errorOf(() => new MaskedConv2d(1, 4, 3, { strides: 2 } as never)).message).toMatch(unknown('strides'));
    expect(errorOf(() => new BatchNorm2d(4, { epsilon: 1e-3 } as never)).message).toMatch(unknown('epsilon'));
    expect(errorOf(() => new MaskedLinear(4, 2, { biases: false } as never)).message).toMatch(unknown('biases'));
    // Spelled right, a stride of 2 halves a 6×6 input (padding 1, kernel 3): (6 + 2 − 3) / 2 + 1 = 3.
    tidy(() => expect(new Conv2d(1, 4, 3, { padding: 1, stride: 2 }).forward(zeros([1, 1, 6, 6])).shape).toEqual([1, 4, 3, 3]));
  });

  it('transforms and schedules: pad, area, warmup', () => {
    expect(errorOf(() => randomCrop(32, { pad: 4 } as never)).message).toMatch(unknown('pad'));
    expect(errorOf(() => randomResizedCrop(224, { area: [0.5, 1] } as never)).message).toMatch(unknown('area'));
    expect(errorOf(() => createSchedule({ name: 'cosine', lr: 0.1, epochs: 10, warmup: 5 } as never)).message).toMatch(unknown('warmup'));
    // Spelled right, the warm-up rises linearly from 0: half the peak half-way through it.
    expect(createSchedule({ name: 'cosine', lr: 0.1, epochs: 10, warmupEpochs: 4 })(2)).toBeCloseTo(0.05, 12);
  });

  it('functional ops, pooling, attention, norms and init: strides, ceil_mode, heads, mod', () => {
    tidy(() => {
      const x = randn([1, 2, 6, 6]);
      expect(errorOf(() => F.conv2d(x, randn([2, 2, 3, 3]), undefined, { strides: 2 } as never)).message).toMatch(unknown('strides'));
      expect(errorOf(() => F.batchNorm(x, undefined, undefined, undefined, undefined, { train: true } as never)).message).toMatch(unknown('train'));
      expect(errorOf(() => F.maxPool2d(x, 2, { ceil_mode: true } as never)).message).toMatch(unknown('ceil_mode'));
      expect(errorOf(() => F.avgPool2d(x, 2, { count_include_pad: false } as never)).message).toMatch(unknown('count_include_pad'));
      expect(errorOf(() => new MaxPool2d(2, { strides: 1 } as never)).message).toMatch(unknown('strides'));
      expect(errorOf(() => new AvgPool2d(2, { strides: 1 } as never)).message).toMatch(unknown('strides'));
      expect(errorOf(() => new LayerNorm(4, { epsilon: 1e-6 } as never)).message).toMatch(unknown('epsilon'));
      expect(errorOf(() => new MultiHeadAttention(8, { heads: 2 } as never)).message).toMatch(unknown('heads'));
      const q = randn([1, 1, 3, 4]);
      expect(errorOf(() => scaledDotProductAttention(q, q, q, { dropout: 0.1 } as never)).message).toMatch(unknown('dropout'));
      expect(errorOf(() => new PatchEmbed({ imgSize: 8, patchSize: 4, inChannels: 1, embedDim: 4, mask: false } as never)).message).toMatch(unknown('mask'));
      expect(errorOf(() => init.kaimingNormal_(zeros([4, 4]), { mod: 'fan_out' } as never)).message).toMatch(unknown('mod'));
      expect(errorOf(() => init.xavierUniform_(zeros([4, 4]), { gian: 2 } as never)).message).toMatch(unknown('gian'));
      // Spelled right, ceilMode keeps the partial window: 5 → ceil((5 − 2) / 2) + 1 = 3.
      expect(F.maxPool2d(randn([1, 1, 5, 5]), 2, { ceilMode: true }).shape).toEqual([1, 1, 3, 3]);
    });
  });

  it('GradScaler, maskReport, setMasks, ImageFolder, RandomSampler: init_scale, input_shape, strcit, extensions, sed', () => {
    expect(errorOf(() => new GradScaler({ init_scale: 2 } as never)).message).toMatch(/^Unknown option 'init_scale' in GradScaler options; valid options: initScale/);
    const model = createModel('lenet5');
    expect(errorOf(() => maskReport(model, { input_shape: [1, 28, 28] } as never)).message).toMatch(unknown('input_shape'));
    expect(errorOf(() => setMasks(model, new Map(), { strcit: false } as never)).message).toMatch(unknown('strcit'));
    expect(errorOf(() => new ImageFolder(__dirname, { extensions: ['.png'] } as never)).message).toMatch(unknown('extensions'));
    expect(errorOf(() => new RandomSampler(4, { sed: 1 } as never)).message).toMatch(unknown('sed'));
    // Spelled right, setMasks' strict: false returns the missing names instead of throwing.
    expect(setMasks(model, new Map(), { strict: false }).missingKeys).toHaveLength(5);
    model.dispose();
  });

  it('activations and mseLoss: negative_slope, approx, reduce', () => {
    expect(errorOf(() => new LeakyReLU({ negative_slope: 0.2 } as never)).message).toMatch(unknown('negative_slope'));
    expect(errorOf(() => new GELU({ approx: 'tanh' } as never)).message).toMatch(unknown('approx'));
    tidy(() => {
      expect(errorOf(() => F.mseLoss(zeros([2]), zeros([2]), { reduce: 'sum' } as never)).message).toMatch(unknown('reduce'));
      // Spelled right: LeakyReLU(x) = x for x ≥ 0, slope·x below; the summed squared error of 1 and 2 against 0 is 5.
      expect(new LeakyReLU({ negativeSlope: 0.2 }).forward(tensor([-1, 2])).toArray()).toEqual([expect.closeTo(-0.2, 6), 2]);
      expect(F.mseLoss(tensor([1, 2]), zeros([2]), { reduction: 'sum' }).item()).toBe(5);
    });
  });

  it('layerDensities, SignTracker, ResNet blocks: denseLayers, layer, strides', () => {
    const layers = [{ name: 'a', shape: [4, 4] }, { name: 'b', shape: [4, 4] }];
    expect(errorOf(() => layerDensities('uniform', layers, 0.5, { denseLayers: ['a'] } as never)).message).toMatch(unknown('denseLayers'));
    // Spelled right, a dense layer takes 16 of the 16 weights a density of 0.5 allows: none are left for 'b'.
    expect(layerDensities('uniform', layers, 0.5, { dense: ['a'] })).toEqual([1, 0]);
    const model = createModel('lenet5');
    expect(errorOf(() => new SignTracker(model, { layer: ['conv1'] } as never)).message).toMatch(unknown('layer'));
    model.dispose();
    expect(errorOf(() => new BasicBlock(4, 4, { strides: 2 } as never)).message).toMatch(unknown('strides'));
    expect(errorOf(() => new Bottleneck(16, 4, { strides: 2 } as never)).message).toMatch(unknown('strides'));
  });

  it('checkDatasetFiles, mnist, fashionMnist: rot, tran', () => {
    expect(errorOf(() => checkDatasetFiles('mnist', { rot: __dirname } as never)).message).toMatch(unknown('rot'));
    expect(errorOf(() => mnist({ rot: __dirname } as never)).message).toMatch(unknown('rot'));
    expect(errorOf(() => fashionMnist({ tran: false } as never)).message).toMatch(unknown('tran'));
  });

  it("createDataset and checkDatasetFiles: an option of another dataset (mnist's strict, cifar10's labelType)", () => {
    const valid = (keys: string) => new RegExp(`in options; valid options: ${keys}$`);
    expect(errorOf(() => createDataset('mnist', { root: __dirname, strict: true })).message).toMatch(valid('root, train'));
    expect(errorOf(() => createDataset('cifar10', { root: __dirname, labelType: 'coarse' })).message).toMatch(valid('root, train'));
    expect(errorOf(() => checkDatasetFiles('imagenet', { root: __dirname, labelType: 'coarse' })).message).toMatch(valid('root, train, strict'));
    expect(errorOf(() => cifar10({ root: __dirname, labelType: 'coarse' } as never)).message).toMatch(unknown('labelType'));
    // Each dataset's own options pass the check and the call reaches the (missing) files.
    expect(errorOf(() => createDataset('cifar100', { root: __dirname, labelType: 'coarse' }))).toBeInstanceOf(DatasetError);
    expect(errorOf(() => createDataset('imagenet', { root: __dirname, strict: true }))).toBeInstanceOf(DatasetError);
    expect(errorOf(() => createDataset('mnist', { root: __dirname, train: false }))).toBeInstanceOf(DatasetError);
  });

  it('sparsify methods: delta_t, final_sparsity, warmup, s_init, rewind_step, levls, dense_first, denseLayer', () => {
    expect(errorOf(() => new Rigl({ sparsity: 0.5, totalSteps: 10, delta_t: 2 } as never)).message).toMatch(unknown('delta_t'));
    expect(errorOf(() => new Gmp({ sparsity: 0.5, endEpoch: 2, final_sparsity: 0.9 } as never)).message).toMatch(unknown('final_sparsity'));
    expect(errorOf(() => new Acdc({ sparsity: 0.5, epochs: 4, warmup: 1 } as never)).message).toMatch(unknown('warmup'));
    expect(errorOf(() => new Str({ s_init: -3 } as never)).message).toMatch(unknown('s_init'));
    const base = { rewind: true, levels: 2, epochsPerLevel: 1, pruneFraction: 0.2 };
    expect(errorOf(() => new ImpLevels({ ...base, rewind_step: 1 } as never)).message).toMatch(unknown('rewind_step'));
    expect(errorOf(() => impPlan({ sparsity: 0.9, levls: 4 } as never, 8)).message).toMatch(/^Unknown option 'levls' in input; valid options: /);
    // Spelled right, 4 levels reach 90% with 3 prunes of 1 − 0.1^(1/3) each, 8 epochs / 4 levels each.
    expect(impPlan({ sparsity: 0.9, levels: 4 }, 8).plan).toEqual({ levels: 4, pruneFraction: expect.closeTo(1 - 0.1 ** (1 / 3), 12), epochsPerLevel: 2 });
    const model = createModel('lenet5');
    expect(errorOf(() => impNextLevel(model, { fraction: 0.2, dense_first: true } as never)).message).toMatch(unknown('dense_first'));
    expect(errorOf(() => impLayers(model, { denseLayer: ['conv1'] } as never)).message).toMatch(unknown('denseLayer'));
    // Spelled right, denseFirst keeps the first of lenet5's 5 masked layers out of the prune.
    expect(impLayers(model, { denseFirst: true }).pruned).toHaveLength(4);
    model.dispose();
  });

  it('GradScaler.loadStateDict: scael', () => {
    const scaler = new GradScaler({ enabled: true });
    const state = { ...scaler.stateDict(), scael: 8 };
    expect(errorOf(() => scaler.loadStateDict(state as never)).message).toMatch(/^Unknown option 'scael' in GradScaler state; valid options: scale, /);
    const other = new GradScaler({ initScale: 8 });
    scaler.loadStateDict(other.stateDict());
    expect(scaler.getScale()).toBe(8);
  });
});
