/** A progress bar with throughput and ETA on a TTY; silent otherwise (logs carry the numbers). */
import { SingleBar, Presets } from 'cli-progress';

export class Progress {
  private readonly bar: SingleBar | undefined;

  constructor(label: string, total: number, enabled = process.stderr.isTTY === true) {
    if (!enabled || total <= 0) return;
    this.bar = new SingleBar(
      { format: `${label} [{bar}] {value}/{total} | loss {loss} | {speed} it/s | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true },
      Presets.shades_classic,
    );
    this.started = Date.now();
    this.bar.start(total, 0, { loss: '-', speed: '-' });
  }

  private started = 0;

  update(value: number, loss: number): void {
    if (!this.bar) return;
    const speed = value / Math.max((Date.now() - this.started) / 1000, 1e-3);
    this.bar.update(value, { loss: loss.toFixed(4), speed: speed.toFixed(1) });
  }

  stop(): void {
    this.bar?.stop();
  }
}
