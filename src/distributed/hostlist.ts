/**
 * SLURM's compressed host lists (SLURM_STEP_NODELIST, SLURM_JOB_NODELIST): `gpu[01-03,07],cpu5`
 * is gpu01, gpu02, gpu03, gpu07, cpu5. Expanded as `scontrol show hostnames` does (Slurm's
 * hostlist.c), which the tests compare against: items separated by commas or whitespace; each a
 * name, or a prefix with bracketed ranges (several brackets give every combination, the last
 * varying fastest, and nothing may follow the last one); a range `lo-hi` is printed zero-padded
 * to the width of `lo`; order and repeats are kept. Where scontrol takes a malformed list
 * leniently (`n[1-]`, `n[1-2`), it is refused here: SLURM itself never writes one.
 */
import { InvalidArgumentError, ToolkitError } from '../errors';

/** No job has more nodes than the launcher accepts; a list naming more is refused before it is expanded. */
const MAX_HOSTS = 65535;

function invalid(name: string, list: string, why: string): ToolkitError {
  return new ToolkitError('ERR_INVALID_ARG', `Expected ${name} to be a SLURM host list such as 'gpu[01-03,07],cpu5' but it is '${list}': ${why}`);
}

/** The numbers of one bracket's ranges, as strings padded to each range's lower bound. */
function bracket(inner: string, fail: (why: string) => ToolkitError): { count: number; expand: () => string[] } {
  const ranges = inner.split(',').map((part) => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw fail(`'[${inner}]' holds '${part}', not a number or a range lo-hi of numbers`);
    const [lo, hi] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (!Number.isSafeInteger(hi)) throw fail(`'${part}' is too large a number`);
    if (lo > hi) throw fail(`the range '${part}' runs backwards`);
    return { lo, hi, width: m[1].length };
  });
  return {
    count: ranges.reduce((n, r) => n + r.hi - r.lo + 1, 0),
    expand: () => ranges.flatMap((r) => Array.from({ length: r.hi - r.lo + 1 }, (_, i) => String(r.lo + i).padStart(r.width, '0'))),
  };
}

/** One item of the list: its literal pieces and brackets, and how many hosts it names. */
function item(text: string, fail: (why: string) => ToolkitError): { count: number; expand: () => string[] } {
  const parts = text.split(/\[([^\][]*)\]/);
  // split keeps the brackets' contents at odd indices; literal text at even ones.
  const literals = parts.filter((_, i) => i % 2 === 0);
  if (literals.some((l) => /[[\]]/.test(l))) throw fail(`'${text}' has an unmatched '[' or ']'`);
  if (parts.length > 1 && literals[literals.length - 1] !== '') throw fail(`'${text}' goes on after its last ']'`);
  const brackets = parts.filter((_, i) => i % 2 === 1).map((inner) => bracket(inner, fail));
  const count = brackets.reduce((n, b) => n * b.count, 1);
  return {
    count,
    expand: () => brackets.reduce((names, b, i) => names.flatMap((n) => b.expand().map((x) => `${n}${x}${literals[i + 1]}`)), [literals[0]]),
  };
}

/**
 * The host names of a SLURM host list, in its order. `name` (the variable it came from) is what
 * an error names. At most 65535 hosts.
 */
export function expandHostList(list: string, name = 'the host list'): string[] {
  if (typeof name !== 'string') throw new InvalidArgumentError('name', 'a string (what the list is, for errors)', name);
  if (typeof list !== 'string') throw new ToolkitError('ERR_INVALID_ARG', `Expected ${name} to be a SLURM host list string but received ${typeof list}`);
  const fail = (why: string) => invalid(name, list, why);
  const texts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= list.length; i++) {
    const c = list[i];
    if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (i === list.length || (depth === 0 && /[,\s]/.test(c))) {
      if (i > start) texts.push(list.slice(start, i));
      start = i + 1;
    }
  }
  const items = texts.map((t) => item(t, fail));
  const total = items.reduce((n, it) => n + it.count, 0);
  if (total === 0) throw fail('it names no host');
  if (total > MAX_HOSTS) throw fail(`it names ${total} hosts, more than the ${MAX_HOSTS} a job may have`);
  return items.flatMap((it) => it.expand());
}
