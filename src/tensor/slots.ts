/**
 * The garbage-collector backstop of tensors held in the addon's slot table (binaryOp's results:
 * native/slots.h). A Tensor inside a tidy() scope is freed by the scope or by dispose(), so it is
 * never watched. One that leaves every scope (created outside tidy, kept, or returned from the
 * outermost tidy) waits in a nursery until the current job ends (or 4,096 wait): those still live
 * then are registered with a FinalizationRegistry, so that `a.add(b).dispose()` outside tidy pays
 * for no registration. A watched tensor's slot is parked rather than reused when it is released,
 * so that the registry's late callback can only free what that tensor held.
 */
import { native } from '../native';

/** What slots.ts reads and sets on a Tensor. */
export interface SlotHolder {
  readonly slot: number;
  /** Registered: its slot is parked, not freed, when it is released. */
  watched: boolean;
}

const registry = new FinalizationRegistry<number>((slot) => native().slotRelease(slot, false));
const nursery: SlotHolder[] = [];
const NURSERY_LIMIT = 4096;
let flushQueued = false;

function flush(): void {
  flushQueued = false;
  for (const t of nursery) {
    if (t.slot >= 0 && !t.watched) {
      t.watched = true;
      registry.register(t, t.slot);
    }
  }
  nursery.length = 0;
}

/** Frees t's slot once t is garbage, unless t is released before the current job ends. */
export function watchSlot(t: SlotHolder): void {
  nursery.push(t);
  if (nursery.length >= NURSERY_LIMIT) {
    flush();
  } else if (!flushQueued) {
    flushQueued = true;
    queueMicrotask(flush);
  }
}
