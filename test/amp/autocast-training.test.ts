/**
 * A few SGD steps under CPU bfloat16 autocast against the same steps in PyTorch on the same
 * libtorch (/usr/bin/python3's 1.13; the GPU machine's 2.x in its run) (torch.autocast('cpu', dtype=torch.bfloat16), torch.optim.SGD with momentum and weight decay)
 * from the same weights and batches: a small masked CNN and a small ViT (layer norm, attention,
 * GELU, the class token's cat). The losses agree within bfloat16 tolerance, and parameters and
 * gradients stay float32. Then the fused masked SGD and Sign-In steps: stepping inside autocast
 * changes nothing (they are element-wise float32 updates of float32 master weights).
 */
import {
  F, SGD, applySignIn, autocast, createModel, manualSeed, noGrad, rand, tidy, type Module,
} from '../../src';
import { describePytorch, fromPy, randnArray, runPytorch, seeded, toPy, type PyArray } from '../helpers/pytorch';
import { TOY_MODEL_PYTHON, createToyModel } from '../helpers/toy-model';
import { VIT_MODULES } from '../vit/vit-reference';

const STEPS = 4;
const HYPER = { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 };

/** The PyTorch side: `model` is built by the snippet; its steps mirror train() below. */
const TRAIN = `
model.load_state_dict({k[3:]: v.float() for k, v in inp.items() if k.startswith('sd.') and not k.endswith('weight_mask')}, strict=False)
model.train()
opt = torch.optim.SGD(model.parameters(), lr=args['lr'], momentum=args['momentum'], weight_decay=args['weightDecay'])
losses = []
for i in range(args['steps']):
    x, y = inp['x%d' % i].float(), inp['y%d' % i].long()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    opt.zero_grad()
    losses.append(loss.item())
res = {'losses': losses, 'dtypes': sorted({str(p.dtype) for p in model.parameters()})}
`;

const TOY = `
import torch.nn as nn
import torch.nn.functional as F
${TOY_MODEL_PYTHON}
model = ToyNet(in_channels=3, width=8, num_classes=10)
${TRAIN}`;

// The zoo's ViT: exact GELU, attention through the fused kernel its 'auto' takes (1.13: the precursor).
const VIT = `
import torch.nn as nn
import torch.nn.functional as F
${VIT_MODULES}
def attention(self, x):
    B, N, C = x.shape
    q, k, v = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
    if hasattr(F, 'scaled_dot_product_attention'):
        o = F.scaled_dot_product_attention(q, k, v)
    else:
        o = torch.ops.aten._scaled_dot_product_attention(q, k, v, None, 0.0, False, False)[0]
    return self.proj(o.transpose(1, 2).reshape(B, N, C))
Attention.forward = attention
Mlp.forward = lambda self, x: self.fc2(F.gelu(self.fc1(x)))
model = ViT(args['arch'])
${TRAIN}`;

const ARCH = { size: 8, cin: 3, patch: 4, dim: 16, heads: 2, hidden: 32, depth: 2, classes: 10 };

function batches(shape: number[], seed: number): Record<string, PyArray> {
  const r = seeded(seed);
  const out: Record<string, PyArray> = {};
  for (let i = 0; i < STEPS; i++) {
    out[`x${i}`] = randnArray(shape, r);
    out[`y${i}`] = { shape: [shape[0]], data: Float64Array.from({ length: shape[0] }, () => Math.floor(r() * 10)) };
  }
  return out;
}

/** Our steps: forward and loss under autocast, backward, the fused SGD step; the losses. */
function train(model: Module, data: Record<string, PyArray>, optimizer: SGD, stepInsideAutocast = false): number[] {
  const losses: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    tidy(() => {
      const x = fromPy(data[`x${i}`]);
      const y = fromPy(data[`y${i}`], 'int64');
      autocast({ device: 'cpu' }, () => {
        const loss = F.crossEntropy(model.forward(x), y);
        expect(loss.dtype).toBe('float32');
        loss.backward();
        losses.push(loss.item());
        if (stepInsideAutocast) optimizer.step();
      });
      for (const p of model.parameters()) expect(p.grad?.dtype ?? 'float32').toBe('float32');
      if (!stepInsideAutocast) optimizer.step();
      optimizer.zeroGrad();
    });
  }
  return losses;
}

function referenceInputs(model: Module, data: Record<string, PyArray>): Record<string, PyArray> {
  const inputs: Record<string, PyArray> = { ...data };
  for (const [k, t] of model.stateDict()) inputs[`sd.${k}`] = toPy(t);
  return inputs;
}

