/** The error `fn` throws; a test that expected one fails when `fn` returns. */
export function errorOf(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected an error');
}

/** The error `p` rejects with; a test that expected one fails when `p` resolves. */
export async function rejectionOf<E extends Error = Error & { code?: string }>(p: Promise<unknown>): Promise<E> {
  try {
    await p;
  } catch (e) {
    return e as E;
  }
  throw new Error('expected a rejection');
}
