/**
 * AdamW against torch.optim.AdamW (/usr/bin/python3, float64): dense and masked parameters over
 * several steps; Sign-In + AdamW against autograd through θ = mask ⊙ m ⊙ w with torch.optim.AdamW
 * on the leaves m and w; and one full training step of a pruned Sign-In ViT (Random-ERK, label
 * smoothing, the DeiT no-decay groups) against the same step written in PyTorch.
 */
import {
  AdamW, F, InvalidArgumentError, MaskedLinear, adamwKinds, applySignIn, createModel, isNormBiasOrToken, manualSeed, noGrad,
  pruneModel, randint, randn, registerAdamWKind, resetSignIn, signinFactors, signinParameters, tensor, tidy, zeros, type Tensor,
} from '../../src';
import { describeWithTorch, expectClose, runTorch } from '../helpers/torch-ref';
import { VIT_MODULES } from './vit-reference';

function rand64(shape: number[], scale = 1): Tensor {
  return tidy(() => randn(shape, { dtype: 'float64' }).mul(scale));
}

function mask(shape: number[], density: number): Tensor {
  return tidy(() => randn(shape, { dtype: 'float64' }).abs().lt(1.6449 * density).to('float64'));
}

function zerosOutside(t: Tensor, m: Tensor): boolean {
  return tidy(() => t.mul(m.eq(0).to(t.dtype)).abs().sum().item()) === 0;
}

