/**
 * Sign-In as a kind of AdamW (src/optim/adamw-kind.ts): a group's `signin` entries
 * {name, theta, m, w, mask} take the route of ./adamw.ts (AdamW on m and w through the chain rule,
 * then θ = m·w), with moments `<θ name>.m_exp_avg`, `.m_exp_avg_sq`, `.w_exp_avg`, `.w_exp_avg_sq`
 * in the optimizer's state dict and the first moments of m and w for resets. θ's gradient drives
 * the step, so θ is not also a plain parameter.
 */
import { InvalidArgumentError } from '../errors';
import { registerAdamWKind, type AdamWEntry } from '../optim/adamw-kind';
import { Tensor, sameShape } from '../tensor/tensor';
import { disposeSignInAdamWState, signinAdamWState, signinAdamWStep } from './adamw';
import { refusePlainTheta, signinParameters, type SignInParam } from './update-kind';

declare module '../optim/adamw-kind' {
  interface AdamWKindEntries {
    signin: SignInParam;
  }
}

function signinAdamWEntry(value: unknown, where: string, fallbackName: string): AdamWEntry {
  if (typeof value !== 'object' || value === null) throw new InvalidArgumentError(where, '{name, theta, m, w, mask}', value);
  const s = value as Partial<SignInParam>;
  const name = typeof s.name === 'string' ? s.name : fallbackName;
  for (const k of ['theta', 'm', 'w', 'mask'] as const) {
    const t = s[k];
    if (!(t instanceof Tensor) || t.isDisposed) throw new InvalidArgumentError(`${name} (${k})`, 'a live Tensor', t);
    if (!sameShape(t, s.theta!)) throw new InvalidArgumentError(`${name} (${k})`, `a Tensor of θ's shape [${s.theta!.shape.join(', ')}]`, t);
  }
  const entry = s as SignInParam;
  return {
    name,
    grad: entry.theta,
    createState: () => {
      const state = signinAdamWState(entry);
      return {
        get steps() { return state.steps; },
        set steps(v: number) { state.steps = v; },
        moments: { m_exp_avg: state.expAvgM, m_exp_avg_sq: state.expAvgSqM, w_exp_avg: state.expAvgW, w_exp_avg_sq: state.expAvgSqW },
        firstMoments: { m: state.expAvgM, w: state.expAvgW },
        step: (h) => signinAdamWStep(entry, state, h),
        dispose: () => disposeSignInAdamWState(state),
      };
    },
  };
}

registerAdamWKind({ key: 'signin', entry: signinAdamWEntry, fromModel: signinParameters, refusePlain: refusePlainTheta });
