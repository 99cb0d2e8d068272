/** The pruner registry (open_lth's pruning/registry.py): lowercase snake names → factories. */
import { InvalidArgumentError, UnknownNameError } from '../errors';
import type { Pruner } from './base';
import { GraspPruner, type GraspOptions } from './grasp';
import { MagnitudePruner } from './magnitude';
import { RandomPruner } from './random';
import { SnipPruner } from './snip';
import { SynflowPruner, type SynflowOptions } from './synflow';

/**
 * Options of the built-in pruners, by name (unknown keys are rejected). A pruner registered under
 * a new name can be added to the types by declaration merging:
 * `declare module 'signin-torch' { interface PrunerOptionsMap { my_pruner: MyOptions } }`.
 */
export interface PrunerOptionsMap {
  random: Record<string, never>;
  magnitude: Record<string, never>;
  snip: Record<string, never>;
  grasp: GraspOptions;
  synflow: SynflowOptions;
}

/** The pruner names pruneModel's `method` accepts as a literal. */
export type PrunerName = keyof PrunerOptionsMap;

type Factory = (options: Record<string, unknown>) => Pruner;

const factories = new Map<string, Factory>();

function noOptions(name: string, make: () => Pruner): Factory {
  return (options) => {
    const keys = Object.keys(options);
    if (keys.length) throw new InvalidArgumentError(`${name} options`, 'no options', keys[0]);
    return make();
  };
}

/** Registers a pruner factory under a lowercase snake name (replacing one is an error). */
export function register(name: string, factory: Factory): void {
  if (typeof name !== 'string' || !/^[a-z][a-z0-9_]*$/.test(name)) {
    throw new InvalidArgumentError('pruner name', 'lowercase snake name', name);
  }
  if (factories.has(name)) throw new InvalidArgumentError('pruner name', 'a name not already registered', name);
  if (typeof factory !== 'function') throw new InvalidArgumentError('factory', 'function', factory);
  factories.set(name, factory);
}

/** The names of the registered pruners, sorted. */
export function names(): string[] {
  return [...factories.keys()].sort();
}

/** The names of the registered pruners in registration order (the built-ins first). */
export function registeredNames(): string[] {
  return [...factories.keys()];
}

/** A new pruner by name; throws UnknownNameError listing the valid names. */
export function get(name: string, options: Record<string, unknown> = {}): Pruner {
  if (typeof name !== 'string') throw new InvalidArgumentError('name', `pruner name (one of ${names().join(', ')})`, name);
  const f = factories.get(name);
  if (!f) throw new UnknownNameError('pruner', name, names());
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError('prunerOptions', 'options object', options);
  }
  return prunerMade(name, f(options));
}

/** What a factory returned, checked: a user's factory that returns something else is named here. */
function prunerMade(name: string, p: unknown): Pruner {
  const what = `pruner '${name}'`;
  const pruner = p as Partial<Pruner> | null;
  if (typeof pruner !== 'object' || pruner === null || typeof pruner.score !== 'function') throw new InvalidArgumentError(`${what} (what its factory returned)`, 'a Pruner ({ name, needsData, defaultIterations, score })', p);
  if (typeof pruner.needsData !== 'boolean') throw new InvalidArgumentError(`${what}.needsData`, 'boolean', pruner.needsData);
  const rounds = pruner.defaultIterations;
  if (typeof rounds !== 'number' || !Number.isInteger(rounds) || rounds < 1) throw new InvalidArgumentError(`${what}.defaultIterations`, 'positive integer', rounds);
  return pruner as Pruner;
}

register('random', noOptions('random', () => new RandomPruner()));
register('magnitude', noOptions('magnitude', () => new MagnitudePruner()));
register('snip', noOptions('snip', () => new SnipPruner()));
register('grasp', (o) => new GraspPruner(o as GraspOptions));
register('synflow', (o) => new SynflowPruner(o as SynflowOptions));
