/**
 * `signin-torch evaluate <run-dir> [--epoch N | --checkpoint FILE] [--split test|train]
 * [--data-root DIR] [--device D] [--json]`: a run's checkpoint evaluated again
 * (src/experiments/evaluate.ts), loaded lazily with the engines it needs.
 */
import { Option, type Command } from 'commander';
import type { EvaluateResult } from '../experiments/evaluate';
import { percent } from '../quote';
import { intFlag } from './flags';

function text(r: EvaluateResult): string {
  const at = `epoch ${r.position.epoch}${r.position.batch ? ` + ${r.position.batch} steps` : ''}, step ${r.position.step}`;
  const s = r.sparsity;
  const lines = [
    `${r.checkpoint} (${at}) on the ${r.split} split of ${r.dataset}, ${r.examples} examples`,
    `top-1 ${percent(r.top1)}  top-5 ${percent(r.top5)}  loss ${r.loss.toFixed(4)}  sparsity ${percent(s.sparsity)} (${s.kept} of ${s.numel} masked weights kept)`,
  ];
  if (r.recordedTop1 !== undefined) lines.push(`the run recorded test top-1 ${percent(r.recordedTop1)} at this step`);
  return `${lines.join('\n')}\n`;
}

/**
 * Adds the `evaluate` command. `directory` parses folder flags as the other commands do;
 * `wrap` restates dataset errors with the command's --data-root.
 */
export function addEvaluateCommand(
  program: Command,
  out: (text: string) => void,
  directory: (flag: string) => (v: string) => string,
  wrap: <A extends unknown[]>(action: (...args: A) => Promise<void>) => (...args: A) => Promise<void>,
): void {
  program.command('evaluate')
    .description("Evaluate a run's checkpoint again (its newest, or the one after --epoch N) on the test or training split with the run's own model, Sign-In and evaluation transforms; prints loss, top-1, top-5 and sparsity, and the test top-1 the run recorded at that step.")
    .argument('<run-dir>', 'the run directory (holding config.json)', directory('<run-dir>'))
    .option('--epoch <n>', 'the checkpoint written after this epoch (one of the last two, or one checkpoint.keepEpochs / keepEvery kept)', intFlag('--epoch', 1))
    .option('--checkpoint <file>', "a checkpoint file of this run's config instead of the run's own")
    .addOption(new Option('--split <split>', 'which split').choices(['test', 'train']).default('test'))
    .option('--data-root <dir>', "the dataset's folder, instead of the one the config names", directory('--data-root'))
    .option('--device <d>', "'cpu', 'cuda', 'cuda:N' instead of the config's device")
    .option('--json', 'print the result as JSON')
    .action(wrap(async (runDir: string, flags: { epoch?: number; checkpoint?: string; split: 'test' | 'train'; dataRoot?: string; device?: string; json?: boolean }) => {
      const { evaluateRun } = await import('../experiments/evaluate');
      const r = await evaluateRun(runDir, {
        split: flags.split,
        ...(flags.epoch === undefined ? {} : { epoch: flags.epoch }),
        ...(flags.checkpoint === undefined ? {} : { checkpoint: flags.checkpoint }),
        ...(flags.dataRoot === undefined ? {} : { dataRoot: flags.dataRoot }),
        ...(flags.device === undefined ? {} : { device: flags.device }),
      });
      out(flags.json ? `${JSON.stringify(r, null, 2)}\n` : text(r));
    }));
}
