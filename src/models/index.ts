/** The model zoo: a registry of masked models by name, and the model classes themselves. */
export { Model } from './base';
export type { ModelInputOptions, ModelConfig } from './base';
export {
  createModel, modelNames, modelFamilies, modelOptions, resolveModelOptions, getModelEntry, registerModel, registerModelFamily,
} from './registry';
export type {
  ModelOptions, ModelName, ModelOptionsByName, ModelOptionsFor, CifarResNetModelOptions, WideResNetModelOptions, TorchvisionResNetModelOptions,
  ResolvedModelOptions, ModelEntry, ModelFamily, ModelOptionSpec, OptionCheck } from './registry';
export { ResNet, BasicBlock, Bottleneck, RESNET_LAYERS, projectionShortcut } from './resnet';
export type { ResNetOptions, BlockKind, BlockOptions, ResNetDepth } from './resnet';
export { CifarResNet, PaddingShortcut } from './cifar-resnet';
export type { CifarResNetOptions, CifarShortcut } from './cifar-resnet';
export { Vgg, VGG_PLANS } from './vgg';
export type { VggOptions, VggDepth } from './vgg';
export { WideResNet, WideBasicBlock } from './wide-resnet';
export type { WideResNetOptions } from './wide-resnet';
export { LeNet5 } from './lenet';
export type { LeNet5Options } from './lenet';
export { Mlp } from './mlp';
export type { MlpOptions } from './mlp';
export { loadPyTorchStateDict, pytorchStateDict } from './pytorch';
export { INIT_SCHEMES, applyInitScheme } from './init';
export type { InitScheme } from './init';
export { VisionTransformer, TransformerBlock } from './vit';
export type { VisionTransformerOptions } from './vit';
export type { VitModelOptions } from './registry';
