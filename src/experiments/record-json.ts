/** How run records (metrics.jsonl, final.json; failed.json is read through here too) are written and read: JSON with non-finite numbers kept. */
import { ToolkitError } from '../errors';
import { MAX_NESTING } from '../validate';

/**
 * JSON has no NaN or ±Infinity, and JSON.stringify writes them as null, which loses which one it
 * was and reads as "missing". Record files (metrics.jsonl, final.json) write them as the strings
 * "NaN", "Infinity" and "-Infinity" instead: the files stay valid JSON for any reader (jq, pandas;
 * Python's bare NaN tokens are not JSON), and parseRecordJson reads those strings back as numbers,
 * in any field, extra ones included. No record field holds these strings as text.
 */
export function recordJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), indent);
}

const NON_FINITE = new Map([['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity]]);

/** JSON.parse of a record file's text, with recordJson's non-finite strings read back as numbers. */
export function parseRecordJson(text: string): unknown {
  return revive(JSON.parse(text), 0);
}

/** v with the non-finite strings replaced by numbers, in place (as JSON.parse's reviver would: own data properties, "__proto__" too). */
function revive(v: unknown, depth: number): unknown {
  if (typeof v === 'string') return NON_FINITE.get(v) ?? v;
  if (typeof v !== 'object' || v === null) return v;
  if (depth >= MAX_NESTING) throw new ToolkitError('ERR_CONFIG', `arrays and objects nest more than ${MAX_NESTING} levels deep (a record nests 3)`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const r = revive(o[k], depth + 1);
    if (r !== o[k]) Object.defineProperty(o, k, { value: r, writable: true, enumerable: true, configurable: true });
  }
  return o;
}
