/**
 * The ViT zoo entries and the AdamW config route: DeiT's parameter counts (timm's published
 * numbers) and timm's state-dict names, the committed experiment configs, and optimizer.name
 * 'adamw' building an AdamW with the DeiT no-decay group.
 */
import * as path from 'node:path';
import { AdamW, createModel, loadSweepFile, nonDefaultFields, parseConfig, resolveModelOptions } from '../../src';
import { optimizerFor } from '../../src/experiments/optimizer';

const CONFIGS = path.join(__dirname, '..', '..', 'examples', 'configs');

/** timm's state-dict keys of a ViT with class token, without our weight_mask buffers. */
function timmKeys(depth: number): string[] {
  const keys = ['cls_token', 'pos_embed', 'patch_embed.proj.weight', 'patch_embed.proj.bias'];
  for (let i = 0; i < depth; i++) {
    for (const m of ['norm1', 'attn.qkv', 'attn.proj', 'norm2', 'mlp.fc1', 'mlp.fc2']) keys.push(`blocks.${i}.${m}.weight`, `blocks.${i}.${m}.bias`);
  }
  return [...keys, 'norm.weight', 'norm.bias', 'head.weight', 'head.bias'];
}

describe('ViT zoo', () => {
  test("deit_tiny has timm's 5,717,416 parameters under timm's names (plus one mask per masked layer)", () => {
    const m = createModel('deit_tiny');
    expect(m.numParameters()).toBe(5_717_416);
    const keys = [...m.stateDict().keys()];
    expect(keys.filter((k) => !k.endsWith('weight_mask')).sort()).toEqual(timmKeys(12).sort());
    expect(m.prunableParameterNames()).toHaveLength(1 + 12 * 4 + 1);
    expect(m.outputLayerName).toBe('head');
    m.dispose();
  });

  test('deit_small fixes the DeiT-S architecture; its count follows 12·(12D² + 13D) + the stem and head', () => {
    const o = resolveModelOptions('deit_small');
    expect(o).toMatchObject({ patchSize: 16, embedDim: 384, depth: 12, numHeads: 6, inputSize: 224, numClasses: 1000 });
    const d = 384;
    // timm reports 22,050,664 for deit_small_patch16_224.
    expect(3 * 16 * 16 * d + d + d + 197 * d + 12 * (12 * d * d + 13 * d) + 2 * d + d * 1000 + 1000).toBe(22_050_664);
    expect(() => resolveModelOptions('deit_small', { embedDim: 192 })).toThrow('(fixed by the model name deit_small)');
  });
});

describe('AdamW in experiment configs', () => {
  test("optimizer.name 'adamw' builds an AdamW whose no-decay group holds norms, biases, pos_embed and cls_token", () => {
    const config = parseConfig({
      dataset: { name: 'fashion_mnist' }, model: { name: 'vit', options: { depth: 1, embedDim: 8, numHeads: 2 } }, epochs: 1,
      optimizer: { name: 'adamw', lr: 0.001, weightDecay: 0.05, excludeBnAndBias: true },
    });
    const model = createModel('vit', { depth: 1, embedDim: 8, numHeads: 2 });
    const opt = optimizerFor(config, model);
    expect(opt).toBeInstanceOf(AdamW);
    const groups = (opt as AdamW).paramGroups;
    // Decay: the patch conv, qkv, proj, fc1, fc2 and head weights. No decay: their 6 biases, 3 LayerNorms, 2 tokens.
    expect(groups.map((g) => [g.weightDecay, g.numParams])).toEqual([[0.05, 6], [0, 6 + 2 * 3 + 2]]);
    opt.dispose();
    model.dispose();
  });

  test('the new optimizer fields keep the hash of configs that leave them at their defaults', () => {
    const c = parseConfig({ dataset: { name: 'cifar10' }, model: { name: 'cifar_resnet_20' }, epochs: 1 });
    expect(nonDefaultFields(c)).toEqual({ dataset: { name: 'cifar10' }, model: { name: 'cifar_resnet_20' }, epochs: 1 });
  });

  test('the committed ViT/DeiT sweeps parse: plain vs Sign-In on AdamW', () => {
    const small = loadSweepFile(path.join(CONFIGS, 'fashion-mnist-vit-90.json')).runs;
    expect(small).toHaveLength(6);
    expect(small.map((r) => [r.config.signin.enabled, r.config.seed])).toEqual([[false, 0], [true, 0], [false, 1], [true, 1], [false, 2], [true, 2]]);
    expect(small[0].config).toMatchObject({ model: { name: 'vit' }, optimizer: { name: 'adamw' }, pruning: { method: 'random', distribution: 'erk', sparsity: 0.9 } });
    const deit = loadSweepFile(path.join(CONFIGS, 'imagenet-deit-small-90.json')).runs;
    expect(deit.map((r) => r.config.signin.enabled)).toEqual([false, true]);
    expect(deit[0].config).toMatchObject({ model: { name: 'deit_small' }, optimizer: { name: 'adamw', weightDecay: 0.05 }, labelSmoothing: 0.1, epochs: 300 });
  });
});
