#!/usr/bin/env node
/**
 * The `signin-torch` command.
 *
 *   signin-torch train  --config cfg.json [--runs-dir runs] [--set pruning.sparsity=0.9 ...]
 *   signin-torch sweep  --grid sweep.json [--runs-dir runs] [--data-root dir] [--processes 4] [--dry-run]
 *   signin-torch report [--runs-dir runs] [--out runs/report] [--pair-by pruning.scope[=global] ...]
 *   signin-torch list models|pruners|datasets|runs [--runs-dir runs] [--json]
 *   signin-torch prune  --model cifar_resnet_20 --dataset cifar10 --pruner random --sparsity 0.9 [--distribution erk]
 *   signin-torch download mnist|fashion_mnist|cifar10|cifar100 [--root data/<dataset>] [--mirror url|dir]
 *   signin-torch evaluate <run-dir> [--epoch N | --checkpoint file] [--split test|train] [--json]
 *   signin-torch export <run-dir> --out model.safetensors [--epoch N] [--dtype float16]
 *
 * The engines (trainer, pruning, models) load lazily, so `report` and `sweep --dry-run` work
 * without the native addon. Errors print one line, `<code>: <message>`, and exit 1.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Argument, Command, CommanderError, Option } from 'commander';
import { readTextBounded } from './bounded-read';
import { DatasetError } from './data/base';
import { IssuesError, ToolkitError } from './errors';
import { percent } from './quote';
import { logLevelFromEnv } from './logger';
import { cpuAllocatorFromEnv } from './native/cpu-allocator-env';
import { assertUnlocked } from './experiments/lock';
import { DEFAULT_RUN_PREFIX, DEFAULT_RUNS_DIR, runDirFor } from './experiments/paths';
import { disambiguate, runLabel, writeReport } from './experiments/report';
import { parsePairBy, type PairBy } from './experiments/report-pair-by';
import { modelOptionsFor, pruneOptionsFor } from './experiments/resolve';
import { createRunDir, isFinished, resolveTransfer, runHasCheckpoint } from './experiments/runs';
import { checkRunIntact, liveHolder, runState, scanRuns } from './experiments/run-scan';
import {
  DATASET_INFO, datasetInfo, DEFAULTS, DISTRIBUTIONS, getDotted, pruningMethods, PRUNING_SCOPES, parseConfig, setDotted, unsafeKeyIssues, type ExperimentConfig,
} from './experiments/schema';
import { defaultChildCommand, loadSweepFile, planSweep, runSweep, type SweepEvent } from './experiments/sweep';
import { launch, type LaunchOptions, type LaunchResult } from './distributed/launch';
import { recordErrorFile } from './distributed/error-file';
import { addLauncherOptions, checkCpuWorkers, checkWorldSize, intFlag, launcherFrom, type Launcher, type LauncherFlags } from './cli/flags';
import { notAnExperimentConfig, notASweepFile } from './cli/config-kind';
import { formatError } from './cli/format-error';
import { reportLaunch } from './cli/launch-report';
import { importFlags, loadImports, unknownNameHint, withImports, withoutCodeFix } from './cli/imports';
import { datasetNames } from './data/registry';
import { downloadDataset } from './data/download';
import { addDownloadCommand, type DownloadFn } from './cli/download';
import { addEvaluateCommand } from './cli/evaluate';
import { choices } from './cli/choices';
import { modelFlagHelp } from './cli/model-flag';
import { addExportCommand } from './cli/export';
import { notAFolderOfSweeps, notARunDirectory } from './cli/runs-dir';
import { stopOnSignals } from './cli/signals';
import { sweepFailure } from './cli/sweep-failure';
import { sweepEventLine } from './cli/sweep-lines';
import { InterruptedError, signalExitCode } from './train/interrupt';
import { PruningInterruptedError } from './pruning/interrupt';
import { maxThreads, maxThreadsReason } from './validate';

/** What `train` and `sweep` need from src/experiments/runner.ts. */
export interface TrainerModule {
  /**
   * Trains (or resumes) one run in runDir (created, config.json written); writes final.json at the
   * end. Once `signal` aborts it checkpoints at the next step and rejects with InterruptedError.
   */
  trainFromConfig(config: ExperimentConfig, runDir: string, options?: { signal?: AbortSignal }): Promise<unknown>;
  /**
   * Throws what would make the run fail before training (model, dataset files, device, ...; a
   * relative transfer.from against runsDir), for the processes `--nproc` starts when given.
   */
  checkRunnable?(config: ExperimentConfig, runsDir?: string, processes?: { worldSize: number; localWorldSize: number }): void;
  /** The device a config's `device` trains on ('auto': CUDA where libtorch finds it, else 'cpu'). */
  resolveDevice?(device: string): string;
}

