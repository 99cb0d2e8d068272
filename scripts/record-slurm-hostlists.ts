/**
 * Rewrites test/fixtures/slurm-hostlists.json from a live scontrol (Debian: apt-get install
 * slurm-client; no controller needed):
 *
 *   npx tsx scripts/record-slurm-hostlists.ts
 */
import * as fs from 'node:fs';
import { FIXTURE, formatRecord, recordScontrol } from '../test/helpers/slurm-hostlists';

fs.writeFileSync(FIXTURE, formatRecord(recordScontrol()));
console.log(`wrote ${FIXTURE}`);
