/**
 * checkRunnable through the CLI: a config that would fail once training starts (a device this
 * libtorch lacks, fp16 on the CPU, model options that contradict the dataset, unknown Sign-In
 * layers or layers kept dense, a sparsify schedule longer than the run, more pruning examples
 * than the training set holds, a transfer source of another model) is refused
 * by `train`, `train --dry-run` and `sweep` before any run directory exists, in one ERR_CONFIG
 * whose issues name the config fields.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import { setLogger } from '../../../src';
import { createRunDir, parseConfig } from '../../../src/experiments';
import { checkRunnable, trainFromConfig } from '../../../src/experiments/runner';
import { cuda, getRngState } from '../../../src/tensor/runtime';
import { fashionImages, tmpDir, writeIdxSet } from '../../helpers/data-fixtures';
import { errorOf } from '../../helpers/error-of';
import { cli } from '../../helpers/cli';


const dir = tmpDir('check-runnable-');
const data = path.join(dir, 'data');
writeIdxSet(data, fashionImages(40), false);
const base = ['--dataset', 'fashion_mnist', '--model', 'lenet5', '--data-root', data, '--threads', '1', '--set', 'dataset.maxTrainBatches=1', '--epochs', '1'];
beforeAll(() => setLogger(pino({ level: 'silent' })));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** `train` with and without --dry-run: both exit 1 with one ERR_CONFIG line matching `issue`, and no runs directory appears. */
async function refused(args: string[], issue: RegExp): Promise<void> {
  for (const dry of [['--dry-run'], []]) {
    const runs = path.join(dir, `runs-${n++}`);
    const r = await cli(['train', ...base, '--runs-dir', runs, ...args, ...dry]);
    expect({ args, dry, code: r.code, out: r.out }).toEqual({ args, dry, code: 1, out: '' });
    expect(r.err).toMatch(/^ERR_CONFIG: Invalid experiment config \(\d+ issues?\): /);
    expect(r.err).toMatch(issue);
    expect(r.err.length).toBeLessThan(1000);
    expect(fs.existsSync(runs)).toBe(false);
  }
}

