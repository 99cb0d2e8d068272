/**
 * Config hashing (open_lth's desc.hashname): the hash covers only the fields that differ from
 * DEFAULTS, serialized as canonical JSON (keys sorted at every level). Adding a new field with a
 * default therefore leaves every existing hash, and so every run directory, valid.
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../errors';
import { MAX_LIST_LENGTH, obj } from '../validate';
import { DEFAULTS, HASH_EXCLUDED_PATHS, type ExperimentConfig } from './schema';

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON with object keys sorted at every level; undefined members are dropped (as JSON does). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value) && value.length > MAX_LIST_LENGTH) throw new InvalidArgumentError('an array of the config', `at most ${MAX_LIST_LENGTH} elements`, value);
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (isObj(value)) {
    const parts = Object.keys(value).sort()
      .filter((k) => value[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`);
    return `{${parts.join(',')}}`;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) throw new InvalidArgumentError('a value of the config', 'a finite number (canonical JSON has no non-finite numbers)', value);
  if (typeof value === 'bigint' || typeof value === 'symbol' || typeof value === 'function') {
    throw new InvalidArgumentError('a value of the config', 'a JSON value (object, array, string, finite number, boolean or null)', value);
  }
  return JSON.stringify(value) ?? 'null';
}

function deepEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function strip(value: unknown, defaults: unknown, path: string): unknown {
  if (HASH_EXCLUDED_PATHS.includes(path)) return undefined;
  if (isObj(value)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) {
      const d = isObj(defaults) ? defaults[k] : undefined;
      const v = strip(value[k], d, path ? `${path}.${k}` : k);
      if (v !== undefined) out[k] = v;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  if (defaults !== undefined && deepEqual(value, defaults)) return undefined;
  return value;
}

/**
 * The part of a config that names the run: fields that differ from DEFAULTS, without the
 * execution-only fields (HASH_EXCLUDED_PATHS). Required fields are always present.
 */
export function nonDefaultFields(config: ExperimentConfig): Record<string, unknown> {
  const out = (strip(config, DEFAULTS, '') as Record<string, unknown> | undefined) ?? {};
  // A resolved transfer is named by its source's config hash: the path that reached the source
  // (relative or absolute, before or after the runs directory moved) is not the run's identity.
  // Unresolved (no sourceHash), `from` as written stands in for it.
  const t = out.transfer;
  if (isObj(t) && t.sourceHash !== undefined) {
    const { from: _from, ...rest } = t;
    out.transfer = rest;
  }
  return out;
}

/** md5 (hex) of the canonical JSON of the non-default fields. */
export function configHash(config: ExperimentConfig): string {
  obj('config', config, 'experiment config object');
  return createHash('md5').update(canonicalJson(nonDefaultFields(config))).digest('hex');
}
