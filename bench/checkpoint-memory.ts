/**
 * Resident memory of a training process that writes checkpoints, or starts from one, ours vs
 * PyTorch, each run in a fresh process: ResNet-50 (ImageNet layout, dense), SGD with momentum,
 * batch 2 of 3×64×64 (small, so that the model, its gradients and momentum, and the checkpoint
 * are most of what is resident), 6 steps.
 *  - train: the steps alone;
 *  - save: a checkpoint written after each step (ours: saveCheckpoint; PyTorch: torch.save of the
 *    model's and optimizer's state dicts to a temporary file renamed over the target);
 *  - resume: the checkpoint of a 1-step run restored first (ours: loadCheckpoint; PyTorch:
 *    torch.load and load_state_dict), then the steps.
 * Reported: the resident set after the last step and its peak (VmHWM), MiB. The checkpoint is
 * model + momentum (about 205 MB); a process that holds no copy of it ends where `train` does.
 * The zoo's layers carry their masks even when dense (float32 in memory, one byte an entry in the
 * file), which PyTorch's plain model has not: compare each side with its own `train` row.
 *
 *   npx tsx bench/checkpoint-memory.ts [--rounds 2] [--steps 6]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { F, manualSeed, randint, randn, setNumThreads, tidy } from '../src';
import { createModel } from '../src/models';
import { SGD } from '../src/optim/sgd';
import { loadCheckpoint, saveCheckpoint } from '../src/train/checkpoint';
import { benchMain, machine, machineNote, median, procCounters, runOurs, runPytorch, spread } from './common';

type Variant = 'train' | 'save' | 'resume';
const VARIANTS: readonly Variant[] = ['train', 'save', 'resume'];

interface CkptParams {
  variant: Variant | 'write';
  steps: number;
  file: string;
}

interface CkptResult {
  rssMiB: number;
  peakMiB: number;
}

async function oursRun(p: CkptParams): Promise<CkptResult> {
  setNumThreads(2);
  manualSeed(0);
  const model = createModel('resnet50', { numClasses: 1000 });
  const optimizer = SGD.forModel(model, { lr: 0.01, momentum: 0.9 });
  const x = randn([2, 3, 64, 64]);
  const y = randint(0, 1000, [2]);
  const parts = { model, optimizer, callbacks: [] };
  if (p.variant === 'resume') loadCheckpoint(p.file, parts);
  const steps = p.variant === 'write' ? 1 : p.steps;
  for (let i = 0; i < steps; i++) {
    tidy(() => {
      const loss = F.crossEntropy(model.forward(x), y);
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
    });
    // The Trainer's turn of the event loop, where finalizers run.
    await new Promise(setImmediate);
    if (p.variant === 'save' || p.variant === 'write') saveCheckpoint(p.file, { ...parts, position: { epoch: 0, step: i + 1 } });
  }
  const c = procCounters();
  return { rssMiB: c.rssMb, peakMiB: c.hwmMb };
}

export async function run(opts: { rounds?: number; steps?: number } = {}): Promise<{ markdown: string }> {
  const rounds = opts.rounds ?? 2;
  const steps = opts.steps ?? 6;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-bench-ckpt-'));
  try {
    const files = { ours: path.join(dir, 'ours.safetensors'), pytorch: path.join(dir, 'pytorch.pt') };
    runOurs<CkptResult>(__filename, { variant: 'write', steps, file: files.ours });
    runPytorch<CkptResult>('checkpoint_memory.py', { variant: 'write', steps, file: files.pytorch });
    const sizes = { ours: fs.statSync(files.ours).size, pytorch: fs.statSync(files.pytorch).size };
    const before = machine();
    const results = new Map<string, CkptResult[]>();
    const push = (key: string, r: CkptResult) => results.set(key, [...(results.get(key) ?? []), r]);
    for (let r = 0; r < rounds; r++) {
      for (const variant of VARIANTS) {
        const save = (f: string) => (variant === 'resume' ? f : path.join(dir, `${variant}-${path.basename(f)}`));
        const go = [
          () => push(`ours ${variant}`, runOurs<CkptResult>(__filename, { variant, steps, file: save(files.ours) })),
          () => push(`pytorch ${variant}`, runPytorch<CkptResult>('checkpoint_memory.py', { variant, steps, file: save(files.pytorch) })),
        ];
        for (const f of r % 2 ? go.reverse() : go) f();
      }
    }
    const after = machine();
    const cell = (key: string) => {
      const xs = results.get(key)!;
      return `${spread(xs.map((x) => x.rssMiB), 0)} | ${spread(xs.map((x) => x.peakMiB), 0)}`;
    };
    const over = (who: string, v: Variant) => {
      const d = median(results.get(`${who} ${v}`)!.map((x) => x.rssMiB)) - median(results.get(`${who} train`)!.map((x) => x.rssMiB));
      return `${d < 0 ? '−' : '+'}${Math.abs(d).toFixed(0)}`;
    };
    const markdown = [
      `ResNet-50 (ImageNet layout, dense), SGD momentum 0.9, batch 2 of 3×64×64, ${steps} steps, 2 threads; ${rounds} round(s), the order alternating, each run in a fresh process. `
        + `Checkpoint files: ours ${(sizes.ours / 2 ** 20).toFixed(0)} MiB (safetensors, with the masks, the RNG state and a sha256), PyTorch's ${(sizes.pytorch / 2 ** 20).toFixed(0)} MiB (torch.save). `
        + 'The zoo\'s layers carry masks even when dense (float32 in memory), PyTorch\'s plain model none: compare each side with its own train row. MiB; median (min–max).',
      '',
      '| run | ours: resident at the end | ours: peak | PyTorch: resident at the end | PyTorch: peak |',
      '|---|---|---|---|---|',
      ...VARIANTS.map((v) => `| ${v} | ${cell(`ours ${v}`)} | ${cell(`pytorch ${v}`)} |`),
      '',
      `Resident at the end over the plain run: save ours ${over('ours', 'save')}, PyTorch ${over('pytorch', 'save')}; `
        + `resume ours ${over('ours', 'resume')}, PyTorch ${over('pytorch', 'resume')}.`,
      '',
      machineNote(before, after),
    ].join('\n');
    return { markdown };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

benchMain<CkptParams>(module, oursRun, ({ num }) => run({ rounds: num('rounds'), steps: num('steps') }));
