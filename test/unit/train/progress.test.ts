/** The progress numbers: run ETA (closed form), throughput from a fake clock, duration text. */
import { formatDuration, Progress, runEtaSeconds } from '../../../src/train/progress';

describe('progress', () => {
  it('run ETA counts the rest of this epoch and every later epoch at the current pace', () => {
    // epoch 2 of 5, 100 steps per epoch, 40 done, 20 steps/s: (60 + 3 * 100) / 20 = 18 s
    expect(runEtaSeconds({ epoch: 2, epochs: 5, steps: 100, done: 40, stepsPerSecond: 20 })).toBe(18);
    expect(runEtaSeconds({ epoch: 5, epochs: 5, steps: 100, done: 100, stepsPerSecond: 20 })).toBe(0);
    expect(runEtaSeconds({ epoch: 1, epochs: 5, steps: 100, done: 0, stepsPerSecond: 0 })).toBeNaN();
  });

  it('summary() gives steps, steps per second and the ETA from the clock', () => {
    let t = 1000;
    const p = new Progress({ name: 'random (erk) 90% seed 0', epoch: 1, epochs: 3, steps: 50, enabled: false, now: () => t });
    for (let i = 1; i <= 50; i++) {
      t += 100; // 10 steps per second
      p.update(i, 0.5);
    }
    p.stop();
    // 2 epochs of 50 steps left at 10 steps/s
    expect(p.summary()).toEqual({ steps: 50, stepsPerSecond: 10, etaSeconds: 10 });
  });

  it('formats durations', () => {
    expect([formatDuration(4.4), formatDuration(187), formatDuration(7500), formatDuration(NaN)]).toEqual(['4s', '3m07s', '2h05m', '-']);
  });
});
