/**
 * `signin-torch export <run-dir> --out FILE [--epoch N | --checkpoint FILE] [--dtype D]`: a run's
 * weights as the state dict PyTorch loads (src/experiments/export.ts), loaded lazily with the
 * engines it needs.
 */
import { Option, type Command } from 'commander';
import { choices } from './choices';
import { intFlag } from './flags';

/** Zoo models whose names torchvision's module of the same name loads strictly (test/native/models/torchvision-parity.test.ts). */
const TORCHVISION = new Set(['resnet18', 'resnet34', 'resnet50']);

/** Adds the `export` command; `directory` parses folder arguments as the other commands do. */
export function addExportCommand(program: Command, out: (text: string) => void, directory: (flag: string) => (v: string) => string): void {
  program.command('export')
    .description("Write a run's weights (its newest checkpoint, or the one after --epoch N) as the state dict a PyTorch module of the same architecture loads: safetensors with PyTorch's names, Sign-In's θ in weight (zero where pruned), masks dropped.")
    .argument('<run-dir>', 'the run directory (holding config.json)', directory('<run-dir>'))
    .requiredOption('-o, --out <file>', 'the safetensors file to write (replaced atomically)')
    .option('--epoch <n>', 'the checkpoint written after this epoch (one of the last two, or one checkpoint.keepEpochs / keepEvery kept)', intFlag('--epoch', 1))
    .option('--checkpoint <file>', "a checkpoint file of this run's config instead of the run's own")
    .addOption(choices(new Option('--dtype <dtype>', 'dtype of the floating tensors'), ['float32', 'float16', 'bfloat16']).default('float32'))
    .action(async (runDir: string, flags: { out: string; epoch?: number; checkpoint?: string; dtype: 'float32' | 'float16' | 'bfloat16' }) => {
      const { exportRun } = await import('../experiments/export');
      const r = exportRun(runDir, {
        out: flags.out,
        dtype: flags.dtype,
        ...(flags.epoch === undefined ? {} : { epoch: flags.epoch }),
        ...(flags.checkpoint === undefined ? {} : { checkpoint: flags.checkpoint }),
      });
      const lines = [`wrote ${r.tensors} tensors (${r.bytes} bytes) of ${r.model} at epoch ${r.position.epoch}, step ${r.position.step}, to ${r.out}`];
      if (TORCHVISION.has(r.model)) {
        lines.push(`in PyTorch: torchvision.models.${r.model}(num_classes=${String(r.modelOptions.numClasses)}).load_state_dict(safetensors.torch.load_file(${JSON.stringify(r.out)}))`);
      }
      out(`${lines.join('\n')}\n`);
    });
}
