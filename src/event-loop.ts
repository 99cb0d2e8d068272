/**
 * Long synchronous loops (training steps, evaluation, iterative pruning) give Node's event loop a
 * turn now and then. N-API finalizers of released tensor wrappers, log writes, progress output
 * and signal handlers all run there; a loop that never yields piles the wrappers up and delays
 * every log line to the end. A turn costs microseconds (docs/architecture.md, "CPU memory"), so
 * yielding once `everyMs` of work has passed costs nothing measurable while keeping the backlog
 * to `everyMs` of steps.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class EventLoopTurns {
  private last = performance.now();

  constructor(private readonly everyMs = 20) {}

  /** Yields to the event loop when `everyMs` have passed since the last turn. */
  async maybeYield(): Promise<void> {
    if (performance.now() - this.last < this.everyMs) return;
    await nextTurn();
    this.last = performance.now();
  }
}
