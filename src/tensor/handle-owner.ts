/**
 * What an op argument can own: a native handle (Tensor, Generator). dispatch.ts recognises
 * arguments by this base class rather than by Tensor and Generator themselves, so that the call
 * path does not import the classes built on it.
 */
export abstract class HandleOwner {
  abstract readonly handle: unknown;
}
