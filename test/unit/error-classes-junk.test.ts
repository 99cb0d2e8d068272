/**
 * Issue 10: the error classes given junk (the API fuzz constructs every export with it). Their
 * text never fails, whatever it is (an error built on a failure path must not hide that
 * failure); the fields callers match on (code, issues) are checked like any argument.
 */
import { InvalidArgumentError, IssuesError, ToolkitError, UnknownNameError } from '../../src/errors';
import { errorOf } from '../helpers/error-of';

describe('error text of any value', () => {
  it('a symbol name is described, not converted (which throws a TypeError)', () => {
    const e = new InvalidArgumentError(Symbol('lr') as never, 'number', Symbol('x'));
    expect(e.message).toBe('Expected number for Symbol(lr) of type symbol but received Symbol(x) of type symbol');
  });

  it('an UnknownNameError names a non-string name by its description, a string in quotes', () => {
    expect(new UnknownNameError('model', 42 as never, ['lenet5']).message).toBe('Unknown model 42 of type number; valid names: lenet5');
    expect(new UnknownNameError('model', 'x', 'lenet5' as never).message).toBe("Unknown model 'x'; valid names: 'lenet5' of type string");
  });

  it('a list of valid names longer than 100 is cut, so a sparse array of 2^32-1 is not walked', () => {
    const message = new UnknownNameError('dataset', 'x', new Array(2 ** 32 - 1)).message;
    expect(message).toBe(`Unknown dataset 'x'; valid names: ${Array(100).fill('undefined').join(', ')}, ... (${2 ** 32 - 1 - 100} more)`);
    const names = Array.from({ length: 101 }, (_, i) => `n${i}`);
    expect(new UnknownNameError('pruner', 'x', names).message).toMatch(/, n98, n99, \.\.\. \(1 more\)$/);
  });

  it('a ToolkitError message that is not a string is described', () => {
    expect(new ToolkitError('ERR_DATASET', undefined as never).message).toBe('undefined');
    expect(new ToolkitError('ERR_DATASET', [1, 2] as never).message).toBe('an array of length 2');
  });
});

describe('the fields callers match on are checked', () => {
  it('a code outside ERROR_CODES is refused, naming code (inherited names such as toString too)', () => {
    for (const code of ['ERR_NOPE', 'toString', undefined, 7]) {
      const e = errorOf(() => new ToolkitError(code as never, 'm'));
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect(e.message).toMatch(/^Expected a code of ERROR_CODES \(docs\/errors\.md\) for code but received /);
    }
  });

  it('issues must be a bounded array of objects', () => {
    expect(errorOf(() => new IssuesError('ERR_CONFIG', 't', undefined as never)).message)
      .toBe('Expected array of at most 65536 { code, path, message } objects for issues but received undefined');
    expect(errorOf(() => new IssuesError('ERR_CONFIG', 't', new Array(2 ** 32 - 1))).code).toBe('ERR_INVALID_ARG');
    expect(errorOf(() => new IssuesError('ERR_CONFIG', 't', [{ code: 'a', path: 'p', message: 'm' }, 3] as never)).message)
      .toBe('Expected { code, path, message } for issues[1] but received 3 of type number');
  });

  it('issue text that is not a string is described', () => {
    const e = new IssuesError('ERR_CONFIG', 'Bad config', [{ code: 'c', path: Symbol('p') as never, message: 5 as never }]);
    expect(e.message).toBe('Bad config:\n\tSymbol(p) of type symbol: 5 of type number');
  });
});
