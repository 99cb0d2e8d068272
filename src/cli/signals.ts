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
 *
 * A child of this toolkit's own supervisors (SUPERVISED_ENV: `--nproc`'s launcher, `sweep`) leads
 * its own process group, so if the supervisor dies without forwarding anything (SIGKILL, the OOM
 * killer) no signal would ever come: the child then stops as on SIGHUP, noticed by its parent pid
 * changing (checked every second) instead of training on unsupervised and holding the run's lock.
 * A child still loading when its supervisor died has its new parent already, so the supervisor
 * also passes its own pid (SUPERVISOR_PID_ENV), checked too: that process must still exist.
 */
import { intVar } from '../distributed/env-var';
import { SUPERVISED_ENV, SUPERVISOR_PID_ENV } from '../distributed/launch';
import { isAlive } from '../pid';

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
const PARENT_CHECK_MS = 1000;

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

export function stopOnSignals(env: NodeJS.ProcessEnv = process.env): SignalStop {
  const supervised = isSupervised(env);
  const controller = new AbortController();
  const parent = process.ppid;
  const watched = env[SUPERVISED_ENV] === '1';
  const supervisor = watched && env[SUPERVISOR_PID_ENV] !== undefined ? intVar(env, SUPERVISOR_PID_ENV, 1) : undefined;
  const gone = (): boolean => process.ppid !== parent || (supervisor !== undefined && !isAlive(supervisor));
  const watch = watched
    ? setInterval(() => {
      if (controller.signal.aborted || !gone()) return;
      process.stderr.write(`signin-torch: the supervising process ${supervisor ?? parent} exited: stopping as on SIGHUP\n`);
      controller.abort('SIGHUP');
    }, PARENT_CHECK_MS).unref()
    : undefined;
  const remove = (): void => {
    for (const s of SIGNALS) process.removeListener(s, onSignal);
    clearInterval(watch);
  };
  function onSignal(name: NodeJS.Signals): void {
    if (controller.signal.aborted) return;
    controller.abort(name);
    if (!supervised) remove();
  }
  for (const s of SIGNALS) process.on(s, onSignal);
  return { signal: controller.signal, dispose: remove };
}
