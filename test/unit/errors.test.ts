/** The error catalogue: codes in src/errors.ts and docs/errors.md stay in sync (fastify). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ERROR_CODES, InvalidArgumentError, IssuesError, NativeError, TensorDisposedError, ToolkitError, UnknownNameError, fromNative, type ErrorCode,
} from '../../src/errors';

const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'errors.md'), 'utf8');
const documented = [...doc.matchAll(/^## (\S+)\s*$/gm)].map((m) => m[1]);

describe('docs/errors.md', () => {
  it('lists every code of ERROR_CODES, once', () => {
    expect([...documented].sort()).toEqual(Object.keys(ERROR_CODES).sort());
    expect(new Set(documented).size).toBe(documented.length);
  });

  it('gives every code a description and a fix', () => {
    const sections = doc.split(/^## /m).slice(1);
    for (const section of sections) {
      const [title, ...body] = section.split('\n');
      const text = body.join('\n');
      expect({ title, hasFix: /\*\*Fix:\*\* \S/.test(text) }).toEqual({ title, hasFix: true });
      expect({ title, described: text.replace(/\*\*Fix:\*\*[\s\S]*/, '').trim().length > 20 }).toEqual({ title, described: true });
    }
  });
});

describe('error classes', () => {
  it('InvalidArgumentError uses the one message formula', () => {
    const e = new InvalidArgumentError('outChannels', 'positive integer', 0);
    expect(e).toBeInstanceOf(ToolkitError);
    expect(e.code).toBe('ERR_INVALID_ARG');
    expect(e.name).toBe('InvalidArgumentError');
    expect(e.message).toBe('Expected positive integer for outChannels but received 0 of type number');
  });

  it('describes received values by kind', () => {
    expect(new InvalidArgumentError('x', 'number', 'spoons').message).toMatch(/received 'spoons' of type string$/);
    expect(new InvalidArgumentError('x', 'number', [1, 2]).message).toMatch(/received an array of length 2$/);
    expect(new InvalidArgumentError('x', 'number', undefined).message).toMatch(/received undefined$/);
    expect(new InvalidArgumentError('x', 'number', new Map()).message).toMatch(/received an instance of Map$/);
  });

  it('quotes a long string by its first 200 characters and its length, never whole', () => {
    const long = 'ab'.repeat(5e5);
    const shown = `'${long.slice(0, 200)}…' (1000000 characters)`;
    expect(new InvalidArgumentError('x', 'number', long).message).toBe(`Expected number for x but received ${shown} of type string`);
    expect(new UnknownNameError('model', long, ['lenet5']).message).toBe(`Unknown model ${shown}; valid names: lenet5`);
    expect(new InvalidArgumentError('x', 'number', 'y'.repeat(200)).message).toContain(`'${'y'.repeat(200)}' of type string`);
    // A prefix that would end in half of an emoji ends before it.
    const emoji = `${'y'.repeat(199)}😀${'y'.repeat(300)}`;
    expect(new InvalidArgumentError('x', 'number', emoji).message).toContain(`'${'y'.repeat(199)}…' (501 characters)`);
  });

  it('IssuesError lists every issue under one title', () => {
    const e = new IssuesError('ERR_STATE_DICT', 'Error(s) in loading state_dict for Net', [
      { code: 'missing_key', path: 'a.weight', message: 'missing key' },
      { code: 'unexpected_key', path: 'b.bias', message: 'unexpected key' },
    ]);
    expect(e.code).toBe('ERR_STATE_DICT');
    expect(e.message).toBe('Error(s) in loading state_dict for Net:\n\ta.weight: missing key\n\tb.bias: unexpected key');
    expect(e.issues).toHaveLength(2);
    const named = e.from('/runs/x/checkpoint.safetensors');
    expect(named).toBeInstanceOf(IssuesError);
    expect(named).toMatchObject({ code: 'ERR_STATE_DICT', issues: e.issues, title: "Error(s) in loading state_dict for Net from '/runs/x/checkpoint.safetensors'" });
    expect(named.message).toBe("Error(s) in loading state_dict for Net from '/runs/x/checkpoint.safetensors':\n\ta.weight: missing key\n\tb.bias: unexpected key");
  });

  it('UnknownNameError lists the valid names', () => {
    expect(new UnknownNameError('model', 'resnet', ['lenet5', 'vgg16']).message).toBe("Unknown model 'resnet'; valid names: lenet5, vgg16");
  });

  it('fromNative keeps known codes and maps the rest to ERR_NATIVE', () => {
    const torch = Object.assign(new Error('shapes cannot be multiplied'), { code: 'ERR_TORCH_VALUE' });
    const mapped = fromNative(torch);
    expect(mapped.code).toBe('ERR_TORCH_VALUE');
    expect(mapped.message).toBe('shapes cannot be multiplied');
    expect((mapped as Error & { cause?: unknown }).cause).toBe(torch);
    expect(fromNative(new Error('boom')).code).toBe('ERR_NATIVE');
    expect(fromNative(Object.assign(new Error('x'), { code: 'ERR_TENSOR_DISPOSED' }))).toBeInstanceOf(TensorDisposedError);
  });

  it('fromNative gives each native code its class and keeps the native message', () => {
    const arg = fromNative(Object.assign(new Error('Expected an integer for dim but received 1.5 of type number'), { code: 'ERR_INVALID_ARG' }));
    expect(arg).toBeInstanceOf(InvalidArgumentError);
    expect(arg.message).toBe('Expected an integer for dim but received 1.5 of type number');
    const name = fromNative(Object.assign(new Error('Unknown operator aten::nope'), { code: 'ERR_UNKNOWN_NAME' }));
    expect(name).toBeInstanceOf(UnknownNameError);
    expect(name.message).toBe('Unknown operator aten::nope');
    expect(fromNative(Object.assign(new Error('x'), { code: 'ERR_CONFIG' })).code).toBe('ERR_NATIVE');
  });
});

