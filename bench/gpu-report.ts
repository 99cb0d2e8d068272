/**
 * The GPU benchmark tables (markdown on stdout) from the JSON files that scripts/gpu-check.sh
 * leaves in one folder: train-ours.json / train-pytorch.json (bench/gpu-train.ts and its twin)
 * and signin-ours.json / signin-pytorch.json (bench/gpu-signin-step.ts and its twin). A missing
 * file leaves its table out with a note, so a partial run still reports what it measured.
 *
 *   tsx bench/gpu-report.ts <folder>
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

interface TrainRow {
  signin: boolean;
  amp: string | false;
  channelsLast: boolean;
  medianStepMs: number;
  imagesPerSec: number;
  peakAllocatedBytes: number | null;
}

interface TrainFile {
  model: string;
  torch: string;
  device: string;
  batch: number;
  size: number;
  results: TrainRow[];
}

interface SigninRow {
  numel: number;
  fusedMs?: number;
  unfusedMs?: number;
  copyMs: number;
  fusedGBs?: number;
  copyGBs: number;
}

function read<T>(dir: string, name: string): T | undefined {
  const file = path.join(dir, name);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as T) : undefined;
}

const key = (r: Pick<TrainRow, 'signin' | 'amp' | 'channelsLast'>) => `${r.signin}/${r.amp}/${r.channelsLast}`;
const gib = (b: number | null | undefined) => (b === null || b === undefined ? '–' : (b / 2 ** 30).toFixed(2));
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

export function trainTable(ours: TrainFile, torch?: TrainFile): string[] {
  const theirs = new Map((torch?.results ?? []).map((r) => [key(r), r]));
  const plainOf = (r: TrainRow, rows: TrainRow[]) => rows.find((p) => !p.signin && p.amp === r.amp && p.channelsLast === r.channelsLast);
  const lines = [
    `Masked ${ours.model}, batch ${ours.batch}, ${ours.size} px, 90% sparsity, device ${ours.device}; ours on libtorch ${ours.torch}`
      + `${torch ? `, PyTorch ${torch.torch} eager` : ''}. Median synchronized step after warm-up.`,
    '',
    '| variant | ours img/s | PyTorch img/s | ours / PyTorch | Sign-In overhead (ours) | Sign-In overhead (PyTorch) | peak GiB ours | peak GiB PyTorch |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of ours.results) {
    const t = theirs.get(key(r));
    const name = `${r.signin ? 'Sign-In' : 'plain'}, ${r.amp === false ? 'fp32' : `${r.amp} autocast`}${r.channelsLast ? ', channels_last' : ''}`;
    const po = r.signin ? plainOf(r, ours.results) : undefined;
    const pt = r.signin && t ? plainOf(t, torch!.results) : undefined;
    lines.push(`| ${name} | ${r.imagesPerSec.toFixed(1)} | ${t ? t.imagesPerSec.toFixed(1) : '–'} | ${t ? (r.imagesPerSec / t.imagesPerSec).toFixed(2) : '–'} | `
      + `${po ? pct(r.medianStepMs / po.medianStepMs - 1) : ''} | ${pt && t ? pct(t.medianStepMs / pt.medianStepMs - 1) : ''} | `
      + `${gib(r.peakAllocatedBytes)} | ${gib(t?.peakAllocatedBytes)} |`);
  }
  return lines;
}

export function signinTable(ours: { torch: string; device: string; rows: SigninRow[] }, torch?: { rows: SigninRow[] }): string[] {
  const lines = [
    `Fused Sign-In step (44 B/element) against a device-to-device copy of the same bytes, device ${ours.device}, median per call.`,
    '',
    '| elements | fused (ms) | fused GB/s | copy GB/s | fused / copy | PyTorch unfused route (ms) |',
    '|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of ours.rows) {
    const t = torch?.rows.find((x) => x.numel === r.numel);
    lines.push(`| ${r.numel} | ${r.fusedMs!.toFixed(3)} | ${r.fusedGBs!.toFixed(0)} | ${r.copyGBs.toFixed(0)} | `
      + `${((r.fusedGBs! / r.copyGBs) * 100).toFixed(0)}% | ${t?.unfusedMs !== undefined ? t.unfusedMs.toFixed(3) : '–'} |`);
  }
  return lines;
}

function main(): void {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: tsx bench/gpu-report.ts <folder>');
  const out: string[] = [];
  const trainOurs = read<TrainFile>(dir, 'train-ours.json');
  if (trainOurs) out.push(...trainTable(trainOurs, read<TrainFile>(dir, 'train-pytorch.json')), '');
  else out.push('No training figures (train-ours.json is missing).', '');
  const signinOurs = read<{ torch: string; device: string; rows: SigninRow[] }>(dir, 'signin-ours.json');
  if (signinOurs) out.push(...signinTable(signinOurs, read<{ rows: SigninRow[] }>(dir, 'signin-pytorch.json')));
  else out.push('No Sign-In step figures (signin-ours.json is missing).');
  process.stdout.write(`${out.join('\n')}\n`);
}

if (require.main === module) main();
