/** How run records (metrics.jsonl, final.json) are written and read: JSON with non-finite numbers kept. */

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
  return JSON.parse(text, (_key, v: unknown) => (typeof v === 'string' && NON_FINITE.has(v) ? NON_FINITE.get(v) : v));
}
