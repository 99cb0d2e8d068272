/**
 * The line `signin-torch sweep` prints on stderr for each event of its runs. An interrupted run's
 * line says what running the sweep again does with it: resume from its checkpoint, or start over
 * when nothing was saved (stopped while pruning, or before its first checkpoint: a child still
 * starting is ended by the forwarded signal itself).
 */
import * as path from 'node:path';
import type { SweepEvent } from '../experiments/sweep';

/** `total`: the sweep's number of runs; `label`: what sets this run apart (its grid point). */
export function sweepEventLine(e: SweepEvent, total: number, label: string): string {
  const tag = `[${e.run.index + 1}/${total}]`;
  const name = path.basename(e.run.runDir);
  switch (e.type) {
    case 'skip': return `${tag} finished already: ${name}\n`;
    case 'busy': return `${tag} left to pid ${e.holder.pid} on ${e.holder.host}, which is training it: ${name}\n`;
    case 'start': return `${tag} start ${name} (${label})\n`;
    case 'done': return `${tag} done ${name} in ${e.seconds.toFixed(0)} s\n`;
    case 'fail': return `${tag} FAILED ${name}: ${e.error}\n`;
    case 'interrupted': {
      const next = e.whilePruning ? 'stopped while pruning, nothing saved: it starts over'
        : e.checkpointed ? 'checkpointed, it resumes' : 'stopped before its first checkpoint, nothing saved: it starts over';
      return `${tag} interrupted ${name}: ${next} when the sweep runs again\n`;
    }
  }
}
