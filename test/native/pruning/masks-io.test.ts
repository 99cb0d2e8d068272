/** Masks saved and loaded alone, keyed by parameter name, never by order. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  IssuesError, createModel, getMasks, loadMasks, loadSafetensorsHeader, maskedLayers, ones, pruneModel, saveMasks, setMasks, tensor, tidy,
  type Tensor,
} from '../../../src';
import { captureLogs, checkMasks, seeded } from './fixtures';

let dir: string;
beforeAll(() => { captureLogs(); dir = fs.mkdtempSync(path.join(os.tmpdir(), 'masks-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const maskArrays = (m: ReturnType<typeof createModel>) => maskedLayers(m).map(([, l]) => l.mask.toArray());

test('save → load into a fresh model gives the same masks, weights zero outside them', async () => {
  const a = seeded(() => createModel('lenet5'));
  await pruneModel(a, { method: 'random', sparsity: 0.9, distribution: 'erk', seed: 4 });
  const file = path.join(dir, 'lenet.safetensors');
  saveMasks(a, file);
  const header = loadSafetensorsHeader(file);
  expect(header.metadata).toEqual({ format: 'signin-torch/masks' });
  expect(header.entries.map((e) => e.name).sort()).toEqual(['conv1.weight', 'conv2.weight', 'fc1.weight', 'fc2.weight', 'fc3.weight']);
  expect(new Set(header.entries.map((e) => e.dtype))).toEqual(new Set(['BOOL']));
  const b = seeded(() => createModel('lenet5'), 9);
  const r = loadMasks(b, file);
  expect(r).toEqual({ missingKeys: [], unexpectedKeys: [] });
  expect(maskArrays(b)).toEqual(maskArrays(a));
  expect([...checkMasks(b).values()].reduce((x, y) => x + y, 0)).toBe(Math.round(0.1 * 61470));
});

test('masks are matched by name: a map in another order loads the same', async () => {
  const a = seeded(() => createModel('lenet5'));
  await pruneModel(a, { method: 'magnitude', sparsity: 0.8 });
  const masks = getMasks(a);
  const reversed = new Map([...masks].reverse());
  const b = seeded(() => createModel('lenet5'));
  setMasks(b, reversed);
  expect(maskArrays(b)).toEqual(maskArrays(a));
});

test('every problem is reported at once, before any layer changes', () => {
  const model = seeded(() => createModel('lenet5'));
  const bad = tidy(() => {
    const m = getMasks(model);
    m.delete('fc2.weight');
    m.set('fc9.weight', ones([2, 2]));
    m.set('conv1.weight', ones([6, 1, 3, 3]));
    m.set('fc3.weight', tensor(Array.from({ length: 840 }, () => 0.5)).reshape([10, 84]));
    return m;
  }) as Map<string, Tensor>;
  let err: unknown;
  try { setMasks(model, bad); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(IssuesError);
  expect((err as IssuesError).code).toBe('ERR_STATE_DICT');
  expect((err as Error).message).toBe([
    'Error(s) in loading masks for LeNet5:',
    '\tfc2.weight: missing mask',
    '\tfc9.weight: no masked layer has this weight',
    '\tconv1.weight: mask of shape [6, 1, 3, 3], the weight has shape [6, 1, 5, 5]',
    '\tfc3.weight: mask holds values other than 0 and 1',
  ].join('\n'));
  expect(maskArrays(model).every((m) => m.every((v) => v === 1))).toBe(true);
});

test("loadMasks' error names the file (found by the file fuzz: it named only the model)", () => {
  const file = path.join(dir, 'lenet-masks.safetensors');
  saveMasks(seeded(() => createModel('lenet5')), file);
  let err: unknown;
  try { loadMasks(seeded(() => createModel('lenet5', { numClasses: 4 })), file); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(IssuesError);
  expect(err).toMatchObject({
    code: 'ERR_STATE_DICT',
    message: `Error(s) in loading masks for LeNet5 from '${file}':\n\tfc3.weight: mask of shape [10, 84], the weight has shape [4, 84]`,
  });
});

test('strict: false returns missing and unexpected names and sets the rest', async () => {
  const a = seeded(() => createModel('lenet5'));
  await pruneModel(a, { method: 'magnitude', sparsity: 0.8 });
  const m = getMasks(a);
  m.delete('fc1.weight');
  const b = seeded(() => createModel('lenet5'));
  expect(setMasks(b, m, { strict: false })).toEqual({ missingKeys: ['fc1.weight'], unexpectedKeys: [] });
  const layer = (m: ReturnType<typeof createModel>, name: string) => maskedLayers(m).find(([n]) => n === name)![1];
  expect(layer(b, 'fc1').mask.toArray().every((v) => v === 1)).toBe(true);
  expect(layer(b, 'fc2').mask.toArray()).toEqual(layer(a, 'fc2').mask.toArray());
});
