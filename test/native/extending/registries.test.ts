/**
 * A user's model entry or pruner factory that lacks a part is refused naming the part: when
 * registered (models), or when the name is first built (pruners: the factory's result), instead of
 * a TypeError or a message that says the registered name is not one.
 */
import { createModel, getPruner, pruneModel, registerModel, registerPruner, type ModelEntry } from '../../../src';

const check = (_p: string, v: unknown) => v;
const entry = (over: Record<string, unknown>) => ({ name: 'user_bad', description: 'a model', options: { numClasses: { default: 3, check } }, create: () => null, ...over }) as unknown as ModelEntry;

test('registerModel: each missing or wrong part, named', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ create: undefined }, 'Expected function for entry.create but received undefined'],
    [{ options: undefined }, 'Expected object of option specs ({ default, check }) for entry.options but received undefined'],
    [{ options: { numClasses: { default: 3 } } }, 'Expected function for entry.options.numClasses.check but received undefined'],
    [{ options: { numClasses: 3 } }, 'Expected option spec ({ default, check }) for entry.options.numClasses but received 3 of type number'],
    [{ description: undefined }, 'Expected string for entry.description but received undefined'],
    [{ validate: 'yes' }, "Expected function for entry.validate but received 'yes' of type string"],
    [{ fixed: 3 }, 'Expected object of option values for entry.fixed but received 3 of type number'],
  ];
  for (const [over, message] of cases) expect(() => registerModel(entry(over))).toThrow(message);
  expect(() => registerModel(null as never)).toThrow('Expected model entry ({ name, description, options, create }) for entry but received null');
  // None of them was registered.
  expect(() => createModel('user_bad' as string)).toThrow(/^Unknown model 'user_bad'/);
});

test("getPruner / pruneModel: a factory's result that is not a Pruner is named with the factory", async () => {
  registerPruner('user_junk', () => ({}) as never);
  registerPruner('user_no_rounds', () => ({ name: 'x', needsData: false, score: () => new Map() }) as never);
  expect(() => getPruner('user_junk')).toThrow("Expected a Pruner ({ name, needsData, defaultIterations, score }) for pruner 'user_junk' (what its factory returned) but received an object");
  expect(() => getPruner('user_no_rounds')).toThrow("Expected positive integer for pruner 'user_no_rounds'.defaultIterations but received undefined");
  const model = createModel('lenet5');
  try {
    await expect(pruneModel(model, { method: 'user_junk' as never, sparsity: 0.5 })).rejects.toThrow("for pruner 'user_junk' (what its factory returned)");
  } finally {
    model.dispose();
  }
});
