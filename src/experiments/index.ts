/** Experiments: config schema, run directories, sweeps, reports (architecture.md decision 9). */
export * from './schema';
export * from './hash';
export * from './paths';
export * from './metrics';
export * from './runs';
export * from './lock';
export * from './sweep';
export * from './report';
export * from './plots';
export * from './resolve';
export * from './paired';
export * from './plots-beta';
export { trainFromConfig, checkRunnable, signFlipsRow, FirstBatches } from './runner';
export type { RunResult } from './runner';
export * from './plots-sparsity';
export * from './report-paired';
