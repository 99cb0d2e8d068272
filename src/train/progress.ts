/**
 * Progress of one training epoch. On a terminal (stderr) a bar names the run and shows the epoch,
 * steps, loss, throughput and the ETA of the whole run; elsewhere it draws nothing, and the
 * trainer's one log line per epoch carries `summary()` (steps, throughput, ETA) instead.
 */
import { SingleBar, Presets } from 'cli-progress';

export interface ProgressOptions {
  /** Names the run in the bar, e.g. 'Random + Sign-In 95% seed 0'. */
  name?: string;
  /** 1-based epoch being trained. */
  epoch: number;
  epochs: number;
  /** Steps in this epoch. */
  steps: number;
  /** Draw the bar (default: stderr is a terminal). */
  enabled?: boolean;
  /** Milliseconds clock; tests replace it. */
  now?: () => number;
}

export interface EpochProgress {
  steps: number;
  stepsPerSecond: number;
  /** Seconds left for the remaining epochs at this epoch's pace (0 after the last epoch). */
  etaSeconds: number;
}

/** '45s', '3m07s', '2h05m'. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Seconds left in the run after `done` of `steps` steps of epoch `epoch` (1-based) of `epochs`. */
export function runEtaSeconds(o: { epoch: number; epochs: number; steps: number; done: number; stepsPerSecond: number }): number {
  if (!(o.stepsPerSecond > 0)) return NaN;
  const left = (o.steps - o.done) + (o.epochs - o.epoch) * o.steps;
  return left / o.stepsPerSecond;
}

export class Progress {
  private readonly bar: SingleBar | undefined;
  private readonly now: () => number;
  private readonly started: number;
  private done = 0;

  constructor(private readonly opts: ProgressOptions) {
    this.now = opts.now ?? Date.now;
    this.started = this.now();
    if (!(opts.enabled ?? process.stderr.isTTY === true) || opts.steps <= 0) return;
    const name = opts.name ? `${opts.name} · ` : '';
    this.bar = new SingleBar(
      {
        format: `${name}epoch ${opts.epoch}/${opts.epochs} [{bar}] {value}/{total} steps · loss {loss} · {speed} it/s · ETA {runEta}`,
        stream: process.stderr,
        hideCursor: true,
      },
      Presets.shades_classic,
    );
    this.bar.start(opts.steps, 0, { loss: '-', speed: '-', runEta: '-' });
  }

  private stepsPerSecond(): number {
    return this.done / Math.max((this.now() - this.started) / 1000, 1e-3);
  }

  update(done: number, loss: number): void {
    this.done = done;
    if (!this.bar) return;
    const speed = this.stepsPerSecond();
    const runEta = runEtaSeconds({ ...this.opts, done, stepsPerSecond: speed });
    this.bar.update(done, { loss: loss.toFixed(4), speed: speed.toFixed(1), runEta: formatDuration(runEta) });
  }

  /** Steps, throughput and the run's ETA at this point (for the epoch's log line). */
  summary(): EpochProgress {
    const stepsPerSecond = this.stepsPerSecond();
    const eta = runEtaSeconds({ ...this.opts, done: this.done, stepsPerSecond });
    return { steps: this.done, stepsPerSecond: Number(stepsPerSecond.toFixed(2)), etaSeconds: Number.isFinite(eta) ? Math.round(eta) : 0 };
  }

  stop(): void {
    this.bar?.stop();
  }
}
