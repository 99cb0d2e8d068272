/**
 * The parameter groups an optimizer's forModel builds (SGD and AdamW alike): the entries each
 * registered kind takes from the model (Sign-In pairs) leave the plain parameters, the rest split
 * into a decayed group and, with noWeightDecay, an undecayed one; every masked layer's mask is
 * looked up by its weight.
 */
import { InvalidArgumentError } from '../errors';
import { maskedLayers } from '../nn/masked';
import { Module } from '../nn/module';
import type { Tensor } from '../tensor/tensor';
import { options } from '../validate';

/** A parameter, bare or with its name (as Module.namedParameters() yields them). */
export type ParamEntry = Tensor | [string, Tensor];

/** What forModel needs of a kind registry's entries (optim/update-kind.ts, optim/adamw-kind.ts). */
interface ModelKind {
  readonly key: string;
  fromModel(model: Module): unknown[];
  entry(value: unknown, where: string, fallbackName: string): { grad: Tensor };
}

export type NoWeightDecay = (name: string, param: Tensor) => boolean;

export function modelGroups(
  model: Module,
  noWeightDecay: NoWeightDecay | undefined,
  kinds: readonly ModelKind[],
): { groups: ({ params: ParamEntry[]; weightDecay?: number } & Record<string, unknown>)[]; masks: Map<Tensor | string, Tensor> } {
  if (!(model instanceof Module)) throw new InvalidArgumentError('model', 'Module', model);
  if (noWeightDecay !== undefined && typeof noWeightDecay !== 'function') {
    throw new InvalidArgumentError('noWeightDecay', 'function (name, param) => boolean', noWeightDecay);
  }
  const fromModel = kinds.map((k) => [k, k.fromModel(model)] as const);
  const driven = new Set(fromModel.flatMap(([k, list]) => list.map((e, i) => k.entry(e, `${k.key}[${i}]`, `${k.key}${i}`).grad)));
  const masks = new Map<Tensor | string, Tensor>();
  for (const [, layer] of maskedLayers(model)) masks.set(layer.weight, layer.mask);
  const decay: ParamEntry[] = [];
  const noDecay: ParamEntry[] = [];
  for (const [name, p] of model.namedParameters()) {
    if (driven.has(p)) continue;
    (noWeightDecay?.(name, p) ? noDecay : decay).push([name, p]);
  }
  const groups: ({ params: ParamEntry[]; weightDecay?: number } & Record<string, unknown>)[] = [
    { params: decay, ...Object.fromEntries(fromModel.map(([k, list]) => [k.key, list])) },
  ];
  if (noDecay.length) groups.push({ params: noDecay, weightDecay: 0 });
  return { groups, masks };
}

/**
 * forModel's arguments (SGD's and AdamW's): the options' keys checked, then the model's groups
 * and the constructor's options (the hyperparameters with the masked layers' masks).
 */
export function forModelArgs<O extends object>(
  model: Module,
  opts: unknown,
  hyperKeys: readonly string[],
  kinds: readonly ModelKind[],
): { groups: ({ params: ParamEntry[]; weightDecay?: number } & Record<string, unknown>)[]; options: O & { masks: Map<Tensor | string, Tensor> } } {
  const o = options<O & { noWeightDecay?: NoWeightDecay }>('options', opts, [...hyperKeys, 'noWeightDecay']);
  const { noWeightDecay, ...hyper } = o;
  const { groups, masks } = modelGroups(model, noWeightDecay, kinds);
  return { groups, options: { ...(hyper as O), masks } };
}
