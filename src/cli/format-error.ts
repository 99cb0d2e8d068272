import { ToolkitError } from '../errors';
import { errorLine } from '../quote';

/** One line: `<code>: <message>` with gathered issues joined by '; '. */
export function formatError(e: unknown): string {
  return errorLine(e instanceof ToolkitError ? e.code : undefined, (e as { message?: unknown })?.message ?? e);
}