describeWithTorch('AdamW against torch.optim.AdamW (float64)', () => {
  test('two groups, a masked parameter and a skipped gradient, 6 steps: parameters and both moments', () => {
    manualSeed(1);
    const shapes = [[5, 4], [7], [3, 2, 2]];
    const m0 = mask([5, 4], 0.4);
    const params = shapes.map((s, i) => tidy(() => (i === 0 ? rand64(s).mul(m0) : rand64(s))).requiresGrad_(true));
    const steps = 6;
    const grads = Array.from({ length: steps }, () => shapes.map((s) => rand64(s)));
    const inputs: Record<string, Tensor> = { m0 };
    params.forEach((p, i) => { inputs[`p${i}`] = p; });
    grads.forEach((gs, s) => gs.forEach((g, i) => { inputs[`g${i}_${s}`] = g; }));
    const ref = runTorch(`
      ps = [inp['p%d' % i].clone().requires_grad_() for i in range(3)]
      opt = torch.optim.AdamW([{'params': [ps[0], ps[2]]}, {'params': [ps[1]], 'weight_decay': 0.0, 'lr': 0.02}],
                              lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)
      for s in range(${steps}):
          for i, p in enumerate(ps):
              g = inp['g%d_%d' % (i, s)].clone()
              p.grad = None if (i == 2 and s == 0) else (g * inp['m0'] if i == 0 else g)
          opt.step()
      for i, p in enumerate(ps):
          out['p%d' % i] = p
          out['a%d' % i] = opt.state[p]['exp_avg']
          out['b%d' % i] = opt.state[p]['exp_avg_sq']
    `, inputs);
    const opt = new AdamW([
      { params: [['w0', params[0]], ['w2', params[2]]] },
      { params: [['b1', params[1]]], weightDecay: 0, lr: 0.02 },
    ], { lr: 0.01, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.1, masks: new Map([[params[0], m0]]) });
    for (let s = 0; s < steps; s++) {
      params.forEach((p, i) => { p.grad = i === 2 && s === 0 ? undefined : grads[s][i].clone(); });
      opt.step();
    }
    const state = opt.stateDict();
    params.forEach((p, i) => {
      const name = ['w0', 'b1', 'w2'][i];
      expectClose(p, ref.out[`p${i}`], 1e-12, 1e-14);
      expectClose(state.get(`${name}.exp_avg`)!, ref.out[`a${i}`], 1e-12, 1e-14);
      expectClose(state.get(`${name}.exp_avg_sq`)!, ref.out[`b${i}`], 1e-12, 1e-14);
    });
    expect(state.get('w2.step')!.item()).toBe(steps - 1);
    expect(zerosOutside(params[0], m0)).toBe(true);
    expect(zerosOutside(state.get('w0.exp_avg')!, m0)).toBe(true);
    // The lr setter keeps the groups' ratio (a schedule on the base lr).
    opt.lr = 0.005;
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.005, 0.01]);
    opt.dispose();
  });

  test('Sign-In + AdamW equals torch.optim.AdamW on the leaves m, w of θ = mask ⊙ m ⊙ w (autograd), 5 steps', () => {
    manualSeed(2);
    const layer = new MaskedLinear(6, 5, { bias: false }).to('float64');
    const mk = mask([5, 6], 0.5);
    layer.setMask(mk);
    applySignIn(layer, { beta: 0.5 });
    const s0 = signinFactors(layer)!;
    const inputs: Record<string, Tensor> = { m: s0.m.clone(), w: s0.w.clone(), mask: mk };
    const steps = 5;
    const xs = Array.from({ length: steps }, () => rand64([4, 6]));
    const rs = Array.from({ length: steps }, () => rand64([4, 5]));
    xs.forEach((x, s) => { inputs[`x${s}`] = x; inputs[`r${s}`] = rs[s]; });
    const ref = runTorch(`
      m = inp['m'].clone().requires_grad_()
      w = inp['w'].clone().requires_grad_()
      opt = torch.optim.AdamW([m, w], lr=0.03, weight_decay=0.05)
      for s in range(${steps}):
          opt.zero_grad()
          theta = inp['mask'] * m * w
          ((inp['x%d' % s] @ theta.t()) * inp['r%d' % s]).sum().backward()
          opt.step()
      out['m'] = m
      out['w'] = w
      out['theta'] = inp['mask'] * m * w
    `, inputs);
    const opt = AdamW.forModel(layer, { lr: 0.03, weightDecay: 0.05 });
    expect(opt.paramGroups[0].numEntries).toEqual({ signin: 1 });
    for (let s = 0; s < steps; s++) {
      tidy(() => layer.forward(xs[s]).mul(rs[s]).sum().backward());
      opt.step();
      opt.zeroGrad();
    }
    const s1 = signinFactors(layer)!;
    expectClose(s1.m, ref.out.m, 1e-11, 1e-13);
    expectClose(s1.w, ref.out.w, 1e-11, 1e-13);
    expectClose(layer.weight, ref.out.theta, 1e-11, 1e-13);
    // The layer invariant: θ == m ⊙ w exactly, w and θ exactly 0 outside the mask.
    expect(tidy(() => layer.weight.sub(s1.m.mul(s1.w)).abs().max().item())).toBe(0);
    expect(zerosOutside(s1.w, mk) && zerosOutside(layer.weight, mk)).toBe(true);
    // State-dict keys are named by θ's parameter name; a second optimizer restores moments and count.
    const saved = new Map([...opt.stateDict()].map(([k, t]) => [k, t.clone()]));
    expect([...saved.keys()]).toEqual(['weight.m_exp_avg', 'weight.m_exp_avg_sq', 'weight.w_exp_avg', 'weight.w_exp_avg_sq', 'weight.step']);
    expect(saved.get('weight.step')!.item()).toBe(steps);
    const again = AdamW.forModel(layer, { lr: 0.03, weightDecay: 0.05 });
    again.loadStateDict(saved);
    expect(again.stateDict().get('weight.step')!.item()).toBe(steps);
    expect(again.entryBuffers(layer.weight)!.w.toArray()).toEqual(saved.get('weight.w_exp_avg')!.toArray());
    again.dispose();
    // The reset works through entryBuffers: m² − w² = β again, θ kept, first moments zeroed.
    const before = layer.weight.clone();
    resetSignIn(layer, { optimizer: opt, zeroMomentum: true });
    expectClose(tidy(() => s1.m.square().sub(s1.w.square())), tidy(() => s1.m.mul(0).add(0.5)), 1e-12, 1e-12);
    expectClose(layer.weight, before, 1e-14, 1e-15);
    expect(tidy(() => opt.entryBuffers(layer.weight)!.m.abs().sum().item())).toBe(0);
    opt.dispose();
    layer.dispose();
  });

  test('one training step of a Random-ERK 90% Sign-In ViT with AdamW and label smoothing equals the PyTorch step', async () => {
    manualSeed(4);
    const arch = { size: 8, cin: 1, patch: 4, dim: 8, heads: 2, hidden: 16, depth: 2, classes: 4 };
    const model = createModel('vit', {
      inputSize: arch.size, inChannels: arch.cin, numClasses: arch.classes, patchSize: arch.patch, embedDim: arch.dim,
      depth: arch.depth, numHeads: arch.heads, mlpRatio: 2,
    }).to('float64');
    await pruneModel(model, { method: 'random', sparsity: 0.9, distribution: 'erk' });
    noGrad(() => {
      for (const [n, p] of model.namedParameters()) if (p.ndim <= 1 || n === 'pos_embed' || n === 'cls_token') tidy(() => p.add_(rand64(p.shape, 0.1)));
    });
    applySignIn(model, { beta: 1 });
    const x = rand64([6, arch.cin, arch.size, arch.size]);
    const y = tidy(() => randint(0, arch.classes, [6]));
    const inputs: Record<string, Tensor> = { x, y: y.to('float64') };
    const signinNames: string[] = [];
    for (const s of signinParameters(model)) {
      signinNames.push(s.name);
      inputs[`m:${s.name}`] = s.m.clone();
      inputs[`w:${s.name}`] = s.w.clone();
      inputs[`mask:${s.name}`] = s.mask;
    }
    expect(signinNames).toEqual(expect.arrayContaining(['patch_embed.proj.weight', 'blocks.0.attn.qkv.weight', 'blocks.1.mlp.fc2.weight', 'head.weight']));
    for (const [n, p] of model.namedParameters()) if (!signinNames.includes(n)) inputs[`p:${n}`] = p.clone();
    const ref = runTorch(`
      a = json.loads(${JSON.stringify(JSON.stringify(arch))})
      ${VIT_MODULES.replace(/\n/g, '\n      ')}
      from torch.nn.utils.stateless import functional_call
      model = ViT(a).double()
      dense = {k[2:]: v.clone().requires_grad_() for k, v in inp.items() if k.startswith('p:')}
      ms = {k[2:]: v.clone().requires_grad_() for k, v in inp.items() if k.startswith('m:')}
      ws = {k[2:]: v.clone().requires_grad_() for k, v in inp.items() if k.startswith('w:')}
      decay = [ms[k] for k in ms] + [ws[k] for k in ws] + [p for k, p in dense.items() if p.ndim > 1 and k not in ('pos_embed', 'cls_token')]
      no_decay = [p for k, p in dense.items() if p.ndim <= 1 or k in ('pos_embed', 'cls_token')]
      opt = torch.optim.AdamW([{'params': decay}, {'params': no_decay, 'weight_decay': 0.0}], lr=1e-3, weight_decay=0.05)
      params = dict(dense)
      for k in ms:
          params[k] = inp['mask:' + k] * ms[k] * ws[k]
      logits = functional_call(model, params, (inp['x'],))
      F.cross_entropy(logits, inp['y'].long(), label_smoothing=0.1).backward()
      opt.step()
      for k, p in dense.items():
          out['p:' + k] = p
      for k in ms:
          out['theta:' + k] = inp['mask:' + k] * ms[k] * ws[k]
    `, inputs);
    const opt = AdamW.forModel(model, { lr: 1e-3, weightDecay: 0.05, noWeightDecay: isNormBiasOrToken });
    tidy(() => F.crossEntropy(model.forward(x), y, { labelSmoothing: 0.1 }).backward());
    opt.step();
    for (const [n, p] of model.namedParameters()) {
      expectClose(p, ref.out[signinNames.includes(n) ? `theta:${n}` : `p:${n}`], 1e-10, 1e-12);
    }
    for (const [, layer] of model.maskedLayers()) expect(zerosOutside(layer.weight, layer.mask)).toBe(true);
    opt.dispose();
    model.dispose();
  });
});