function expectLossesClose(ours: number[], theirs: number[]): void {
  expect(ours).toHaveLength(theirs.length);
  // bfloat16 activations: ~3 significant digits, compounded over a few steps.
  ours.forEach((l, i) => expect(Math.abs(l - theirs[i])).toBeLessThanOrEqual(2e-2 * Math.abs(theirs[i])));
}

describePytorch('training steps under CPU bf16 autocast against PyTorch', () => {
  it('a small masked CNN: losses and float32 weights', () => {
    manualSeed(3);
    const model = createToyModel({ inChannels: 3, width: 8 });
    const data = batches([8, 3, 12, 12], 31);
    const ref = runPytorch(TOY, referenceInputs(model, data), { ...HYPER, steps: STEPS }).res as { losses: number[]; dtypes: string[] };
    const losses = train(model, data, SGD.forModel(model, HYPER));
    expectLossesClose(losses, ref.losses);
    expect(ref.dtypes).toEqual(['torch.float32']);
    expect([...new Set(model.parameters().map((p) => p.dtype))]).toEqual(['float32']);
    model.dispose();
  });

  it('a small ViT (layer norm, attention, GELU): losses', () => {
    manualSeed(4);
    const model = createModel('vit', {
      inputSize: ARCH.size, inChannels: ARCH.cin, numClasses: ARCH.classes, patchSize: ARCH.patch, embedDim: ARCH.dim,
      depth: ARCH.depth, numHeads: ARCH.heads, mlpRatio: ARCH.hidden / ARCH.dim,
    });
    // The init's zero class token and position embedding would hide a mix-up of the cat.
    noGrad(() => {
      for (const n of ['cls_token', 'pos_embed']) tidy(() => model.getParameter(n)!.copy_(rand(model.getParameter(n)!.shape).sub(0.5)));
    });
    const data = batches([6, ARCH.cin, ARCH.size, ARCH.size], 41);
    const ref = runPytorch(VIT, referenceInputs(model, data), { ...HYPER, steps: STEPS, arch: ARCH }).res as { losses: number[] };
    const losses = train(model, data, SGD.forModel(model, HYPER));
    expectLossesClose(losses, ref.losses);
    expect([...new Set(model.parameters().map((p) => p.dtype))]).toEqual(['float32']);
    model.dispose();
  });
});

describe('fused masked SGD and Sign-In steps under autocast', () => {
  /** Model state (θ, m, w, masks, BN statistics) and optimizer state after the steps. */
  function run(signin: boolean, stepInsideAutocast: boolean): { losses: number[]; state: Map<string, Float64Array>; dtypes: Set<string> } {
    manualSeed(9);
    const model = createToyModel({ inChannels: 3, width: 8 });
    noGrad(() => {
      for (const [k, t] of model.stateDict()) if (k.endsWith('weight_mask')) tidy(() => t.copy_(rand(t.shape).lt(0.5)));
    });
    if (signin) applySignIn(model);
    const optimizer = SGD.forModel(model, HYPER);
    const losses = train(model, batches([8, 3, 12, 12], 51), optimizer, stepInsideAutocast);
    const state = new Map<string, Float64Array>();
    const dtypes = new Set<string>();
    for (const [k, t] of [...model.stateDict(), ...optimizer.stateDict()]) {
      // The optimizer's step counts are float64 by design; everything else is a float32 tensor.
      if (!k.endsWith('.step') && t.dtype !== 'int64') dtypes.add(t.dtype);
      state.set(k, Float64Array.from(tidy(() => t.to('float64').data() as Float64Array)));
    }
    optimizer.dispose?.();
    model.dispose();
    return { losses, state, dtypes };
  }

  it.each([false, true])('Sign-In %s: the same state whether step() runs inside autocast or not, all float32', (signin) => {
    const outside = run(signin, false);
    const inside = run(signin, true);
    expect(inside.losses).toEqual(outside.losses);
    expect([...inside.state.keys()]).toEqual([...outside.state.keys()]);
    for (const [k, v] of inside.state) expect([k, Array.from(v)]).toEqual([k, Array.from(outside.state.get(k)!)]);
    expect(inside.dtypes).toEqual(new Set(['float32']));
    if (signin) expect([...inside.state.keys()]).toEqual(expect.arrayContaining(['conv1.weight_m', 'conv1.weight_w', 'fc.weight_w']));
  });
});
