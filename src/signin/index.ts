/**
 * Sign-In (signin-method.md): applying the reparameterization θ = M ⊙ m ⊙ w to a model, the reset
 * schedule, sign statistics and the fused kernels.
 */
export {
  applySignIn, mergeSignIn, resetSignIn, signinLayers, signinParameters, hasSignIn, selectLayers,
} from './apply';
export type {
  ApplySignInOptions, ResetSignInOptions, SignInParam, SignInOptimizer, LayerSelector, BetaOption,
} from './apply';
export {
  SignInResetSchedule, resolveResetOptions, resetDueAtStep, resetDueAtEpoch,
} from './schedule';
export type {
  SignInResetOptions, ResolvedResetOptions, ResetUnit, ResetMomentum, ResetContext, ResetEvent,
} from './schedule';
export { SignTracker, innerScaling } from './stats';
export type { SignStats, LayerSignStats, FlipFractions, SignTrackerOptions, InnerScaling } from './stats';
export { signinStep, signinReset, signinSplitFused } from './kernels';
export type { SigninStepArgs, SigninResetArgs } from './kernels';
export { signinSplit, signinFactors, SIGNIN_M_BUFFER, SIGNIN_W_BUFFER } from './parametrization';
export type { SignInFactors } from './parametrization';
