/**
 * Literal registry names and model options are type-checked: every `@ts-expect-error` below must
 * be an error for `npm run typecheck` to pass (a typo that compiled would fail it). At run time,
 * the typed lists are compared with the registries, so the types cannot drift from them.
 */
import { createDataset, datasetNames, type KnownDatasets } from '../../src/data';
import { createModel, getModelEntry, modelNames, modelOptions, type ModelOptionsByName } from '../../src/models';
import { pruneModel, prunerNames, type PrunerOptionsMap } from '../../src/pruning';
import type { Module } from '../../src/nn/module';

/** Compiled, never called: the calls only have to type-check (or fail to, where marked). */
export function typeChecks(model: Module, dynamicName: string): void {
  createModel('cifar_resnet_20', { numClasses: 100 });
  createModel('cifar_resnet_1202', { width: 32 }); // a member of the cifar_resnet_<6n+2> family
  createModel('wrn_28_10', { dropRate: 0.3 });
  createModel('lenet5', { batchNorm: true });
  createModel(dynamicName, { anything: 1 }); // a name from a config file: checked at run time
  // @ts-expect-error a misspelt model name
  createModel('resnet51');
  // @ts-expect-error a misspelt option
  createModel('cifar_resnet_20', { numClases: 10 });
  // @ts-expect-error an option of another model
  createModel('lenet5', { depth: 20 });
  // @ts-expect-error an option the name fixes
  createModel('wrn_28_10', { widenFactor: 4 });
  // @ts-expect-error a value outside the option's literal union
  createModel('cifar_resnet', { shortcut: 'identity' });

  pruneModel(model, { method: 'random', sparsity: 0.9, scope: 'layerwise', distribution: 'erk' });
  pruneModel(model, { method: 'synflow', sparsity: 0.9, prunerOptions: { dtype: 'float64' } });
  pruneModel(model, { method: dynamicName, sparsity: 0.9 });
  // @ts-expect-error a misspelt pruner
  pruneModel(model, { method: 'rnadom', sparsity: 0.9 });
  // @ts-expect-error a misspelt distribution
  pruneModel(model, { method: 'random', sparsity: 0.9, distribution: 'erdos_renyi' });
  // @ts-expect-error an option of another pruner
  pruneModel(model, { method: 'synflow', sparsity: 0.9, prunerOptions: { temperature: 200 } });

  createDataset('fashion_mnist', { train: false });
  createDataset(dynamicName);
  // @ts-expect-error a misspelt dataset
  createDataset('fashion-mnist');
}

/** Every key of a type, listed once: the compiler checks the list is complete and exact. */
const modelKeys: Record<keyof ModelOptionsByName, true> = {
  cifar_resnet: true, cifar_resnet_20: true, cifar_resnet_32: true, cifar_resnet_44: true, cifar_resnet_56: true,
  cifar_resnet_110: true, resnet18: true, resnet34: true, resnet50: true, cifar_resnet18: true, cifar_resnet34: true,
  cifar_resnet50: true, vgg11_bn: true, vgg13_bn: true, vgg16_bn: true, vgg19_bn: true, wide_resnet: true, wrn_16_8: true,
  wrn_28_10: true, wrn_40_4: true, lenet5: true, mlp: true,
  vit: true, deit_tiny: true, deit_small: true,
};
type OptionKeys = { [N in keyof ModelOptionsByName]-?: Record<keyof Required<ModelOptionsByName[N]>, true> };
const input = { numClasses: true, inChannels: true, inputSize: true, init: true } as const;
const cifarResNet = { ...input, width: true, shortcut: true, zeroInitResidual: true } as const;
const torchvision = { ...input, zeroInitResidual: true } as const;
const wrn = { ...input, dropRate: true } as const;
const vitCommon = {
  ...input, mlpRatio: true, qkvBias: true, dropRate: true, attnDropRate: true, dropPathRate: true, maskPatchEmbed: true,
} as const;
const optionKeys: OptionKeys = {
  cifar_resnet: { ...cifarResNet, depth: true }, cifar_resnet_20: cifarResNet, cifar_resnet_32: cifarResNet,
  cifar_resnet_44: cifarResNet, cifar_resnet_56: cifarResNet, cifar_resnet_110: cifarResNet, resnet18: torchvision,
  resnet34: torchvision, resnet50: torchvision, cifar_resnet18: torchvision, cifar_resnet34: torchvision, cifar_resnet50: torchvision,
  vgg11_bn: input, vgg13_bn: input, vgg16_bn: input, vgg19_bn: input, wide_resnet: { ...wrn, depth: true, widenFactor: true },
  wrn_16_8: wrn, wrn_28_10: wrn, wrn_40_4: wrn, lenet5: { ...input, batchNorm: true }, mlp: { ...input, hidden: true },
  vit: { ...vitCommon, patchSize: true, embedDim: true, depth: true, numHeads: true }, deit_tiny: vitCommon, deit_small: vitCommon,
};
const prunerKeys: Record<keyof PrunerOptionsMap, true> = { random: true, magnitude: true, snip: true, grasp: true, synflow: true };
const datasetKeys: Record<keyof KnownDatasets, true> = { fashion_mnist: true, mnist: true, cifar10: true, cifar100: true, imagenet: true };

describe('registry types match the registries', () => {
  it('model names', () => {
    expect(Object.keys(modelKeys).sort()).toEqual(modelNames().sort());
  });

  it('model option names (those a name fixes left out)', () => {
    for (const name of modelNames() as (keyof ModelOptionsByName)[]) {
      const fixed = Object.keys(getModelEntry(name).fixed ?? {});
      const registered = Object.keys(modelOptions(name)).filter((k) => !fixed.includes(k));
      expect({ name, keys: Object.keys(optionKeys[name]).sort() }).toEqual({ name, keys: registered.sort() });
    }
  });

  it('pruner and dataset names', () => {
    expect(Object.keys(prunerKeys).sort()).toEqual(prunerNames());
    expect(Object.keys(datasetKeys).sort()).toEqual([...datasetNames()].sort());
  });
});
