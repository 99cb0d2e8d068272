/** Pruning at initialization: pruners, layerwise density distributions, thresholds, mask utilities. */
export type { Pruner, ScoreContext, PruneBatch, PrunableWeight, LossFn as PruneLossFn } from './base';
export { register as registerPruner, get as getPruner, names as prunerNames } from './registry';
export type { PrunerName, PrunerOptionsMap } from './registry';
export { RandomPruner } from './random';
export { MagnitudePruner } from './magnitude';
export { SnipPruner } from './snip';
export { GraspPruner } from './grasp';
export type { GraspOptions } from './grasp';
export { SynflowPruner } from './synflow';
export type { SynflowOptions } from './synflow';
export {
  DISTRIBUTION_NAMES, layerDensities, rawDensity, scaledDensities, pyramidalDensities,
} from './distributions';
export type { DistributionName, LayerShape, DistributionOptions } from './distributions';
export { SCHEDULES as PRUNE_SCHEDULES, scheduleDensities } from './schedule';
export type { Schedule as PruneSchedule } from './schedule';
export { apportion, keptCount, topKMask } from './threshold';
export { pruneModel, prunableWeights, EmptyLayerError, SCOPES as PRUNE_SCOPES } from './prune';
export type { PruneOptions, PruneProgress, PruneResult, PrunedLayer, Scope as PruneScope, PruneBatchLike } from './prune';
export { maskReport } from './report';
export type { MaskReport, LayerMaskReport, MaskReportOptions } from './report';
export { getMasks, setMasks, saveMasks, loadMasks, MASKS_FORMAT } from './masks-io';
export type { SetMasksOptions, SetMasksResult } from './masks-io';