/** What `prune` needs from src/models and src/pruning. */
export interface ModelsModule {
  createModel(name: string, options: Record<string, unknown>): { dispose?(): void };
  /** The options a model name accepts, with their defaults (numClasses, inChannels, inputSize among them). */
  modelOptions?(name: string): Record<string, unknown>;
  modelNames?(): string[];
  modelFamilies?(): string[];
  getModelEntry?(name: string): { description: string };
}
export interface PruningModule {
  pruneModel(model: unknown, options: Record<string, unknown>): unknown;
  maskReport(model: unknown, options?: Record<string, unknown>): { table?: string } & Record<string, unknown>;
  prunerNames?(): string[];
  getPruner?(name: string): { needsData: boolean; defaultIterations: number };
}

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** Lets tests (and embedders) replace the lazily loaded engines. */
export interface CliDeps {
  loadTrainer?: () => TrainerModule;
  loadModels?: () => ModelsModule;
  loadPruning?: () => PruningModule;
  /** Spawns the workers of `train --nproc` (src/distributed/launch.ts). */
  launch?: (options: LaunchOptions) => Promise<LaunchResult>;
  /** What `download` fetches with (src/data/download.ts). */
  download?: DownloadFn;
}

/** Ends the command with an exit code after it printed its own report. */
class ExitCode extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

const defaultIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

/** require() of an engine module, with a clean error when it (or a function) is missing. */
function loadEngine<T>(rel: string, what: string, fns: string[]): T {
  let mod: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(rel) as Record<string, unknown>;
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.code === 'MODULE_NOT_FOUND' && err.message?.includes(rel)) {
      throw new ToolkitError('ERR_UNKNOWN_NAME', `The ${what} is not part of this build (${rel} is missing)`);
    }
    throw e;
  }
  for (const f of fns) {
    if (typeof mod[f] !== 'function') throw new ToolkitError('ERR_UNKNOWN_NAME', `The ${what} (${rel}) does not export ${f}() in this build`);
  }
  return mod as T;
}

const engines = {
  trainer: () => loadEngine<TrainerModule>('./experiments/runner', 'trainer', ['trainFromConfig']),
  models: () => loadEngine<ModelsModule>('./models', 'model zoo', ['createModel']),
  pruning: () => loadEngine<PruningModule>('./pruning', 'pruning module', ['pruneModel', 'maskReport']),
};

/** `a.b=1` → ['a.b', 1]; the value is JSON when it parses, else the string. */
export function parseAssignment(text: string): [string, unknown] {
  const eq = text.indexOf('=');
  if (eq <= 0) {
    throw new IssuesError('ERR_CONFIG', 'Invalid --set', [{ code: 'invalid_assignment', path: text, message: "Expected <dotted.path>=<value>, e.g. pruning.sparsity=0.9" }]);
  }
  const key = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1);
  try {
    return [key, JSON.parse(raw)];
  } catch {
    return [key, raw];
  }
}

/**
 * The help of a config flag: its path and the schema's default. The flag has no commander default,
 * which would override the --config file.
 */
function withDefault(configPath: string, note = ''): string {
  return `${configPath}${note} (default: ${JSON.stringify(getDotted(DEFAULTS, configPath))})`;
}

/** A number flag: a number when it parses, else the string (so the schema names the bad value). */
function numeric(v: string): number | string {
  const n = Number(v);
  return v.trim() !== '' && Number.isFinite(n) ? n : v;
}

/**
 * A directory flag, parsed by commander: a directory, or a path where one can be made. An empty
 * path would be the working folder (a report written into the checkout), so it is refused.
 */
function directoryFlag(flag: string): (v: string) => string {
  return (v) => {
    if (v.trim() === '') throw new ToolkitError('ERR_INVALID_ARG', `Expected ${flag} to be a directory but received an empty path`);
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(v, { throwIfNoEntry: false });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') throw new ToolkitError('ERR_INVALID_ARG', `Expected ${flag} to be a directory but ${v} is under a file`);
      // Node's message is '<CODE>: <what>, stat <path>': the path is in ours already.
      throw new ToolkitError('ERR_INVALID_ARG', `Expected ${flag} to be a directory but ${v} cannot be read (${(e as Error).message.split(',')[0]})`);
    }
    if (stat && !stat.isDirectory()) throw new ToolkitError('ERR_INVALID_ARG', `Expected ${flag} to be a directory but ${v} is a file`);
    return v;
  };
}

function readJsonFile(file: string, what: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(readTextBounded(file));
  } catch (e) {
    throw new IssuesError('ERR_CONFIG', `Cannot read ${what} ${file}`, [{ code: 'unreadable', path: '', message: (e as Error).message }]);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new IssuesError('ERR_CONFIG', `Invalid ${what} ${file}`, [{ code: 'invalid_type', path: '', message: 'Expected a JSON object' }]);
  }
  const unsafe = unsafeKeyIssues(raw);
  if (unsafe.length) throw new IssuesError('ERR_CONFIG', `Invalid ${what} ${file}`, unsafe);
  return raw as Record<string, unknown>;
}

