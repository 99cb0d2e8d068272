/**
 * Experiments: config schema, run directories, sweeps, reports (architecture.md decision 9).
 * Modules whose plumbing (dotted paths, file names, atomic writes, lock, plot specs, report
 * cells) only the runner and the report use are listed name by name: that plumbing stays
 * importable from its module but is not part of the package's API.
 */
export {
  pruningMethods, DATASET_NAMES, PRUNING_METHODS, DISTRIBUTIONS, PRUNING_SCOPES, RESET_UNITS, MOMENTUM_AT_RESET, SCHEDULE_NAMES,
  SYNFLOW_DTYPES, OPTIMIZER_NAMES, DATASET_INFO, datasetInfo, DEFAULTS, HASH_EXCLUDED_PATHS, defaultScope, ExperimentConfig,
  safeParseConfig, parseConfig, UNSAFE_KEYS, unsafeKeyIssues, flattenDotted,
} from './schema';
export type {
  DatasetName, PruningMethod, Distribution, DatasetInfo, ExperimentConfigInput, PruningHparams, SignInHparams, OptimizerHparams,
  ScheduleHparams, SafeParseResult,
} from './schema';
export * from './hash';
export { RUN_FILES, REPORT_FILES, DEFAULT_RUN_PREFIX, DEFAULT_RUNS_DIR, runDirFor, isRunDirName, runPaths } from './paths';
export type { RunFile, RunPaths } from './paths';
export * from './metrics';
export { createRunDir, resolveTransfer, readConfig, readMetrics, readFinal, isFinished, runHasCheckpoint, keptCheckpoints } from './runs';
export type { RunDir } from './runs';
export { checkRunIntact, readRun, runStatus, runState, scanRuns, listRuns } from './run-scan';
export type { RunRecords, RunStatus, RunState, RunInfo, ListRunsOptions, CorruptRun, RunScan } from './run-scan';
export { readLock, holderAlive } from './lock';
export type { LockHolder } from './lock';
export { SweepSpec, parseSweepSpec, expandSweep, loadSweepFile, planSweep, resolveTransfers, runSweep } from './sweep';
export type { SweepSpecInput, ExpandedRun, RunOne, PlannedRun, SweepEvent, ChildCommand, SweepOptions, SweepResult } from './sweep';
export { scanRunRecords, loadRuns, accuracyTables, formatCell, tableToMarkdown, tablesToCsv, writeReport } from './report';
export type { RunRecord, AccuracyCell, AccuracyRow, AccuracyTable, ReportOptions, ReportResult } from './report';
export type { VegaLiteSpec, CurvePoint, FlipCurvePoint, LayerPoint, PlotOrder } from './plots';
export * from './resolve';
export * from './paired';
export { betaBeforeReset } from './plots-beta';
export { trainFromConfig, checkRunnable, signFlipsRow, FirstBatches } from './runner';
export type { RunResult, TrainOptions, RunProcesses } from './runner';
export { evaluateRun, EVAL_SPLITS } from './evaluate';
export type { EvaluateOptions, EvaluateResult, EvalSplit } from './evaluate';
export { exportRun, EXPORT_DTYPES } from './export';
export type { ExportOptions, ExportResult, ExportDType } from './export';
export type { CheckpointChoice } from './run-checkpoints';
export type { TransferRecord, TransferSection } from './transfer';
export * from './plots-sparsity';
export { finalHessianEigenvalue, pairedRows, pairedToMarkdown, hessianMarkdown, pairedJsonPath } from './report-paired';
export type { PairedCell, PairedRow, RunValues } from './report-paired';
export { pairedBy, pairedByToMarkdown, parsePairBy } from './report-pair-by';
export type { PairBy, PairedBy, PairedByRow, BaselineSource } from './report-pair-by';
