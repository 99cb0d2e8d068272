/**
 * The arguments of an optimizer's constructor (SGD and AdamW alike), checked once and before
 * anything is allocated: parameters (bare or named) or parameter groups with their own
 * hyperparameters and the entries of registered kinds, the options' keys, and the masks.
 */
import { InvalidArgumentError, ToolkitError } from '../errors';
import type { Module } from '../nn/module';
import { Tensor, sameShape } from '../tensor/tensor';
import { options } from '../validate';
import { handleOf } from './native';

/** Masks by parameter tensor or parameter name, or a lookup function. */
export type MaskLookup = Map<Tensor | string, Tensor> | ((name: string, param: Tensor) => Tensor | undefined);

/** A registered kind of entry (SGD's update kinds, AdamW's kinds) as the checks see it. */
export interface EntryKind<E> {
  readonly key: string;
  entry(value: unknown, where: string, fallbackName: string): E;
  fromModel(model: Module): unknown[];
  refusePlain?(t: Tensor): string | undefined;
}

/** Refuses a plain parameter that a registered kind drives (see UpdateKind.refusePlain). */
export function checkPlain(name: string, param: Tensor, kinds: readonly { refusePlain?(t: Tensor): string | undefined }[]): void {
  for (const kind of kinds) {
    const why = kind.refusePlain?.(param);
    if (why !== undefined) throw new ToolkitError('ERR_INVALID_ARG', `Parameter ${name} cannot be updated as a plain parameter: ${why}`);
  }
}

export interface CheckedParam {
  name: string;
  param: Tensor;
  mask: Tensor | undefined;
}

export interface CheckedGroup<H, K, E> {
  hyper: H;
  /** The group's lr over the base lr: the ratio it keeps when a schedule sets the base lr. */
  lrScale: number;
  params: CheckedParam[];
  entries: { kind: K; entry: E }[];
}

/**
 * Unnamed parameters are named `group<g>.param<i>`; a tensor and a name may be given once, as a
 * parameter or as the driving tensor of a kind's entry. `hyper` checks a group's hyperparameters
 * (`where` prefixes their names) with the options' as defaults.
 */
export function checkParamGroups<O extends object, H extends { lr: number }, K extends EntryKind<{ name: string; grad: Tensor }>>(
  params: unknown,
  opts: unknown,
  hyperKeys: readonly string[],
  hyper: (where: string, o: Partial<O>, base: H | undefined) => H,
  kinds: readonly K[],
): { base: H; groups: CheckedGroup<H, K, ReturnType<K['entry']>>[] } {
  type E = ReturnType<K['entry']>;
  const o = options<O & { masks?: MaskLookup }>('options', opts, [...hyperKeys, 'masks']);
  const base = hyper('', o, undefined);
  if (typeof (params as Iterable<unknown> | undefined)?.[Symbol.iterator] !== 'function') {
    throw new InvalidArgumentError('params', 'iterable of tensors, [name, tensor] pairs or parameter groups', params);
  }
  const list = [...(params as Iterable<unknown>)];
  const isGroups = list.length > 0 && list.every((g) => typeof g === 'object' && g !== null && !(g instanceof Tensor) && !Array.isArray(g));
  const specs = isGroups ? list : [{ params: list }];
  const lookup = o.masks;
  if (lookup !== undefined && !(lookup instanceof Map) && typeof lookup !== 'function') {
    throw new InvalidArgumentError('masks', 'Map or function', lookup);
  }
  const seen = new Set<Tensor>();
  const names = new Set<string>();
  const claim = (where: string, t: Tensor, name: string) => {
    if (seen.has(t)) throw new InvalidArgumentError(where, 'a tensor not already given to this optimizer', `${name} again`);
    if (names.has(name)) throw new InvalidArgumentError(where, 'a unique parameter name', name);
    seen.add(t);
    names.add(name);
  };
  const groups = specs.map((spec, g): CheckedGroup<H, K, E> => {
    const where = isGroups ? `params[${g}]` : '';
    const at = (key: string) => (where ? `${where}.${key}` : key);
    const groupKeys = isGroups ? ['params', ...kinds.map((k) => k.key), ...hyperKeys] : undefined;
    const go = options<O & { params?: unknown } & Record<string, unknown>>(where || 'params', spec, groupKeys);
    const h = hyper(where, go, base);
    // A group keeps its ratio to the base lr, which schedules set; over a base lr of 0 there is
    // none, and its own lr was replaced by the base lr at the first schedule step.
    if (base.lr === 0 && h.lr !== 0) {
      throw new InvalidArgumentError(at('lr'), 'the base lr (0) or a base lr > 0 that this group keeps its ratio to', h.lr);
    }
    const group: CheckedGroup<H, K, E> = { hyper: h, lrScale: base.lr > 0 ? h.lr / base.lr : 1, params: [], entries: [] };
    const entries = go.params ?? [];
    if (!Array.isArray(entries)) throw new InvalidArgumentError(at('params'), 'array of tensors or [name, tensor] pairs', entries);
    entries.forEach((e: unknown, i) => {
      const [name, param] = Array.isArray(e) ? e : [`group${g}.param${i}`, e];
      if (typeof name !== 'string' || !(param instanceof Tensor)) throw new InvalidArgumentError(at(`params[${i}]`), 'Tensor or [name, Tensor]', e);
      handleOf(name, param);
      checkPlain(name, param, kinds);
      claim(at(`params[${i}]`), param, name);
      const mask = lookup instanceof Map ? lookup.get(param) ?? lookup.get(name) : lookup?.(name, param);
      if (mask !== undefined) {
        handleOf(`the mask of ${name}`, mask);
        if (!sameShape(mask, param)) {
          throw new InvalidArgumentError(`the mask of ${name}`, `a Tensor of shape [${param.shape.join(', ')}]`, `a Tensor of shape [${mask.shape.join(', ')}]`);
        }
      }
      group.params.push({ name, param, mask });
    });
    for (const kind of kinds) {
      const values = go[kind.key] ?? [];
      if (!Array.isArray(values)) throw new InvalidArgumentError(at(kind.key), `array of ${kind.key} entries`, values);
      values.forEach((value, i) => {
        const entry = kind.entry(value, at(`${kind.key}[${i}]`), `group${g}.${kind.key}${i}`) as E;
        claim(at(`${kind.key}[${i}]`), entry.grad, entry.name);
        group.entries.push({ kind, entry });
      });
    }
    return group;
  });
  // An optimizer over nothing steps silently and the model never trains (PyTorch: "optimizer got an empty parameter list").
  if (groups.every((g) => g.params.length === 0 && g.entries.length === 0)) {
    throw new InvalidArgumentError('params', 'at least one parameter (forModel: a model with parameters)', groups.flatMap((g) => g.params));
  }
  return { base, groups };
}