describe('AdamW: bad options and state dicts', () => {
  test('bad hyperparameters name the option', () => {
    const p = tensor([1, 2, 3]).requiresGrad_(true);
    expect(() => new AdamW([p], { lr: -1 })).toThrow(InvalidArgumentError);
    expect(() => new AdamW([p], { lr: 0.1, betas: [0.9, 1] })).toThrow('Expected a pair of numbers in [0, 1) for betas');
    expect(() => new AdamW([{ params: [p], eps: -1 }], { lr: 0.1 })).toThrow('for params[0].eps');
    expect(() => new AdamW([p, p], { lr: 0.1 })).toThrow('Expected a tensor not already given to this optimizer for params[1]');
    expect(() => new AdamW([p], { lr: 0.1, masks: new Map([[p, zeros([2])]]) })).toThrow('Expected a Tensor of shape [3] for the mask of group0.param0 but received');
    expect(() => AdamW.forModel(undefined as never, { lr: 0.1 })).toThrow('Expected Module for model but received undefined');
  });

  test('AdamW kinds: a taken or malformed key is refused, a bad Sign-In entry is named', () => {
    const kind = { key: 'signin', entry: () => { throw new Error('unused'); }, fromModel: () => [] };
    expect(adamwKinds().map((k) => k.key)).toContain('signin');
    expect(() => registerAdamWKind(kind)).toThrow('Expected a key not already registered for kind.key');
    expect(() => registerAdamWKind({ ...kind, key: 'params' })).toThrow("Expected a camelCase name other than 'params' for kind.key");
    const t = tensor([1, 2, 3]).requiresGrad_(true);
    const bad = { name: 'fc.weight', theta: t, m: tensor([1, 2, 3]), w: tensor([1, 2, 3]), mask: tensor([1, 1]) };
    expect(() => new AdamW([{ signin: [bad] }], { lr: 0.1 })).toThrow("Expected a Tensor of θ's shape [3] for fc.weight (mask)");
    expect(() => new AdamW([{ signin: 3 as never }], { lr: 0.1 })).toThrow('for params[0].signin');
  });

  test('loadStateDict restores a stateDict() and refuses a mismatched one without writing', () => {
    const a = tensor([1, 2, 3], { dtype: 'float64' }).requiresGrad_(true);
    const opt = new AdamW([['a', a]], { lr: 0.1 });
    a.grad = tensor([0.5, -1, 2], { dtype: 'float64' });
    opt.step();
    const saved = new Map([...opt.stateDict()].map(([k, t]) => [k, t.clone()]));
    const b = tensor([1, 2, 3], { dtype: 'float64' }).requiresGrad_(true);
    const other = new AdamW([['a', b]], { lr: 0.1 });
    const bad = new Map(saved);
    bad.set('a.exp_avg', tensor([1, 2], { dtype: 'float64' }));
    bad.set('a.extra', tensor([1]));
    expect(() => other.loadStateDict(bad)).toThrow('Error(s) in loading the AdamW state dict');
    expect(other.stateDict().get('a.exp_avg_sq')!.toArray()).toEqual([0, 0, 0]);
    other.loadStateDict(saved);
    for (const [k, t] of saved) expect(other.stateDict().get(k)!.toArray()).toEqual(t.toArray());
    opt.dispose();
    other.dispose();
  });
});