describe('train and train --dry-run refuse before the run directory exists', () => {
  test('a CUDA device this libtorch does not have', async () => {
    const count = cuda.deviceCount();
    await refused(['--device', `cuda:${count}`], new RegExp(`device: Expected .*but received 'cuda:${count}'.* ${count} CUDA device`));
    if (count === 0) await refused(['--device', 'cuda'], /device: Expected 'cpu' or 'auto' .*no CUDA device/);
  });

  test('fp16 autocast on the CPU', async () => {
    await refused(['--device', 'cpu', '--set', 'amp=fp16'], /amp: Expected 'bf16' or false on the CPU \(float16 autocast needs a CUDA device\) but received 'fp16'/);
  });

  test('model options that contradict the dataset: classes, channels, image size', async () => {
    await refused(['--set', 'model.options.numClasses=5'], /model\.options\.numClasses: Expected 10 \(the classes of dataset 'fashion_mnist'\) or no value but received 5/);
    await refused(['--set', 'model.options.inChannels=3'], /model\.options\.inChannels: Expected 1 \(the image channels of dataset 'fashion_mnist'\) or no value but received 3/);
    await refused(['--model', 'vit', '--set', 'model.options.inputSize=32'], /model\.options\.inputSize: Expected 28 \(the image size of dataset 'fashion_mnist'\) or no value but received 32/);
  });

  test('Sign-In layers the model does not have (also with Sign-In off: the names are still the run\'s)', async () => {
    for (const signin of [['--signin'], []]) await refused([...signin, '--set', 'signin.layers=["conv1","conv9"]'], /signin\.layers\[1\]: Expected a masked layer of model lenet5 \(conv1, conv2, fc1, fc2, fc3\) but received 'conv9'/);
    await refused(['--set', `signin.layers=["${'c'.repeat(100_000)}"]`], new RegExp(`signin\\.layers\\[0\\]: Expected a masked layer .* but received '${'c'.repeat(200)}…' \\(100000 characters\\)`));
  });

  test('a per-layer Sign-In β for a layer the model lacks, or one Sign-In does not reparameterize', async () => {
    await refused(['--signin', '--set', 'signin.layerBeta={"fc3":4,"fc9":2}'], /signin\.layerBeta\["fc9"\]: Expected a masked layer of model lenet5 \(conv1, conv2, fc1, fc2, fc3\) but received 'fc9'/);
    await refused(['--signin', '--set', 'signin.layers=["fc1","fc2"]', '--set', 'signin.layerBeta={"fc3":4}'], /signin\.layerBeta\["fc3"\]: Expected one of the layers in signin\.layers \(fc1, fc2\): 'fc3' is not reparameterized, so its β would never be used/);
  });

  test('IMP / LRR layers kept dense that the model does not have', async () => {
    const imp = ['--set', 'sparsify.method=imp', '--set', 'sparsify.sparsity=0.5', '--set', 'sparsify.levels=2', '--epochs', '2'];
    await refused([...imp, '--set', 'sparsify.denseLayers=["fc3","fc9"]'], /sparsify\.denseLayers\[1\]: Expected a masked layer of model lenet5 \(conv1, conv2, fc1, fc2, fc3\) but received 'fc9'/);
  });

  test('a sparsify schedule longer than the run, saying which values are defaults', async () => {
    const acdc = ['--set', 'sparsify.method=acdc', '--set', 'sparsify.sparsity=0.9', '--epochs', '2'];
    await refused(acdc, /sparsify\.warmupEpochs: Expected at most epochs \(2\) but received 10 \(the default: sparsify\.warmupEpochs is not set\)/);
    await refused(acdc, /sparsify\.finetuneEpochs: Expected warmupEpochs \+ finetuneEpochs <= epochs \(2\) but received 10 \+ 10 \(the defaults: neither is set\)/);
    await refused([...acdc, '--set', 'sparsify.warmupEpochs=1'], /^ERR_CONFIG: Invalid experiment config \(1 issue\): sparsify\.finetuneEpochs: Expected warmupEpochs \+ finetuneEpochs <= epochs \(2\) but received 1 \+ 10 \(finetuneEpochs is the default: it is not set\)\n$/);
    const gmp = ['--set', 'sparsify.method=gmp', '--set', 'sparsify.sparsity=0.9', '--epochs', '4'];
    await refused([...gmp, '--set', 'sparsify.endEpoch=5'], /sparsify\.endEpoch: Expected at most epochs \(4\) but received 5/);
    await refused([...gmp, '--set', 'sparsify.startEpoch=3.5'], /sparsify\.startEpoch: Expected at most sparsify\.endEpoch \(3, the default 0\.75 × epochs: sparsify\.endEpoch is not set\) but received 3\.5/);
  });

  test('a field bounded by the steps per epoch, counted from the train split (20 examples here) before it is loaded', async () => {
    // Batch 4: 5 steps per epoch.
    const steps = ['--set', 'dataset.maxTrainBatches=100', '--batch-size', '4'];
    const imp = [...steps, '--set', 'sparsify.method=imp', '--set', 'sparsify.sparsity=0.9', '--set', 'sparsify.levels=4', '--set', 'sparsify.epochsPerLevel=1', '--epochs', '4'];
    await refused([...imp, '--set', 'sparsify.rewindIteration=5'],
      /^ERR_CONFIG: Invalid experiment config \(1 issue\): sparsify\.rewindIteration: Expected an iteration below 5, within level 0's 5 iterations \(1 epoch of 5 steps per epoch: 20 training examples, batch 4\), but received 5\n$/);
    await refused([...imp, '--set', 'sparsify.rewindEpoch=0.95'], /sparsify\.rewindEpoch: Expected an epoch that rounds to an iteration below 5, .* but received 0\.95 \(iteration 5\)/);
    const rigl = [...steps, '--set', 'sparsify.method=rigl', '--set', 'sparsify.sparsity=0.9'];
    await refused(rigl, /sparsify\.deltaT: Expected at most 2 steps between mask updates \(below T_end = 3, stopFraction 0\.75 of the 5 training steps \(1 epoch of 5 steps per epoch: 20 training examples, batch 4\)\) but received 100 \(the default: sparsify\.deltaT is not set\); no mask update would run/);
    await refused(['--set', 'dataset.dropLast=true', '--batch-size', '32'], /batchSize: Expected at most 20 \(20 training examples; with dataset\.dropLast a larger batch is dropped whole, every epoch\) but received 32/);
    // The values just inside the bounds pass.
    for (const args of [[...imp, '--set', 'sparsify.rewindIteration=4'], [...imp, '--set', 'sparsify.rewindEpoch=0.85'], [...rigl, '--set', 'sparsify.deltaT=2'], ['--set', 'dataset.dropLast=true', '--batch-size', '20']]) {
      const r = await cli(['train', ...base, '--runs-dir', path.join(dir, 'inside'), ...args, '--dry-run']);
      expect({ args, code: r.code, err: r.err }).toEqual({ args, code: 0, err: '' });
    }
  });

  test('more examples for SNIP / GraSP or the Hessian to draw than the train split holds (20 here, whatever dataset.maxTrainBatches)', async () => {
    await refused(['--set', 'pruning.method=snip', '--set', 'pruning.sparsity=0.9'],
      /^ERR_CONFIG: Invalid experiment config \(1 issue\): pruning\.dataSamples: Expected at most 20 \(the examples of fashion_mnist's training set; snip scores on them at initialization\) but received 128\n$/);
    await refused(['--set', 'pruning.method=grasp', '--set', 'pruning.sparsity=0.9', '--set', 'pruning.dataSamples=21'], /pruning\.dataSamples: Expected at most 20 .*; grasp scores on them .* but received 21/);
    await refused(['--set', 'hessian={"samples":30}'], /hessian\.samples: Expected at most 20 \(the examples of fashion_mnist's training set; the top Hessian eigenvalue is measured on them after the last epoch\) but received 30/);
    // A pruner that scores on no data takes no examples; the split's own size passes.
    for (const args of [['--set', 'pruning.method=magnitude', '--set', 'pruning.sparsity=0.9'], ['--set', 'pruning.method=snip', '--set', 'pruning.sparsity=0.9', '--set', 'pruning.dataSamples=20'], ['--set', 'hessian={"samples":20}']]) {
      const r = await cli(['train', ...base, '--runs-dir', path.join(dir, 'inside'), ...args, '--dry-run']);
      expect({ args, code: r.code, err: r.err }).toEqual({ args, code: 0, err: '' });
    }
  });

  test('more micro-batches (gradAccumSteps) than samples per process', async () => {
    await refused(['--batch-size', '4', '--grad-accum-steps', '5'], /gradAccumSteps: Expected at most the per-process batch 4, one sample per micro-batch, but received 5/);
    await refused(['--batch-size', '8', '--nproc', '2', '--set', 'gradAccumSteps=5'], /gradAccumSteps: Expected at most the per-process batch 4 \(batchSize 8 over 2 processes\), one sample per micro-batch, but received 5/);
    const zero = await cli(['train', ...base, '--runs-dir', path.join(dir, 'zero'), '--grad-accum-steps', '0']);
    expect({ code: zero.code, err: zero.err }).toEqual({ code: 1, err: 'ERR_CONFIG: Invalid experiment config from flags (1 issue): gradAccumSteps: Expected a number >= 1 but received 0 of type number\n' });
    const r = await cli(['train', ...base, '--runs-dir', path.join(dir, 'inside'), '--batch-size', '4', '--grad-accum-steps', '4', '--dry-run']);
    expect({ code: r.code, err: r.err, accum: r.out.includes('"gradAccumSteps": 4') }).toEqual({ code: 0, err: '', accum: true });
  });

  test('every problem in one error', async () => {
    await refused(['--device', 'cpu', '--set', 'amp=fp16', '--set', 'model.options.numClasses=5', '--signin', '--set', 'signin.layers=["conv9"]'],
      /^ERR_CONFIG: Invalid experiment config \(3 issues\): amp: .*; model\.options\.numClasses: .*; signin\.layers\[0\]: /);
  });
});

test('trainFromConfig refuses what needs no model or data before it looks at the run directory (ImageNet crops: dataset.imageSize)', async () => {
  const imagenet = (extra: object) => parseConfig({ dataset: { name: 'imagenet', root: path.join(dir, 'nowhere'), ...extra }, model: { name: 'resnet18', options: { inputSize: 160 } }, epochs: 1 });
  const message = async (config: ReturnType<typeof imagenet>) => {
    const e = await trainFromConfig(config, path.join(dir, 'no-run')).then(() => undefined, (err: Error & { code?: string }) => err);
    expect(e?.code).toBe('ERR_CONFIG');
    return e!.message;
  };
  expect(await message(imagenet({}))).toContain("model.options.inputSize: Expected 224 (the crop size of dataset 'imagenet'; set dataset.imageSize to train at another size) or no value but received 160");
  expect(await message(imagenet({ imageSize: 128 }))).toContain('model.options.inputSize: Expected 128 (dataset.imageSize) or no value but received 160');
  await expect(trainFromConfig(imagenet({ imageSize: 160 }), path.join(dir, 'no-run'))).rejects.toThrow(/for runDir/);
});

test('ImageNet\'s classes are its class folders: a subset with fewer than 1000 takes a model with at least that many outputs', async () => {
  const root = path.join(dir, 'imagenet-subset');
  for (const c of ['n01', 'n02', 'n03']) fs.mkdirSync(path.join(root, 'train', c), { recursive: true });
  const config = (numClasses: number) => parseConfig({ dataset: { name: 'imagenet', root }, model: { name: 'resnet18', options: { numClasses } }, epochs: 1 });
  const run = path.join(dir, 'no-run');
  await expect(trainFromConfig(config(2), run)).rejects.toThrow(`model.options.numClasses: Expected at least 3 (the class folders of ${path.join(root, 'train')}) or no value but received 2`);
  for (const n of [3, 10]) await expect(trainFromConfig(config(n), run)).rejects.toThrow(/for runDir/);
});

describe('a transfer source whose masked layers are not the model\'s', () => {
  let source = '';
  beforeAll(async () => {
    const config = parseConfig({
      dataset: { name: 'fashion_mnist', root: data, maxTrainBatches: 1 }, model: { name: 'lenet5' }, pruning: { method: 'random', sparsity: 0.5 },
      epochs: 1, batchSize: 8, threads: 1,
    });
    source = createRunDir(path.join(dir, 'sources'), config).dir;
    await trainFromConfig(config, source);
  });

  test('is refused by train and --dry-run, absolute or relative to the runs directory', async () => {
    const layers = /transfer\.from: The source has a masked layer 'conv1' that this model lacks/;
    await refused(['--model', 'mlp', '--set', `transfer.from=${source}`, '--set', 'transfer.kind=signs'], layers);
    // Relative: the runs directory is the one holding the source (and so exists already).
    const runs = path.dirname(source);
    for (const dry of [['--dry-run'], []]) {
      const r = await cli(['train', ...base, '--model', 'mlp', '--runs-dir', runs, '--set', `transfer.from=${path.basename(source)}`, '--set', 'transfer.kind=signs', ...dry]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(layers);
      expect(r.err).toMatch(/transfer\.from: Expected shape \[300, 784\] \(this model\) but the source's 'fc1' has \[120, 400\]/);
      expect(fs.readdirSync(runs)).toEqual([path.basename(source)]);
    }
  });

  test('a source of the same model passes, and the check leaves the global RNG as it was', () => {
    const config = parseConfig({
      dataset: { name: 'fashion_mnist', root: data }, model: { name: 'lenet5' }, epochs: 1, signin: { enabled: true, layers: ['conv1'] },
      transfer: { from: source, kind: 'signs' },
    });
    const before = getRngState();
    checkRunnable(config);
    const after = getRngState();
    expect(Array.from(after.toArray() as ArrayLike<number>)).toEqual(Array.from(before.toArray() as ArrayLike<number>));
    before.dispose();
    after.dispose();
    expect(errorOf(() => checkRunnable({ ...config, model: { name: 'mlp', options: {} } })).code).toBe('ERR_CONFIG');
  });
});

test('sweep refuses each such run before its directory exists', async () => {
  const runs = path.join(dir, 'sweep-runs');
  const grid = path.join(dir, 'grid.json');
  fs.writeFileSync(grid, JSON.stringify({
    base: { dataset: { name: 'fashion_mnist', root: data, maxTrainBatches: 1 }, model: { name: 'lenet5' }, epochs: 2, threads: 1 },
    grid: [{ 'model.options.numClasses': [5] }, { 'sparsify.method': ['acdc'], 'sparsify.sparsity': [0.9] }, { 'sparsify.method': ['rigl'], 'sparsify.sparsity': [0.9] }],
  }));
  const dry = await cli(['sweep', '--grid', grid, '--runs-dir', runs, '--dry-run']);
  expect(dry.out.split('\n').slice(1, 4).map((l) => l.split(/\s+/)[1])).toEqual(['refused', 'refused', 'refused']);
  expect(dry.err).toMatch(/\nrun 3: ERR_CONFIG: Invalid experiment config \(1 issue\): sparsify\.stopFraction: /);
  const r = await cli(['sweep', '--grid', grid, '--runs-dir', runs]);
  expect(r.code).toBe(1);
  expect(r.err).toMatch(/\[1\/3\] FAILED [^\n]*: ERR_CONFIG: Invalid experiment config \(1 issue\):\n\tmodel\.options\.numClasses: Expected 10/);
  expect(r.err).toMatch(/\[2\/3\] FAILED [^\n]*: ERR_CONFIG: Invalid experiment config \(2 issues\):\n\tsparsify\.warmupEpochs: Expected at most epochs \(2\)/);
  expect(r.err).toMatch(/\[3\/3\] FAILED [^\n]*: ERR_CONFIG: Invalid experiment config \(1 issue\):\n\tsparsify\.stopFraction: Expected a fraction that leaves room for a mask update before T_end = 1, stopFraction 0\.75 of the 2 training steps \(2 epochs of 1 step per epoch: 20 training examples, batch 128, dataset\.maxTrainBatches\), but received 0\.75/);
  expect(r.err).toContain('sweep: 0 done, 0 skipped, 3 failed of 3');
  expect(fs.existsSync(runs) ? fs.readdirSync(runs) : []).toEqual([]);
});