interface TrainFlags extends LauncherFlags {
  config?: string;
  runsDir: string;
  prefix: string;
  dataset?: string;
  dataRoot?: string;
  model?: string;
  epochs?: number | string;
  batchSize?: number | string;
  gradAccumSteps?: number | string;
  lr?: number | string;
  weightDecay?: number | string;
  pruner?: string;
  sparsity?: number | string;
  distribution?: string;
  signin?: boolean;
  beta?: number | string;
  resetPeriod?: number | string;
  seed?: number | string;
  device?: string;
  threads?: number | string;
  set: string[];
  dryRun?: boolean;
}

/** The raw config of `train`: the file (if any), then the flags, then every --set, in that order. */
export function trainConfigFromFlags(flags: Partial<TrainFlags>): { raw: Record<string, unknown>; source: string } {
  const raw = flags.config ? readJsonFile(flags.config, 'config') : {};
  if (flags.config) notASweepFile(flags.config, raw);
  const map: [keyof TrainFlags, string][] = [
    ['dataset', 'dataset.name'], ['dataRoot', 'dataset.root'], ['model', 'model.name'], ['epochs', 'epochs'],
    ['batchSize', 'batchSize'], ['gradAccumSteps', 'gradAccumSteps'], ['lr', 'optimizer.lr'], ['weightDecay', 'optimizer.weightDecay'], ['pruner', 'pruning.method'],
    ['sparsity', 'pruning.sparsity'], ['distribution', 'pruning.distribution'], ['signin', 'signin.enabled'],
    ['beta', 'signin.beta'], ['resetPeriod', 'signin.resetPeriod'], ['seed', 'seed'], ['device', 'device'], ['threads', 'threads'],
  ];
  for (const [flag, key] of map) if (flags[flag] !== undefined) setDotted(raw, key, flags[flag]);
  for (const s of flags.set ?? []) {
    const [k, v] = parseAssignment(s);
    setDotted(raw, k, v);
  }
  return { raw, source: flags.config ? `from ${flags.config}` : 'from flags' };
}

function describeRun(config: ExperimentConfig): string {
  return `${config.dataset.name} ${config.model.name} ${runLabel(config)} seed ${config.seed}`;
}

/**
 * describeRun of each config, told apart where they coincide (the runs of an ablation share
 * method, sparsity and seed) by the fields that differ, with their values, defaults included.
 */
function describeRuns(configs: ExperimentConfig[]): string[] {
  const labels = disambiguate(configs.map((_, i) => i), (i) => describeRun(configs[i]), (i) => ({ ...configs[i] }));
  return configs.map((_, i) => labels.get(i)!);
}

function pad(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return `${rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n')}\n`;
}

/** A dataset error whose fix names the command's --data-root flag rather than the library's `root`. */
function namingDataRootFlag(e: unknown): unknown {
  return e instanceof DatasetError && e.fix ? new DatasetError(e.messageNaming('--data-root'), e.file, { cause: e }) : e;
}

/** The action of a command with --data-root, its dataset errors restated by namingDataRootFlag. */
function namingDataRoot<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      await action(...args);
    } catch (e) {
      throw namingDataRootFlag(e);
    }
  };
}

