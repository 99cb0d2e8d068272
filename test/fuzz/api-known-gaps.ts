/**
 * Public entry points (src/index.ts exports) that the bounded API fuzz (fuzz.test.ts, every 20th
 * call) still sees throw an uncoded error (a TypeError or RangeError on junk arguments instead of
 * a ToolkitError naming the argument) or hang (a sparse array of length 2^32-1 walked element by
 * element). Open work for issue 10: each entry is a function to give argument checks and then
 * remove from here. The test fails on any entry point NOT listed (a new export or a regression),
 * and on any signal or memory blow-up whatever the name.
 */
export const API_KNOWN_GAPS: ReadonlySet<string> = new Set([
  'DatasetError', 'EmptyLayerError', 'F.invalidTensorArg', 'InvalidArgumentError', 'IssuesError',
  'ResNet', 'Tensor', 'UnknownNameError', 'Vgg',
  'applyInitScheme', 'apportion',
  'checkDatasetFiles',
  'decodeImage', 'decodeSafetensors',
  'decodeSafetensorsHeader', 'decodeSafetensorsWithMetadata',
  'innerScaling',
  'isNormOrBias', 'layerDensities', 'loadIdxDataset', 'loadMasks', 'loadPyTorchStateDict',
  'maskReport',
  'mergeSignIn', 'normalize',
  'prunableWeights',
  'pyramidalDensities', 'pytorchStateDict', 'randomResizedCropParams', 'rawDensity',
  'readIdxLabels', 'resetDueAtEpoch',
  'resetSignIn', 'resizeOutputSize', 'resolveModelOptions',
  'saveMasks', 'scaledDensities',
  'schema', 'selectLayers', 'setMasks', 'signinLayers',
  'signinFactors', 'signinParameters', 'signinSplit',
  'topKMask', 'track',
  'unsafeCall', 'unsafeCallInPlace',
]);
