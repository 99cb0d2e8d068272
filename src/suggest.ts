/**
 * "did you mean": the names a user probably meant by a word that is not one. In order, the first
 * rule that finds any wins:
 *   1. the same name with case and separators ('_', '-', ' ') ignored ('WRN-28-10' → wrn_28_10);
 *   2. names that contain it, from the start of one of their words, with the same numbers
 *      ('ResNet20' → cifar_resnet_20, 'lenet' → lenet5), those ending with it first, at most 3;
 *   3. the nearest name by edit distance, case ignored, if near enough.
 * A name with `<…>` placeholders is a family ('cifar_resnet_<6n+2>'): its member with the word's
 * numbers counts as a name when `accepts` takes it (cifar_resnet_26, not cifar_resnet_27).
 */

const MAX_SUGGESTIONS = 3;
/** Shorter words are too weak a clue for rule 2 ('a' starts a word of many names). */
const MIN_CONTAINED = 3;

interface Form {
  /** Lowercase, without separators, but '_' between two numbers (wrn_28_10 → 'wrn28_10'). */
  text: string;
  /** Where the words start in text (after a separator, at a lower-to-upper case or letter/digit change). */
  starts: Set<number>;
  numbers: string[];
}

function form(name: string): Form {
  let text = '';
  const starts = new Set<number>();
  const numbers: string[] = [];
  for (const part of name.split(/[-_ ]+/)) {
    for (const word of part.match(/\d+|[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[^\dA-Za-z]+/g) ?? []) {
      const isNumber = /^\d/.test(word);
      if (isNumber && /\d$/.test(text)) text += '_';
      starts.add(text.length);
      text += word.toLowerCase();
      if (isNumber) numbers.push(word);
    }
  }
  return { text, starts, numbers };
}

/** The family member of `pattern` with the word's numbers, when the counts agree. */
function member(pattern: string, numbers: readonly string[]): string | undefined {
  const holes = pattern.match(/<[^>]*>/g) ?? [];
  if (holes.length !== numbers.length) return undefined;
  let i = 0;
  return pattern.replace(/<[^>]*>/g, () => numbers[i++]);
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      dp[i][j] = Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
    }
  }
  return dp[a.length][b.length];
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  const within = Math.max(2, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    // The distance is at least the difference in length: a name that far off is never suggested, and
    // its table (word.length rows) is not built, which for a value of a million characters took seconds.
    if (Math.abs(word.length - c.length) > within) continue;
    const d = editDistance(word, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= within ? best : undefined;
}

function sameNumbers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

/**
 * The names (at most 3) that `word` probably meant among `names`, best first; none for a word
 * near none of them.
 */
export function suggest(word: string, names: readonly string[], accepts: (member: string) => boolean = () => true): string[] {
  const longest = Math.max(0, ...names.map((n) => n.length));
  // Separators aside, no name is contained in, or equal to, a word this long; its forms are not built.
  const w = word.length <= 2 * longest + 8 ? form(word) : undefined;
  const concrete = names.filter((n) => !n.includes('<'));
  const members = w ? names.filter((n) => n.includes('<')).map((p) => member(p, w.numbers)).filter((m): m is string => m !== undefined && accepts(m)) : [];
  const candidates = [...new Set([...concrete, ...members])].map((name) => ({ name, ...form(name) }));
  if (w && w.text.length > 0) {
    const exact = candidates.filter((c) => c.text === w.text);
    if (exact.length > 0) return exact.slice(0, MAX_SUGGESTIONS).map((c) => c.name);
    if (w.text.length >= MIN_CONTAINED) {
      const containing = candidates.filter((c) => (w.numbers.length === 0 || sameNumbers(c.numbers, w.numbers))
        && [...c.starts].some((s) => c.text.startsWith(w.text, s)));
      const ending = containing.filter((c) => c.text.endsWith(w.text) && c.starts.has(c.text.length - w.text.length));
      const ranked = [...ending, ...containing.filter((c) => !ending.includes(c))];
      if (ranked.length > 0) return ranked.slice(0, MAX_SUGGESTIONS).map((c) => c.name);
    }
  }
  const near = closest(word, candidates.map((c) => c.name));
  return near === undefined ? [] : [near];
}

/** " (did you mean 'a', 'b' or 'c'?)", or '' for no suggestion. */
export function didYouMean(suggestions: readonly string[]): string {
  if (suggestions.length === 0) return '';
  const quoted = suggestions.map((s) => `'${s}'`);
  const list = quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
  return ` (did you mean ${list}?)`;
}
