/** The sign-transfer kinds (no tensor imports: src/experiments/schema.ts reads them). */
export const TRANSFER_KINDS = ['signs', 'magnitudes', 'both', 'mask'] as const;
export type TransferKind = (typeof TRANSFER_KINDS)[number];
