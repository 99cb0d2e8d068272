/**
 * Run records (from loadRuns) as an argument, checked once for the report's tables and its
 * --pair-by sections alike; apart from report.ts so that report-pair-by.ts needs no import of it.
 */
import { InvalidArgumentError } from '../errors';
import { list, num, obj, str } from '../validate';
import type { FinalSummary } from './metrics';
import type { RunRecord } from './report';
import { configArg } from './schema';

const isObj = (x: unknown) => typeof x === 'object' && x !== null;

/** Each record with a valid config, its name, metrics rows, sparsity if any, and final.json or undefined. */
export function runRecordsArg(runs: unknown): RunRecord[] {
  const rs = list<RunRecord>('runs', runs, 'array of run records (from loadRuns)', isObj);
  rs.forEach((r, i) => {
    configArg(`runs[${i}].config`, r.config);
    str(`runs[${i}].name`, r.name);
    list(`runs[${i}].metrics`, r.metrics, 'array of metrics rows', isObj);
    if (r.sparsity !== undefined) num(`runs[${i}].sparsity`, r.sparsity, 0, 1);
    if (r.final !== undefined && typeof obj<FinalSummary>(`runs[${i}].final`, r.final, 'final summary or undefined').testAcc !== 'number') {
      throw new InvalidArgumentError(`runs[${i}].final.testAcc`, 'number', r.final.testAcc);
    }
  });
  return rs;
}
