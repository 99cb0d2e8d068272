/** torch.nn for signin-torch: Module, layers, masked layers, functional ops, init, safetensors. */
export { Module } from './module';
export type { StateDict, LoadResult } from './module';
export * as F from './functional';
export type {
  Reduction, IntOrPair, Conv2dOptions, BatchNormOptions, MaxPool2dOptions, AvgPool2dOptions, CrossEntropyOptions, NllLossOptions,
  MseLossOptions,
} from './functional';
export * as init from './init';
export type { Nonlinearity, FanMode, KaimingOptions, XavierOptions } from './init';
export { Linear } from './linear';
export type { LinearOptions } from './linear';
export { Conv2d } from './conv';
export type { Conv2dLayerOptions } from './conv';
export { BatchNormBase, BatchNorm1d, BatchNorm2d } from './batchnorm';
export type { BatchNormLayerOptions, BatchNormSync } from './batchnorm';
export { ReLU, LeakyReLU, Tanh, Sigmoid, Softmax, type LeakyReLUOptions } from './activation';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d } from './pooling';
export { Sequential, Identity, Flatten, Dropout } from './container';
export {
  MaskedConv2d, MaskedLinear, maskedLayers, isMaskedLayer, MASK_BUFFER,
} from './masked';
export type { MaskedLayer, WeightParametrization } from './masked';
export {
  saveSafetensors, loadSafetensors, loadSafetensorsWithMetadata, loadSafetensorsHeader,
  encodeSafetensors, decodeSafetensors, decodeSafetensorsWithMetadata, decodeSafetensorsHeader,
} from './safetensors';
export type { SafetensorsDtype, SafetensorsEntry, SafetensorsHeader, SafetensorsContents } from './safetensors';
export { LayerNorm, layerNorm } from './layer-norm';
export type { LayerNormOptions } from './layer-norm';
export { GELU, gelu } from './gelu';
export type { GeluApproximate, GeluOptions } from './gelu';
export { MultiHeadAttention, scaledDotProductAttention, attentionKernel } from './attention';
export type { AttentionKernel, AttentionOptions, MultiHeadAttentionOptions } from './attention';
export { PatchEmbed } from './patch-embed';
export type { PatchEmbedOptions } from './patch-embed';
export { DropPath, dropPath } from './drop-path';