/** `argv` is the command line being run (node, script, arguments): `train --nproc` workers re-run it. */
export function buildProgram(io: CliIo = defaultIo, deps: CliDeps = {}, argv: readonly string[] = process.argv): Command {
  const loadTrainer = deps.loadTrainer ?? engines.trainer;
  const launchWorkers = deps.launch ?? launch;
  const loadModels = deps.loadModels ?? engines.models;
  const loadPruning = deps.loadPruning ?? engines.pruning;
  // Each worker re-runs this command line; the WORLD_SIZE the launcher gives it makes it a rank.
  const launchSelf = async (launcher: Launcher, runDir: string | undefined): Promise<void> => {
    const r = await launchWorkers({ ...launcher, command: process.execPath, args: [...process.execArgv, ...argv.slice(1)] });
    reportLaunch(r, launcher, runDir, io.err);
    if (r.exitCode !== 0) throw new ExitCode(r.exitCode);
  };
  // Before the commands are built: their choices and the configs' names include what these register.
  const imports = loadImports(importFlags(argv));
  const program = new Command('signin-torch')
    .description('Sparse training from scratch on libtorch: PaI pruning + Sign-In. Experiments are run directories named by a hash of their config.')
    .version(packageVersion(), '-V, --version')
    .configureOutput({ writeOut: io.out, writeErr: io.err, outputError: (s, write) => write(s) })
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    // Before a command makes run directories or spawns workers that would each fail on it.
    .hook('preAction', () => {
      logLevelFromEnv();
      cpuAllocatorFromEnv();
    });

  const collect = (v: string, prev: string[]): string[] => [...prev, v];
  program.option('--import <module>', 'a module of yours to load first, before or after the command (registerDataset, registerModel, registerPruner; docs/extending.md); repeatable; sweep children and --nproc workers load it too', collect, []);

  const train = program.command('train')
    .description('Train one config (or resume it from its last checkpoint) in <runs-dir>/<prefix>_<hash>/. A finished run is skipped.')
    .option('-c, --config <file>', 'experiment config (JSON); flags and --set override its fields')
    .option('--runs-dir <dir>', 'root of the run directories', directoryFlag('--runs-dir'), DEFAULT_RUNS_DIR)
    .option('--prefix <prefix>', 'run directory prefix', DEFAULT_RUN_PREFIX)
    .addOption(choices(new Option('--dataset <name>', 'dataset.name'), datasetNames()))
    .option('--data-root <dir>', 'dataset.root', directoryFlag('--data-root'))
    .option('--model <name>', modelFlagHelp('model.name'))
    .option('--epochs <n>', 'epochs', numeric)
    .option('--batch-size <n>', withDefault('batchSize'), numeric)
    .option('--grad-accum-steps <n>', withDefault('gradAccumSteps', ' (micro-batches per step, gradients accumulated: the batch in less memory)'), numeric)
    .option('--lr <x>', withDefault('optimizer.lr'), numeric)
    .option('--weight-decay <x>', withDefault('optimizer.weightDecay'), numeric)
    .addOption(choices(new Option('--pruner <method>', withDefault('pruning.method')), pruningMethods()))
    .option('--sparsity <x>', withDefault('pruning.sparsity', ' (fraction removed, in [0, 1))'), numeric)
    .addOption(choices(new Option('--distribution <d>', `pruning.distribution (default: ${JSON.stringify(DEFAULTS.pruning.distribution)} with pruning.scope "layerwise")`), DISTRIBUTIONS))
    .option('--signin', withDefault('signin.enabled', ' = true'))
    .option('--no-signin', 'signin.enabled = false')
    .option('--beta <x>', withDefault('signin.beta'), numeric)
    .option('--reset-period <n>', withDefault('signin.resetPeriod'), numeric)
    .option('--seed <n>', withDefault('seed'), numeric)
    .option('--device <d>', withDefault('device', " ('auto', 'cpu', 'cuda', 'cuda:N')"))
    .option('--threads <n>', withDefault('threads', " (libtorch's CPU threads; 0: libtorch's default)"), numeric)
    .option('--set <path=value>', 'set any config field (value parsed as JSON, else a string); repeatable', collect, [])
    .option('--dry-run', 'validate, print the resolved config and its run directory, train nothing');
  addLauncherOptions(train, '--nproc')
    .action(namingDataRoot(async (flags: TrainFlags) => {
      notARunDirectory('--runs-dir', flags.runsDir);
      const launcher = launcherFrom(flags, '--nproc');
      const { raw, source } = trainConfigFromFlags(flags);
      // A transfer source is found (and named in the hash) before any run directory is made.
      const config = resolveTransfer(parseConfig(raw, source), flags.runsDir);
      const trainer = loadTrainer();
      if (launcher) {
        checkCpuWorkers(launcher, trainer.resolveDevice?.(config.device) ?? config.device, config.device, '--nproc');
        checkWorldSize(config.batchSize, launcher, '--nproc');
      }
      trainer.checkRunnable?.(config, flags.runsDir, launcher && { worldSize: launcher.nproc * launcher.nnodes, localWorldSize: launcher.nproc });
      const dir = runDirFor(flags.runsDir, config, flags.prefix);
      if (flags.dryRun) {
        io.out(`${dir}\n${JSON.stringify(config, null, 2)}\n`);
        return;
      }
      checkRunIntact(dir);
      assertUnlocked(dir);
      if (isFinished(dir)) {
        io.err(`already finished: ${dir}\n`);
        return;
      }
      if (launcher) {
        await launchSelf(launcher, dir);
        return;
      }
      // Before the run directory is written: a signal without a handler ends the process inside
      // that write, leaving a directory of one temporary file that `list runs` calls corrupt.
      const stop = stopOnSignals();
      try {
        const run = createRunDir(flags.runsDir, config, { prefix: flags.prefix });
        // Every worker of --nproc gets here, the first to arrive making the directory: rank 0 speaks
        // for the run, and a checkpoint (written by rank 0 only) is what makes it a resumption. RANK
        // is read leniently: the runner checks torchrun's variables and names a bad one.
        const speaks = Number(process.env.RANK ?? 0) === 0;
        if (stop.signal.aborted) {
          const why = `interrupted by ${String(stop.signal.reason)} before training began in ${run.dir}: the same command trains the run`;
          if (speaks) io.err(`${why}\n`);
          throw new ExitCode(signalExitCode(stop.signal.reason));
        }
        if (speaks) io.err(`${runHasCheckpoint(run.dir) ? 'resuming' : 'training'} ${describeRun(config)} in ${run.dir}\n`);
        await trainer.trainFromConfig(config, run.dir, { signal: stop.signal });
      } finally {
        stop.dispose();
      }
    }));

  program.command('sweep')
    .description('Run every config of a sweep grid (base config × grid × seeds); finished runs are skipped.')
    .requiredOption('-g, --grid <file>', 'sweep file: { base, grid: { "dotted.path": [values] }, seeds }')
    .option('--runs-dir <dir>', 'root of the run directories', directoryFlag('--runs-dir'), DEFAULT_RUNS_DIR)
    .option('-p, --processes <n>', `child processes (\`signin-torch train\`) at once, each loading libtorch; 1 = in this process; at most ${maxThreads()} (${maxThreadsReason()})`, intFlag('--processes', 1, maxThreads(), maxThreadsReason()), 1)
    .option('--data-root <dir>', "dataset.root of every run, over the grid file's (not hashed: the run directories stay the same wherever the data is)", directoryFlag('--data-root'))
    .option('--dry-run', 'list the runs and their state, run nothing')
    .action(namingDataRoot(async (flags: { grid: string; runsDir: string; processes: number; dataRoot?: string; dryRun?: boolean }) => {
      notARunDirectory('--runs-dir', flags.runsDir);
      notAnExperimentConfig(flags.grid);
      const { spec, runs } = loadSweepFile(flags.grid);
      const prefix = spec.prefix ?? DEFAULT_RUN_PREFIX;
      const root = flags.dataRoot;
      const configs = runs.map((r) => (root === undefined ? r.config : { ...r.config, dataset: { ...r.config.dataset, root } }));
      const trainer = loadTrainer();
      // Failures are reported per run (not thrown out of this action), their fix in this command's terms.
      const check = trainer.checkRunnable && ((config: ExperimentConfig, runsDir: string): void => {
        try {
          trainer.checkRunnable!(config, runsDir);
        } catch (e) {
          throw namingDataRootFlag(e);
        }
      });
      if (flags.dryRun) {
        const plan = planSweep(configs, flags.runsDir, prefix);
        const keys = [...new Set(runs.flatMap((r) => Object.keys(r.point)))];
        // What `sweep` would do with each run, asked in its order (runSweep): a finished run is
        // skipped, a run that a live process (another sweep) trains is left to it, then come the
        // checks before the run directory is made (a missing dataset, a model option the data
        // contradicts) and the damaged-run test. A run either refuses is not one to run.
        const fates = plan.map((p): { label: string; refusal?: string } => {
          if (p.status === 'finished') return { label: p.status };
          const holder = liveHolder(p.runDir);
          if (holder) return { label: `running (pid ${holder.pid})` };
          try {
            check?.(p.config, flags.runsDir);
          } catch (e) {
            return { label: 'refused', refusal: formatError(e) };
          }
          try {
            checkRunIntact(p.runDir);
          } catch (e) {
            return { label: 'corrupt', refusal: formatError(e) };
          }
          return { label: p.status };
        });
        const rows = [['#', 'status', 'run', ...keys], ...plan.map((p, i) => [
          String(i + 1), fates[i].label, path.basename(p.runDir), ...keys.map((k) => JSON.stringify(runs[i].point[k]) ?? ''),
        ])];
        const n = (label: string) => fates.filter((f) => f.label === label).length;
        const running = fates.filter((f) => f.label.startsWith('running')).length;
        const todo = plan.length - n('finished') - n('refused') - n('corrupt');
        const tail = `${running ? ` (${running} running now)` : ''}${n('refused') ? `, ${n('refused')} refused` : ''}${n('corrupt') ? `, ${n('corrupt')} corrupt` : ''}`;
        io.out(`${pad(rows)}${plan.length} runs: ${n('finished')} finished, ${todo} to run${tail} (runs dir ${flags.runsDir})\n`);
        // Exit 1 as the sweep would: it fails each of these runs (a damaged one too, with its fix).
        const refused = fates.flatMap((f, i) => (f.refusal ? [`run ${i + 1}: ${f.refusal}`] : []));
        if (refused.length > 0) {
          io.err(`${refused.length} run(s) would be refused:\n${refused.join('\n')}\n`);
          throw new ExitCode(1);
        }
        return;
      }
      const processes = flags.processes;
      const total = configs.length;
      const labels = describeRuns(configs);
      const onEvent = (e: SweepEvent): void => {
        if (e.type === 'fail') recordErrorFile(sweepFailure({ runDir: e.run.runDir, error: e.error, code: e.code }));
        io.err(sweepEventLine(e, total, labels[e.run.index]));
      };
      const stop = stopOnSignals();
      const runOne = async (config: ExperimentConfig, runDir: string): Promise<void> => {
        try {
          await trainer.trainFromConfig(config, runDir, { signal: stop.signal });
        } catch (e) {
          throw namingDataRootFlag(e);
        }
      };
      let result: Awaited<ReturnType<typeof runSweep>>;
      try {
        result = await runSweep(configs, {
          runsDir: flags.runsDir, prefix, processes, runOne: processes === 1 ? runOne : undefined, check, onEvent, signal: stop.signal,
          ...(imports.length > 0 ? { childCommand: (run, dir, p) => withImports(defaultChildCommand(run, dir, p), imports) } : {}),
        });
      } finally {
        stop.dispose();
      }
      const busy = result.busy ? `, ${result.busy} left to other processes` : '';
      const stopped = stop.signal.aborted ? `, ${result.interrupted} interrupted by ${String(stop.signal.reason)} (run the same command again to resume)` : '';
      io.err(`sweep: ${result.succeeded} done, ${result.skipped} skipped${busy}, ${result.failed.length} failed${stopped} of ${result.total}\n`);
      if (result.failed.length > 0) throw new ExitCode(1); // each failure was printed above
      if (stop.signal.aborted) throw new ExitCode(signalExitCode(stop.signal.reason));
    }));

  program.command('report')
    .description('Tables (mean ± std of final test accuracy per method × sparsity; markdown + CSV) and SVG plots from run directories.')
    .option('--runs-dir <dir>', 'root of the run directories', directoryFlag('--runs-dir'), DEFAULT_RUNS_DIR)
    .option('-o, --out <dir>', 'output folder (default: <runs-dir>/report)', directoryFlag('--out'))
    .option('--no-plots', 'tables only')
    .option('--include-unfinished', 'plot curves of unfinished runs too')
    .option('--save-records', "also copy each finished run's config.json, metrics.jsonl and final.json (no checkpoints) into <out>/runs: `report --runs-dir <out>/runs` then regenerates the report without the run directories")
    .option('--pair-by <field[=baseline]>', 'also pair the finished runs along a config field (dotted: pruning.scope, signin.beta, optimizer.lr, ...), each value against the baseline (after =; else the schema default where the runs have it, else the smallest) seed by seed, every other field equal: a section "Paired differences by <field>"; repeatable', (v: string, prev: PairBy[]) => [...prev, parsePairBy(v, '--pair-by')], [])
    .action(async (flags: { runsDir: string; out?: string; plots: boolean; includeUnfinished?: boolean; saveRecords?: boolean; pairBy: PairBy[] }) => {
      notARunDirectory('--runs-dir', flags.runsDir);
      notAFolderOfSweeps('--runs-dir', flags.runsDir);
      const out = flags.out ?? directoryFlag('--out (default: <runs-dir>/report)')(path.join(flags.runsDir, 'report'));
      const res = await writeReport(flags.runsDir, out, { plots: flags.plots, includeUnfinished: flags.includeUnfinished, saveRecords: flags.saveRecords, pairBy: flags.pairBy });
      io.out(res.markdown.endsWith('\n') ? res.markdown : `${res.markdown}\n`);
      for (const c of res.corrupt) io.err(`corrupt run ${c.dir}: ${c.problems.join('; ')}\n`);
      io.err(`wrote ${res.files.join(', ')}\n`);
    });

  program.command('list')
    .description('List what exists: models, pruners and datasets (the registries), or runs (each run directory with its status: new, running, finished, interrupted, failed or corrupt).')
    .addArgument(choices(new Argument('<what>', 'what to list'), ['models', 'pruners', 'datasets', 'runs']))
    .option('--runs-dir <dir>', 'root of the run directories', directoryFlag('--runs-dir'), DEFAULT_RUNS_DIR)
    .option('--json', 'print the list as JSON')
    .action((what: string, flags: { runsDir: string; json?: boolean }) => {
      if (what !== 'runs') {
        const rows = what === 'models' ? listModels(loadModels()) : what === 'pruners' ? listPruners(loadPruning()) : listDatasets();
        io.out(flags.json ? `${JSON.stringify(rows, null, 2)}\n` : pad([Object.keys(rows[0]), ...rows.map((r) => Object.values(r).map(String))]));
        return;
      }
      if (!fs.existsSync(flags.runsDir)) {
        throw new ToolkitError('ERR_INVALID_ARG', `Runs directory ${flags.runsDir} does not exist: pass --runs-dir, the folder that holds the run directories`);
      }
      notARunDirectory('--runs-dir', flags.runsDir);
      notAFolderOfSweeps('--runs-dir', flags.runsDir);
      const { runs, corrupt } = scanRuns(flags.runsDir);
      const labels = describeRuns(runs.map((r) => r.config));
      const rows = runs.map((r, i) => {
        const { state, holder, reason } = runState(r.dir);
        // A finished run's final accuracy; an unfinished one's last recorded epoch, so a sweep's progress reads at a glance.
        const last = [...r.metrics].reverse().find((m) => m.testAcc !== undefined);
        const testAcc = r.final?.testAcc ?? last?.testAcc;
        const testAccEpoch = r.final ? r.final.epoch : last?.epoch;
        return {
          run: r.name, status: state, pid: state === 'running' ? holder?.pid : undefined, reason, epochs: r.metrics.length, of: r.config.epochs, testAcc, testAccEpoch, what: labels[i],
        };
      });
      const broken = corrupt.map((c) => ({ run: c.name, status: 'corrupt', problems: c.problems }));
      if (flags.json) {
        io.out(`${JSON.stringify([...rows, ...broken], null, 2)}\n`);
        return;
      }
      const top1 = (r: (typeof rows)[number]) => (r.testAcc === undefined ? '' : `${percent(r.testAcc)}${r.status === 'finished' ? '' : ` (epoch ${r.testAccEpoch})`}`);
      const table = [['run', 'status', 'epochs', 'top-1', 'config'], ...rows.map((r) => [
        r.run, r.pid ? `${r.status} (pid ${r.pid})` : r.status, `${r.epochs}/${r.of}`, top1(r), r.what,
      ]), ...broken.map((b) => [b.run, 'corrupt', '', '', b.problems.join('; ')])];
      const reasons = rows.flatMap((r) => (r.reason ? [`${r.run} failed: ${r.reason}\n`] : []));
      io.out(rows.length + broken.length ? `${pad(table)}${reasons.join('')}` : `No runs in ${flags.runsDir}\n`);
    });

  program.command('prune')
    .description('Prune a freshly initialized model at initialization and print its mask report (per-layer densities, FLOPs).')
    .requiredOption('--model <name>', modelFlagHelp('model registry name'))
    .addOption(choices(new Option('--dataset <name>', "sets classes, channels and input size (default: the model's own, e.g. 224 px and 1000 classes for resnet50); required by snip and grasp"), datasetNames()))
    .addOption(choices(new Option('--pruner <method>', 'pruning method'), pruningMethods().filter((m) => m !== 'none')).default('random'))
    .requiredOption('--sparsity <x>', 'fraction of weights removed, in [0, 1)', numeric)
    .addOption(choices(new Option('--distribution <d>', `layer densities with scope 'layerwise' (default: ${JSON.stringify(DEFAULTS.pruning.distribution)})`), DISTRIBUTIONS))
    .addOption(choices(new Option('--scope <scope>', "default: 'layerwise' for random, else 'global'"), PRUNING_SCOPES))
    .option('--dense-first', 'keep the first conv dense')
    .option('--dense-last', 'keep the classifier dense')
    .option('--iterations <n>', "pruning rounds (default: the pruner's)", numeric)
    .option('--seed <n>', 'seed', numeric, 0)
    .option('--data-root <dir>', 'dataset.root: SNIP and GraSP score on one training batch of the dataset', directoryFlag('--data-root'))
    .option('--batch-size <n>', `size of that batch: pruning.dataSamples (default: ${DEFAULTS.pruning.dataSamples})`, intFlag('--batch-size', 1))
    .option('--set <path=value>', 'model.options.* and other config fields; repeatable', collect, [])
    .option('--json', 'print the report as JSON')
    .action(namingDataRoot(async (flags: {
      model: string; dataset?: string; pruner: string; sparsity: number | string; distribution?: string; scope?: string;
      denseFirst?: boolean; denseLast?: boolean; iterations?: number | string; seed: number | string; set: string[]; json?: boolean;
      dataRoot?: string; batchSize?: number;
    }) => {
      const raw: Record<string, unknown> = {
        dataset: { ...(flags.dataset ? { name: flags.dataset } : {}), ...(flags.dataRoot ? { root: flags.dataRoot } : {}) },
        model: { name: flags.model },
        pruning: { method: flags.pruner, sparsity: flags.sparsity },
        epochs: 1,
        seed: flags.seed,
      };
      for (const [k, v] of [
        ['distribution', flags.distribution], ['scope', flags.scope], ['denseFirst', flags.denseFirst], ['denseLast', flags.denseLast],
        ['iterations', flags.iterations], ['dataSamples', flags.batchSize],
      ] as const) {
        if (v !== undefined) setDotted(raw, `pruning.${k}`, v);
      }
      for (const s of flags.set) setDotted(raw, ...parseAssignment(s));
      const hasDataset = getDotted(raw, 'dataset.name') !== undefined;
      // Without a dataset the model keeps its own input defaults; the schema still wants a name.
      if (!hasDataset) setDotted(raw, 'dataset.name', 'cifar10');
      const config = parseConfig(raw, 'from flags');
      const { prunerNeedsData } = await import('./experiments/prune-data');
      if (!hasDataset && prunerNeedsData(config.pruning.method)) {
        throw new IssuesError('ERR_CONFIG', 'Invalid prune flags', [{ code: 'missing', path: 'dataset', message: `${config.pruning.method} scores weights on a batch of training data: pass --dataset (and --data-root)` }]);
      }
      const models = loadModels();
      const pruning = loadPruning();
      const options = hasDataset ? modelOptionsFor(config) : { ...config.model.options };
      io.err(`prune: ${describePruneInput(config.model.name, hasDataset ? config.dataset.name : undefined, { ...models.modelOptions?.(config.model.name), ...options })}\n`);
      const model = models.createModel(config.model.name, options);
      try {
        const prune = pruneOptionsFor(config)!;
        const { pruneBatches } = await import('./experiments/prune-data');
        if (prunerNeedsData(prune.method)) io.err(`prune: ${prune.method} scores on ${config.pruning.dataSamples} training examples of ${config.dataset.name}\n`);
        const data = prunerNeedsData(prune.method) ? await pruneBatches(config) : undefined;
        // Ctrl-C stops between rounds with one line and the signal's exit code (runCli), not a kill mid-round.
        const stop = stopOnSignals();
        try {
          await pruning.pruneModel(model, { ...prune, data, onRound: pruneProgress(io, prune.method), signal: stop.signal });
        } finally {
          stop.dispose();
          data?.flat().forEach((t) => t.dispose());
        }
        const report = pruning.maskReport(model);
        io.out(flags.json ? `${JSON.stringify({ ...report, table: undefined }, null, 2)}\n` : `${report.table ?? JSON.stringify(report, null, 2)}\n`);
      } finally {
        model.dispose?.();
      }
    }));

  addDownloadCommand(program, io.out, deps.download ?? downloadDataset, directoryFlag);
  addEvaluateCommand(program, io.out, directoryFlag, namingDataRoot, launchSelf);
  addExportCommand(program, io.out, directoryFlag);

  return program;
}

