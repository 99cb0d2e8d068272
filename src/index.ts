export * from './tensor';
export * from './errors';
export { Module } from './nn/module';
export type { StateDict, LoadResult } from './nn/module';
export { logger, setLogger } from './logger';
