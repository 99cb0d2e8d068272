/** The sparsify method names (no tensor imports: src/experiments/schema.ts reads them). */
export const SPARSIFY_METHODS = ['gmp', 'rigl', 'set', 'acdc', 'str'] as const;
export type SparsifyMethod = (typeof SPARSIFY_METHODS)[number];
