import { ToolkitError } from '../errors';
import { oneLineText } from '../quote';

/** One line: `<code>: <message>` with gathered issues joined by '; '. */
export function formatError(e: unknown): string {
  const err = e as { code?: unknown; message?: unknown };
  const message = oneLineText(String(err?.message ?? e));
  return e instanceof ToolkitError ? `${e.code}: ${message}` : `error: ${message}`;
}
