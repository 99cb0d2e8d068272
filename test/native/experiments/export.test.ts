/**
 * `signin-torch export` / exportRun: a trained, pruned Sign-In ResNet-18 run's checkpoint
 * written as a PyTorch state dict, which torchvision's resnet18 (Debian's python3-torchvision,
 * the same libtorch) loads with strict=True and runs to the logits of our model restored from
 * the same checkpoint; float16 / bfloat16 exports equal torch's own rounding of the float32 one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import { manualSeed, noGrad, randn, saveSafetensors, setLogger } from '../../../src';
import { createRunDir, parseConfig } from '../../../src/experiments';
import { exportRun } from '../../../src/experiments/export';
import { modelFromCheckpoint } from '../../../src/experiments/run-checkpoints';
import { trainFromConfig } from '../../../src/experiments/runner';
import { readConfig } from '../../../src/experiments/runs';
import { maskedLayers } from '../../../src/nn/masked';
import { fashionImages, tmpDir, writeCifar10 } from '../../helpers/data-fixtures';
import { cli } from '../../helpers/cli';
import { hasTorchvision, runPython } from '../../helpers/torchvision';

const suite = hasTorchvision() ? describe : describe.skip;
const dir = tmpDir('export-');
const data = path.join(dir, 'cifar');
writeCifar10(data, fashionImages(32), 16, 8);

const config = parseConfig({
  dataset: { name: 'cifar10', root: data, augment: false },
  model: { name: 'resnet18' },
  pruning: { method: 'random', sparsity: 0.7 },
  signin: { enabled: true, resetPeriod: 1 },
  optimizer: { lr: 0.05, momentum: 0.9 },
  epochs: 1, batchSize: 8, threads: 1, seed: 1,
});

/** Reads a safetensors file in Python, F16 and BF16 included; defines load2(path) -> (metadata, {name: tensor}). */
const LOAD2 = String.raw`
def load2(path):
    with open(path, 'rb') as f:
        data = f.read()
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = header.pop('__metadata__', {})
    out = {}
    for name, e in header.items():
        a, b = e['data_offsets']
        raw = data[8 + n + a:8 + n + b]
        if e['dtype'] == 'BF16':
            t = torch.from_numpy(np.frombuffer(raw, dtype='<i2').copy()).view(torch.bfloat16)
        elif e['dtype'] == 'F16':
            t = torch.from_numpy(np.frombuffer(raw, dtype='<f2').copy())
        else:
            t = torch.from_numpy(np.frombuffer(raw, dtype=np.dtype(_NP[e['dtype']]).newbyteorder('<')).astype(_NP[e['dtype']]).copy())
        out[name] = t.reshape(e['shape'])
    return meta, out
`;