function listModels(models: ModelsModule): Record<string, string | number>[] {
  if (!models.modelNames || !models.modelOptions || !models.getModelEntry) {
    throw new ToolkitError('ERR_UNKNOWN_NAME', 'The model zoo of this build does not list its models');
  }
  const rows: Record<string, string | number>[] = models.modelNames().map((name) => {
    const o = models.modelOptions!(name);
    return { name, input: `${String(o.inChannels)}x${String(o.inputSize)}x${String(o.inputSize)}`, classes: o.numClasses as number, description: models.getModelEntry!(name).description };
  });
  for (const f of models.modelFamilies?.() ?? []) rows.push({ name: f, input: '', classes: '', description: 'name pattern (family)' });
  return rows;
}

function listPruners(pruning: PruningModule): Record<string, string | number | boolean>[] {
  if (!pruning.prunerNames || !pruning.getPruner) throw new ToolkitError('ERR_UNKNOWN_NAME', 'The pruning module of this build does not list its pruners');
  return pruning.prunerNames().map((name) => {
    const p = pruning.getPruner!(name);
    return { name, data: p.needsData ? 'training batch' : 'none', rounds: p.defaultIterations };
  });
}

function listDatasets(): Record<string, string | number>[] {
  return datasetNames().map((name) => {
    const d = datasetInfo(name);
    return { name, input: d ? `${d.inChannels}x${d.inputSize}x${d.inputSize}` : 'set by model.options', classes: d?.numClasses ?? 'set by model.options', root: name === 'fashion_mnist' ? 'optional (Debian package)' : Object.hasOwn(DATASET_INFO, name) ? 'required' : 'as its factory reads it' };
  });
}

