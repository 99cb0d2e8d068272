/** The pruner registry: names, exact unknown-name errors, registration rules (no addon needed). */
import { UnknownNameError } from '../../../src/errors';
import { get, names, register } from '../../../src/pruning/registry';

test('built-in pruners, sorted', () => {
  expect(names()).toEqual(['grasp', 'magnitude', 'random', 'snip', 'synflow']);
});

test('each pruner declares its data needs and default rounds', () => {
  expect(names().map((n) => [n, get(n).needsData, get(n).defaultIterations])).toEqual([
    ['grasp', true, 1], ['magnitude', false, 1], ['random', false, 1], ['snip', true, 1], ['synflow', false, 100],
  ]);
});

test('an unknown name lists the valid ones', () => {
  expect(() => get('snap')).toThrow(UnknownNameError);
  expect(() => get('snap')).toThrow(/^Unknown pruner 'snap' \(did you mean 'snip'\?\); valid names: grasp, magnitude, random, snip, synflow$/);
});

test('pruner options are checked', () => {
  expect(() => get('grasp', { temperature: 0 })).toThrow(/^Expected positive number for temperature but received 0 of type number$/);
  expect((get('grasp', { temperature: 1 }) as unknown as { temperature: number }).temperature).toBe(1);
  expect(() => get('magnitude', { scale: 2 })).toThrow(/^Expected no options for magnitude options but received 'scale' of type string$/);
});

test('registration rules', () => {
  expect(() => register('SNIP2', () => get('snip'))).toThrow(/^Expected lowercase snake name for pruner name/);
  expect(() => register('snip', () => get('snip'))).toThrow(/^Expected a name not already registered for pruner name but received 'snip'/);
  register('snip_copy', () => get('snip'));
  expect(names()).toContain('snip_copy');
});
