export { autocast, autocastState, ampDtype, autocastDeviceOf, AMP_MODES } from './autocast';
export type { AmpMode, AutocastDevice, AutocastDtype, AutocastOptions, AutocastState } from './autocast';
export { GradScaler } from './grad-scaler';
export type { GradScalerOptions, GradScalerState, Steppable } from './grad-scaler';
export { toChannelsLast, isChannelsLast } from './channels-last';
export { ampDeviceExpectation, MixedPrecision } from './mixed-precision';
export type { ChannelsLastMode, MixedPrecisionOptions } from './mixed-precision';
