import { ToolkitError } from '../../src/errors';
import { knownKeys, list, MAX_LIST_LENGTH, obj, options, str } from '../../src/validate';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof ToolkitError ? `${e.code}: ${e.message}` : `uncoded ${String(e)}`;
  }
  return undefined;
}

describe('list', () => {
  test('refuses a sparse array longer than the bound by its length, without walking it', () => {
    expect(codeOf(() => list('xs', new Array(2 ** 32 - 1), 'array of numbers', (x) => typeof x === 'number')))
      .toBe('ERR_INVALID_ARG: Expected array of numbers for xs but received an array of length 4294967295');
  });

  test('refuses a non-array and an array with a bad element, naming the argument', () => {
    expect(codeOf(() => list('xs', 3, 'array of numbers'))).toBe('ERR_INVALID_ARG: Expected array of numbers for xs but received 3 of type number');
    expect(codeOf(() => list('xs', [1, 'a'], 'array of numbers', (x) => typeof x === 'number'))).toMatch(/^ERR_INVALID_ARG: Expected array of numbers for xs/);
    expect(codeOf(() => list('xs', new Array(3), 'array of numbers', (x) => typeof x === 'number'))).toMatch(/^ERR_INVALID_ARG/);
  });

  test('returns a valid array as is, up to the bound', () => {
    const xs = [1, 2, 3];
    expect(list('xs', xs, 'array of numbers', (x) => typeof x === 'number')).toBe(xs);
    expect(MAX_LIST_LENGTH).toBeGreaterThanOrEqual(2 ** 20);
  });
});

describe('str and obj', () => {
  test('accept their type and name the argument otherwise', () => {
    expect(str('path', 'a')).toBe('a');
    expect(codeOf(() => str('path', 7))).toBe('ERR_INVALID_ARG: Expected string for path but received 7 of type number');
    expect(codeOf(() => obj('options', [], 'options object'))).toBe('ERR_INVALID_ARG: Expected options object for options but received an array of length 0');
    expect(codeOf(() => obj('options', null))).toBe('ERR_INVALID_ARG: Expected object for options but received null');
  });
});

describe('options', () => {
  test('takes a plain object, one without a prototype, or undefined (all defaults)', () => {
    const o = { root: '/data' };
    expect(options('opts', o)).toBe(o);
    const bare = Object.assign(Object.create(null) as object, { train: false });
    expect(options('opts', bare)).toBe(bare);
    expect(options('opts', undefined)).toEqual({});
  });

  test('refuses a class instance, which would otherwise run silently with every default', () => {
    class Settings { root = '/data'; }
    for (const v of [new Map([['root', '/data']]), new Float32Array(3), new Date(0), new Settings(), [1], null, 3]) {
      expect(codeOf(() => options('opts', v))).toMatch(/^ERR_INVALID_ARG: Expected options object for opts but received/);
    }
  });
});

describe('knownKeys', () => {
  test('names an unknown option, a long one by its first 200 characters and its length', () => {
    expect(() => knownKeys('opts', { lrr: 1 }, ['lr'])).toThrow("Unknown option 'lrr' in opts; valid options: lr");
    expect(() => knownKeys('opts', { ['o'.repeat(1e6)]: 1 }, ['lr'])).toThrow(`Unknown option '${'o'.repeat(200)}…' (1000000 characters) in opts; valid options: lr`);
  });
});
