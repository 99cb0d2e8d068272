/** The sparsify method names (no tensor imports: src/experiments/schema.ts reads them). */
export const SPARSIFY_METHODS = ['gmp', 'rigl', 'set', 'acdc', 'str', 'imp', 'lrr'] as const;
export type SparsifyMethod = (typeof SPARSIFY_METHODS)[number];

/** The methods that train in levels (prune between levels, restart the schedule). */
export const LEVEL_METHODS: readonly SparsifyMethod[] = ['imp', 'lrr'];

/** How reports and run labels name each method. */
export const SPARSIFY_LABELS: Record<SparsifyMethod, string> = {
  gmp: 'GMP', rigl: 'RiGL', set: 'SET', acdc: 'AC/DC', str: 'STR', imp: 'IMP', lrr: 'LRR',
};

/**
 * The sparsify fields only some methods read, and those methods: src/experiments/schema.ts
 * refuses them for the others, where they would be silently ignored.
 */
export const METHOD_FIELDS: Readonly<Record<string, readonly SparsifyMethod[]>> = {
  scope: ['gmp', 'acdc', 'imp', 'lrr'],
  denseFirst: ['rigl', 'set', 'imp', 'lrr'],
  denseLast: ['imp', 'lrr'],
  denseLayers: ['imp', 'lrr'],
};
