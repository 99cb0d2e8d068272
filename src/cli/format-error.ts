import { ToolkitError } from '../errors';

/** One line: `<code>: <message>` with gathered issues joined by '; '. */
export function formatError(e: unknown): string {
  const err = e as { code?: unknown; message?: unknown };
  const message = String(err?.message ?? e).split('\n').map((l) => l.trim()).filter(Boolean).join('; ').replace(/:; /g, ': ');
  return e instanceof ToolkitError ? `${e.code}: ${message}` : `error: ${message}`;
}
