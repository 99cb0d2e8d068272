/** The error catalogue: codes in src/errors.ts and docs/errors.md stay in sync (fastify). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ERROR_CODES, InvalidArgumentError, IssuesError, TensorDisposedError, ToolkitError, UnknownNameError, fromNative,
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

  it('IssuesError lists every issue under one title', () => {
    const e = new IssuesError('ERR_STATE_DICT', 'Error(s) in loading state_dict for Net', [
      { code: 'missing_key', path: 'a.weight', message: 'missing key' },
      { code: 'unexpected_key', path: 'b.bias', message: 'unexpected key' },
    ]);
    expect(e.code).toBe('ERR_STATE_DICT');
    expect(e.message).toBe('Error(s) in loading state_dict for Net:\n\ta.weight: missing key\n\tb.bias: unexpected key');
    expect(e.issues).toHaveLength(2);
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
});