/** What the pruned model is scored for, stated because ResNet-50 at 32 px and at 224 px are different models to prune. */
function describePruneInput(model: string, dataset: string | undefined, o: Record<string, unknown>): string {
  const input = o.inputSize === undefined ? 'input' : `input ${String(o.inChannels ?? '?')}x${String(o.inputSize)}x${String(o.inputSize)}`;
  const what = `${input}${o.numClasses === undefined ? '' : `, ${String(o.numClasses)} classes`}`;
  return dataset === undefined
    ? `${model} with its default ${what} (no --dataset; pass one to prune for a dataset's input size)`
    : `${model} for ${dataset}: ${what}`;
}

/**
 * Progress of a multi-round prune (SynFlow's 100 rounds) on stderr: a line at most every 2 s and
 * at the last round, with the rate and the time left.
 */
function pruneProgress(io: CliIo, method: string): (p: { round: number; rounds: number; kept: number; seconds: number }) => void {
  let last = -Infinity;
  return (p) => {
    if (p.rounds < 2 || (p.round < p.rounds && p.seconds - last < 2)) return;
    last = p.seconds;
    const eta = (p.seconds / p.round) * (p.rounds - p.round);
    io.err(`prune: ${method} round ${p.round}/${p.rounds}, ${p.kept} weights kept, ${p.seconds.toFixed(0)} s, ETA ${eta.toFixed(0)} s\n`);
  };
}

function packageVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** Runs the CLI; resolves to the exit code (0 ok, 1 error, or a failed `train --nproc` worker's). Never throws, never prints a stack. */
export async function runCli(argv: readonly string[], io: CliIo = defaultIo, deps: CliDeps = {}): Promise<number> {
  try {
    await buildProgram(io, deps, argv).parseAsync([...argv]);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError || e instanceof ExitCode) return e.exitCode; // the message is already printed
    if (e instanceof InterruptedError || e instanceof PruningInterruptedError) {
      // Rank 0 speaks for a data-parallel run; the shell's code for the signal tells a scheduler what ended it.
      if (Number(process.env.RANK ?? 0) === 0) io.err(`${e.message}\n`);
      return signalExitCode(e.reason);
    }
    recordErrorFile(e);
    io.err(`${formatError(withoutCodeFix(e))}${unknownNameHint(e)}\n`);
    return 1;
  }
}

if (require.main === module) {
  void runCli(process.argv).then((code) => {
    process.exitCode = code;
  });
}