describe('ToolkitError.fromCode', () => {
  it('rebuilds each code as its class with the message kept', () => {
    const cases: [ErrorCode, new (...a: never[]) => ToolkitError][] = [
      ['ERR_INVALID_ARG', InvalidArgumentError], ['ERR_TENSOR_DISPOSED', TensorDisposedError], ['ERR_UNKNOWN_NAME', UnknownNameError],
      ['ERR_TORCH_TYPE', NativeError], ['ERR_NATIVE', NativeError], ['ERR_CONFIG', ToolkitError],
    ];
    for (const [code, cls] of cases) {
      const cause = new Error('original');
      const e = ToolkitError.fromCode(code, `message of ${code}`, cause);
      expect({ code, cls: e.constructor.name }).toEqual({ code, cls: cls.name });
      expect([e.code, e.message, (e as Error & { cause?: unknown }).cause]).toEqual([code, `message of ${code}`, cause]);
    }
  });
});

function filesUnder(dir: string, exts: string[]): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return filesUnder(p, exts);
    return exts.some((x) => e.name.endsWith(x)) ? [p] : [];
  });
}

describe('codes thrown in the code', () => {
  const root = path.join(__dirname, '..', '..');
  const codesIn = (dir: string, exts: string[], pattern: RegExp) => new Set(
    filesUnder(path.join(root, dir), exts).flatMap((f) => [...fs.readFileSync(f, 'utf8').matchAll(pattern)].map((m) => m[1])),
  );

  // Codes compared against (`=== 'ERR_BUFFER_TOO_LARGE'`) are Node's, not ours.
  it('every ERR_ code named in src/ and native/ is documented', () => {
    const used = new Set([...codesIn('src', ['.ts'], /(?<!=== )'(ERR_[A-Z_]+)'/g), ...codesIn('native', ['.cc', '.h', '.cu'], /"(ERR_[A-Z_]+)"/g)]);
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((c) => !documented.includes(c))).toEqual([]);
  });

  it('src/ throws no plain Error: every error it creates has a code', () => {
    const plain = filesUnder(path.join(root, 'src'), ['.ts'])
      .filter((f) => /new (Type|Range|Syntax)?Error\(/.test(fs.readFileSync(f, 'utf8')))
      .map((f) => path.relative(path.join(root, 'src'), f).split(path.sep).join('/'));
    expect(plain).toEqual([]);
  });
});