let run: string;
beforeAll(async () => {
  setLogger(pino({ level: 'silent' }));
  run = createRunDir(path.join(dir, 'runs'), config).dir;
  await trainFromConfig(config, run);
}, 300000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

suite('exportRun', () => {
  it("torchvision's resnet18 loads the export strictly and gives our logits; pruned weights arrive as exact zeros", () => {
    const out = path.join(dir, 'rn18.safetensors');
    const r = exportRun(run, { out });
    expect(r).toMatchObject({ out, checkpoint: path.join(run, 'checkpoint.safetensors'), position: { epoch: 1 }, model: 'resnet18', modelOptions: { numClasses: 10 } });
    expect(r.bytes).toBe(fs.statSync(out).size);

    const model = modelFromCheckpoint(readConfig(run), r.checkpoint);
    model.eval();
    manualSeed(7);
    const x = randn([2, 3, 32, 32]);
    const y = noGrad(() => model.forward(x));
    const pruned = maskedLayers(model).find(([n]) => n === 'layer4.1.conv2')![1].mask.eq(0).sum().item();
    saveSafetensors(path.join(dir, 'io.safetensors'), new Map([['x', x], ['y', y]]));
    model.dispose();

    const res = JSON.parse(runPython(String.raw`${LOAD2}
import sys, torchvision
meta, sd = load2(sys.argv[1])
io = load(sys.argv[2])
m = torchvision.models.resnet18(num_classes=10)
m.load_state_dict(sd, strict=True)
m.eval()
with torch.no_grad():
    z = m(io['x'])
print(json.dumps({'meta': meta, 'n': len(sd), 'diff': (z - io['y']).abs().max().item(), 'scale': io['y'].abs().max().item(),
                  'zeros': int((m.layer4[1].conv2.weight == 0).sum())}))
`, [out, path.join(dir, 'io.safetensors')]).trim().split('\n').pop()!) as { meta: Record<string, string>; n: number; diff: number; scale: number; zeros: number };
    expect(res.meta).toEqual({ format: 'pt', model: 'resnet18', epoch: '1', step: String(r.position.step) });
    expect(res.n).toBe(r.tensors);
    expect(res.scale).toBeGreaterThan(0.01);
    expect(res.diff).toBeLessThan(1e-4 * Math.max(1, res.scale));
    expect(pruned).toBeGreaterThan(0);
    expect(res.zeros).toBe(pruned);
  });

  it("float16 and bfloat16 exports hold torch's rounding of the float32 export; integer buffers stay int64", () => {
    const f32 = path.join(dir, 'f32.safetensors');
    exportRun(run, { out: f32 });
    for (const dtype of ['float16', 'bfloat16'] as const) {
      const out = path.join(dir, `${dtype}.safetensors`);
      exportRun(run, { out, dtype });
      const res = JSON.parse(runPython(String.raw`${LOAD2}
import sys
_, a = load2(sys.argv[1])
_, b = load2(sys.argv[2])
dt = getattr(torch, sys.argv[3])
bad = [k for k in a if (a[k].dtype == torch.float32 and (b[k].dtype != dt or not torch.equal(a[k].to(dt), b[k])))
       or (a[k].dtype != torch.float32 and (b[k].dtype != a[k].dtype or not torch.equal(a[k], b[k])))]
print(json.dumps({'bad': bad, 'ints': sorted({str(t.dtype) for t in b.values() if not t.is_floating_point()}), 'n': len(b)}))
`, [f32, out, dtype]).trim().split('\n').pop()!) as { bad: string[]; ints: string[]; n: number };
      expect(res.bad).toEqual([]);
      expect(res.ints).toEqual(['torch.int64']);
      expect(res.n).toBeGreaterThan(100);
    }
  });
});

describe('exportRun refuses bad arguments, writing nothing', () => {
  it('names each', () => {
    const ckpt = path.join(run, 'checkpoint.safetensors');
    const before = fs.readFileSync(ckpt);
    expect(() => exportRun(run, { out: dir })).toThrow(`Expected a file path (this is a folder) for out but received '${dir}' of type string`);
    expect(() => exportRun(run, { out: ckpt })).toThrow('Expected a file other than the checkpoint it is exported from for out');
    expect(() => exportRun(run, { out: path.join(ckpt, 'x') })).toThrow(/^Expected a path that can be read \(ENOTDIR: not a directory, stat .*\) for out but received/);
    expect(() => exportRun(run, { out: path.join(dir, 'x.safetensors'), dtype: 'int8' as never })).toThrow("Expected one of float32, float16, bfloat16 for dtype but received 'int8' of type string");
    expect(() => exportRun(run, { out: path.join(dir, 'x.safetensors'), epoch: 4 })).toThrow(/^Expected one of the epochs whose end .* holds a checkpoint of \(1: /);
    expect(() => exportRun(data, { out: path.join(dir, 'x.safetensors') })).toThrow('Expected a run directory (a folder holding config.json) for runDir');
    expect(() => exportRun(run, undefined as never)).toThrow('Expected string for out but received undefined');
    expect(() => exportRun(run, null as never)).toThrow('Expected options object for options but received null');
    expect(fs.existsSync(path.join(dir, 'x.safetensors'))).toBe(false);
    expect(fs.readFileSync(ckpt).equals(before)).toBe(true);
  });
});

describe('signin-torch export', () => {
  it('writes the file, says what it wrote and how torchvision loads it', async () => {
    const out = path.join(dir, 'cli.safetensors');
    fs.writeFileSync(out, 'an older export');
    const r = await cli(['export', run, '--out', out, '--dtype', 'float16']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const size = fs.statSync(out).size;
    expect(r.out).toMatch(new RegExp(`^wrote \\d+ tensors \\(${size} bytes\\) of resnet18 at epoch 1, step \\d+, to ${out.replace(/[.]/g, '\\.')}\n`));
    expect(r.out).toContain(`in PyTorch: torchvision.models.resnet18(num_classes=10).load_state_dict(safetensors.torch.load_file("${out}"))\n`);
    const bad = await cli(['export', run, '--out', out, '--dtype', 'int8']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^error: option '--dtype <dtype>' argument 'int8' is invalid/);
    expect(fs.statSync(out).size).toBe(size);
  });
});
