/**
 * `signin-torch evaluate <run-dir> [--epoch N | --checkpoint FILE] [--split test|train]
 * [--data-root DIR] [--device D] [--json] [--nproc N ...]`: a run's checkpoint evaluated again
 * (src/experiments/evaluate.ts), loaded lazily with the engines it needs; with --nproc (or under
 * torchrun) data-parallel, rank 0 printing the whole split's result.
 */
import { Option, type Command } from 'commander';
import type { EvaluateResult } from '../experiments/evaluate';
import { percent } from '../quote';
import { choices } from './choices';
import { addLauncherOptions, checkCpuWorkers, intFlag, launcherFrom, type Launcher, type LauncherFlags } from './flags';

function text(r: EvaluateResult): string {
  const at = `epoch ${r.position.epoch}${r.position.batch ? ` + ${r.position.batch} steps` : ''}, step ${r.position.step}`;
  const s = r.sparsity;
  const lines = [
    `${r.checkpoint} (${at}) on the ${r.split} split of ${r.dataset}, ${r.examples} examples${r.worldSize > 1 ? ` over ${r.worldSize} ranks` : ''}`,
    `top-1 ${percent(r.top1)}  top-5 ${percent(r.top5)}  loss ${r.loss.toFixed(4)}  sparsity ${percent(s.sparsity)} (${s.kept} of ${s.numel} masked weights kept)`,
  ];
  if (r.recordedTop1 !== undefined) lines.push(`the run recorded test top-1 ${percent(r.recordedTop1)} at this step`);
  return `${lines.join('\n')}\n`;
}

type EvaluateFlags = LauncherFlags & { epoch?: number; checkpoint?: string; split: 'test' | 'train'; dataRoot?: string; device?: string; json?: boolean };

/**
 * Adds the `evaluate` command. `directory` parses folder flags as the other commands do;
 * `wrap` restates dataset errors with the command's --data-root; `launchSelf` runs this command
 * line in --nproc's workers and waits for them.
 */
export function addEvaluateCommand(
  program: Command,
  out: (text: string) => void,
  directory: (flag: string) => (v: string) => string,
  wrap: <A extends unknown[]>(action: (...args: A) => Promise<void>) => (...args: A) => Promise<void>,
  launchSelf: (launcher: Launcher, runDir: undefined) => Promise<void>,
): void {
  const command = program.command('evaluate')
    .description("Evaluate a run's checkpoint again (its newest, or the one after --epoch N) on the test or training split with the run's own model, Sign-In and evaluation transforms; prints loss, top-1, top-5 and sparsity, and the test top-1 the run recorded at that step. With --nproc N (or under torchrun) each worker evaluates a share of the split.")
    .argument('<run-dir>', 'the run directory (holding config.json)', directory('<run-dir>'))
    .option('--epoch <n>', 'the checkpoint written after this epoch (one of the last two, or one checkpoint.keepEpochs / keepEvery kept)', intFlag('--epoch', 1))
    .option('--checkpoint <file>', "a checkpoint file of this run's config instead of the run's own")
    .addOption(choices(new Option('--split <split>', 'which split'), ['test', 'train']).default('test'))
    .option('--data-root <dir>', "the dataset's folder, instead of the one the config names", directory('--data-root'))
    .option('--device <d>', "'cpu', 'cuda', 'cuda:N' instead of the config's device")
    .option('--json', 'print the result as JSON');
  addLauncherOptions(command, '--nproc')
    .action(wrap(async (runDir: string, flags: EvaluateFlags) => {
      const launcher = launcherFrom(flags, '--nproc');
      const opts = {
        split: flags.split,
        ...(flags.epoch === undefined ? {} : { epoch: flags.epoch }),
        ...(flags.checkpoint === undefined ? {} : { checkpoint: flags.checkpoint }),
        ...(flags.dataRoot === undefined ? {} : { dataRoot: flags.dataRoot }),
        ...(flags.device === undefined ? {} : { device: flags.device }),
      };
      const { evaluateRun, evaluationPlan } = await import('../experiments/evaluate');
      if (launcher) {
        // Refused once here rather than by every worker: a bad run, checkpoint or device.
        const plan = evaluationPlan(runDir, opts);
        checkCpuWorkers(launcher, plan.device, plan.asked, '--nproc');
        await launchSelf(launcher, undefined);
        return;
      }
      const r = await evaluateRun(runDir, opts);
      // Every rank has the result; rank 0 speaks (RANK read leniently: evaluateRun checked it).
      if (Number(process.env.RANK ?? 0) === 0) out(flags.json ? `${JSON.stringify(r, null, 2)}\n` : text(r));
    }));
}
