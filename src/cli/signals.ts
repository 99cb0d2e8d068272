/**
 * SIGINT and SIGTERM as an AbortSignal, for the commands that train (`train`, `sweep`, the
 * ImageNet example): the trainer stops at the next step boundary and checkpoints there. The
 * library itself installs no handlers; these are installed by the command, for its duration.
 *
 * A second signal: a process on its own gets the default action back after the first, so a
 * second Ctrl-C ends it at once, even inside a checkpoint write (atomic: the previous checkpoint
 * stays). A supervised process (a worker of `--nproc`, of torchrun, or a child of `sweep`) keeps
 * ignoring repeats: Slurm signals every process of a job and its supervisor forwards the same
 * signal, so a repeat there is no second request; the supervisor escalates (SIGKILL) instead.
 */
import { SUPERVISED_ENV } from '../distributed/launch';

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/** Whether a supervisor forwards signals to this process and escalates itself. */
export function isSupervised(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[SUPERVISED_ENV] === '1' || Number(env.WORLD_SIZE ?? 1) > 1;
}

export interface SignalStop {
  /** Aborted on the first SIGINT or SIGTERM, its reason the signal's name. */
  readonly signal: AbortSignal;
  /** Removes the handlers (the command is over). */
  dispose(): void;
}

export function stopOnSignals(supervised = isSupervised()): SignalStop {
  const controller = new AbortController();
  const remove = (): void => {
    for (const s of SIGNALS) process.removeListener(s, onSignal);
  };
  function onSignal(name: NodeJS.Signals): void {
    if (controller.signal.aborted) return;
    controller.abort(name);
    if (!supervised) remove();
  }
  for (const s of SIGNALS) process.on(s, onSignal);
  return { signal: controller.signal, dispose: remove };
}
