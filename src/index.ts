export * from './tensor';
export * from './errors';
export { Module } from './nn/module';
export type { StateDict, LoadResult } from './nn/module';
export * from './nn';
export * from './models';
export * from './pruning';
export * from './signin';
export { logger, setLogger } from './logger';
