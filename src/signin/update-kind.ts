/**
 * Sign-In as an update kind of the SGD (src/optim/update-kind.ts): a group's `signin` entries
 * {name, theta, m, w, mask} are updated by the fused Sign-In step (native/signin/, registered
 * there under the same key), with momentum buffers for m and w (`<θ name>.m_momentum_buffer`,
 * `.w_momentum_buffer` in the optimizer's state dict). θ's gradient drives the step, so θ is not
 * also a plain parameter.
 */
import { InvalidArgumentError } from '../errors';
import { maskedLayers } from '../nn/masked';
import type { Module } from '../nn/module';
import { handleOf, optionalHandleOf } from '../optim/native';
import { registerUpdateKind, type KindEntry } from '../optim/update-kind';
import { Tensor, sameShape } from '../tensor/tensor';
import { isSignInTheta, signinFactors } from './parametrization';

/** One Sign-In factor pair as the fused SGD step takes it: θ = mask ⊙ m ⊙ w. */
export interface SignInParam {
  /** Dotted parameter name of θ (`layer1.0.conv1.weight`). */
  name: string;
  theta: Tensor;
  m: Tensor;
  w: Tensor;
  mask: Tensor;
}

declare module '../optim/update-kind' {
  interface UpdateKindEntries {
    signin: SignInParam;
  }
}

/** The {theta, m, w, mask} entries of every Sign-In layer, for the fused SGD. */
export function signinParameters(model: Module): SignInParam[] {
  return maskedLayers(model).filter(([, l]) => l.parametrization === 'signin').map(([name, layer]) => {
    const s = signinFactors(layer)!;
    return { name: name ? `${name}.weight` : 'weight', theta: layer.weight, m: s.m, w: s.w, mask: layer.mask };
  });
}

/** Why a tensor may not be a plain parameter of an optimizer: it is a Sign-In θ. */
export function refusePlainTheta(t: Tensor): string | undefined {
  return isSignInTheta(t)
    ? 'it is the θ of a Sign-In layer (θ = mask ⊙ m ⊙ w, trained through m and w, which a plain update would leave behind); '
      + "create the optimizer after applySignIn with forModel(model), or pass signinParameters(model) under 'signin'"
    : undefined;
}

function signinEntry(value: unknown, where: string, fallbackName: string): KindEntry {
  if (typeof value !== 'object' || value === null) throw new InvalidArgumentError(where, '{name, theta, m, w, mask}', value);
  const s = value as Partial<SignInParam>;
  const name = typeof s.name === 'string' ? s.name : fallbackName;
  for (const k of ['theta', 'm', 'w'] as const) handleOf(`${name} (${k})`, s[k]);
  if (s.mask !== undefined) handleOf(`${name} (mask)`, s.mask);
  const { theta, m, w, mask } = s as SignInParam;
  for (const [k, t] of [['m', m], ['w', w], ['mask', mask]] as const) {
    if (t instanceof Tensor && !sameShape(t, theta)) {
      throw new InvalidArgumentError(`${name} (${k})`, `a Tensor of θ's shape [${theta.shape.join(', ')}]`, `a Tensor of shape [${t.shape.join(', ')}]`);
    }
  }
  return {
    name,
    grad: theta,
    factors: { m, w },
    toNative: (bufs, step) => ({
      theta: handleOf(`${name} (theta)`, theta),
      m: handleOf(`${name} (m)`, m),
      w: handleOf(`${name} (w)`, w),
      mask: optionalHandleOf(`${name} (mask)`, mask),
      bufM: bufs.m === undefined ? undefined : handleOf(`${name} (bufM)`, bufs.m),
      bufW: bufs.w === undefined ? undefined : handleOf(`${name} (bufW)`, bufs.w),
      step,
    }),
  };
}

registerUpdateKind({ key: 'signin', entry: signinEntry, fromModel: signinParameters, refusePlain: refusePlainTheta });
