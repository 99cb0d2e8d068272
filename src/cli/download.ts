/**
 * `signin-torch download <dataset> [--root DIR] [--mirror URL|DIR] [--timeout S]`: downloadDataset from
 * the command line. The default root is data/<dataset> under the working folder; the command
 * prints the `train` flags that read what it fetched. Progress: the library's log lines, or on a
 * terminal a bar (the info lines are then left out, so as not to tear it).
 */
import * as path from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import { Argument, type Command } from 'commander';
import { DOWNLOADABLE_DATASETS, mirrorUrl, type DownloadableDataset, type DownloadOptions, type DownloadProgress, type DownloadResult } from '../data/download';
import type { Logger } from 'pino';
import { childLogger } from '../logger';
import { shellWord } from '../quote';
import { choices } from './choices';
import { numberFlag } from './flags';

export type DownloadFn = (name: DownloadableDataset, options: DownloadOptions) => Promise<DownloadResult>;

/** The library's logger for the download, raised to 'warn' at least: a mirror that fails still says so. */
function warningsOnly(): Logger {
  const log = childLogger({ module: 'download' });
  return log.levelVal < log.levels.values.warn ? log.child({}, { level: 'warn' }) : log;
}

/** A bar on stderr for the file being received; a new file (a mirror tried next, another IDX file) starts a new bar. */
function progressBar(): { onProgress: (p: DownloadProgress) => void; stop: () => void } {
  let bar: SingleBar | undefined;
  let url: string | undefined;
  const mib = (n: number) => (n / 2 ** 20).toFixed(1);
  return {
    onProgress: (p) => {
      if (p.url !== url) {
        bar?.stop();
        url = p.url;
        bar = new SingleBar({ format: `${path.posix.basename(p.url)} [{bar}] {mib} MiB{of}`, stream: process.stderr, hideCursor: true, barsize: 30 }, Presets.shades_classic);
        bar.start(p.total ?? 0, 0, { mib: '0.0', of: p.total === undefined ? '' : ` of ${mib(p.total)} MiB` });
      }
      bar!.update(p.bytes, { mib: mib(p.bytes) });
    },
    stop: () => bar?.stop(),
  };
}

/** Adds the `download` command; `directory` parses --root as the other commands parse their folders. */
export function addDownloadCommand(program: Command, out: (text: string) => void, download: DownloadFn, directory: (flag: string) => (v: string) => string): void {
  program.command('download')
    .description('Download MNIST, Fashion-MNIST, CIFAR-10 or CIFAR-100 (binary version), md5-checked, into the layout the loaders read; nothing is fetched when root already holds it. ImageNet is not offered: get it from image-net.org under its terms.')
    .addArgument(choices(new Argument('<dataset>', 'the dataset'), DOWNLOADABLE_DATASETS))
    .option('--root <dir>', 'folder to fill, created if missing; what train --data-root is then given (default: data/<dataset>)', directory('--root'))
    .option('--mirror <url|dir>', 'a copy holding the files under their usual names, instead of the published mirrors: an http(s) base URL, or a local folder as a file:// URL or an absolute path (default: $SIGNIN_TORCH_DATASET_MIRROR/<dataset>/ when set)', (v) => mirrorUrl('--mirror', v))
    .option('--timeout <s>', 'seconds an HTTP connection may send nothing before it fails (default: 60)', numberFlag('--timeout', 'a number of seconds in (0, 2147483]', (n) => n > 0 && n <= 2147483))
    .action(async (dataset: DownloadableDataset, flags: { root?: string; mirror?: string; timeout?: number }) => {
      const root = flags.root ?? path.join('data', dataset);
      const bar = process.stderr.isTTY ? progressBar() : undefined;
      let r: DownloadResult;
      try {
        r = await download(dataset, {
          root,
          ...(flags.mirror === undefined ? {} : { mirror: flags.mirror }),
          ...(flags.timeout === undefined ? {} : { timeoutMs: Math.ceil(flags.timeout * 1000) }),
          ...(bar ? { onProgress: bar.onProgress, logger: warningsOnly() } : {}),
        });
      } finally {
        bar?.stop();
      }
      const what = r.fetched.length === 0 ? 'already complete, nothing fetched' : `${r.fetched.length} file(s) fetched and verified (${r.bytes} bytes)`;
      out(`${dataset}: ${what} in ${r.root}\ntrain on it with: signin-torch train --dataset ${dataset} --data-root ${shellWord(r.root)}\n`);
    });
}
