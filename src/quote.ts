/**
 * How error messages quote a user's strings (bounded, since a config value or a file's key may be
 * a million characters) and put a message on one line. Internal: not exported from the package.
 */

/** The most characters of a user's string that an error message quotes; a config value may be a million. */
export const MAX_QUOTED_CHARS = 200;

/** The first MAX_QUOTED_CHARS characters, not ending in half of a surrogate pair (it would print as garbage). */
function prefixOf(s: string): string {
  const high = s.charCodeAt(MAX_QUOTED_CHARS - 1);
  return s.slice(0, high >= 0xd800 && high <= 0xdbff ? MAX_QUOTED_CHARS - 1 : MAX_QUOTED_CHARS);
}

/**
 * `'text'`, or for a longer string its first MAX_QUOTED_CHARS characters and its length:
 * `'abc…' (1000000 characters)`. Every message that quotes a user's string goes through here.
 */
export function quoteText(s: string): string {
  return s.length <= MAX_QUOTED_CHARS ? `'${s}'` : `'${prefixOf(s)}…' (${s.length} characters)`;
}

/** A path as a shell reads it back: as it is when it holds nothing the shell would split or expand. */
export function shellWord(s: string): string {
  return /^[\w./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/** A fraction as a percentage with two decimals ('87.09%'), as tables and reports print accuracy and density. */
export function percent(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

/** As quoteText, unquoted: a user's key inside a path such as `model.options.<key>`. */
export function boundText(s: string): string {
  return s.length <= MAX_QUOTED_CHARS ? s : `${prefixOf(s)}… (${s.length} characters)`;
}

/** A message of several lines (an IssuesError's title and issues) as one: lines trimmed and joined by '; '. */
export function oneLineText(message: string): string {
  return message.split('\n').map((l) => l.trim()).filter(Boolean).join('; ').replace(/:; /g, ': ');
}

/**
 * Control characters (C0, DEL, C1) and the bidi overrides: a terminal acts on them (an escape
 * sequence clears the screen or sets the title; an override reorders what follows) instead of
 * showing them.
 */
const UNPRINTABLE = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu;

/** `s` with each control character as its `\uXXXX` escape, a tab as a space: safe to print to a terminal. */
export function printableText(s: string): string {
  return s.replace(UNPRINTABLE, (c) => (c === '\t' ? ' ' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/**
 * `<code>: <message>` on one printable line (printableText), `error: <message>` when there is no
 * code (a failed.json's fields, a caught error's).
 */
export function errorLine(code: unknown, message: unknown): string {
  return printableText(`${typeof code === 'string' ? code : 'error'}: ${oneLineText(String(message))}`);
}
