/**
 * Issue 10 regressions: the experiments entry points refuse junk with coded errors before they
 * walk a list, touch the disk or start a run, and plumbing is not part of the package's API.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as experiments from '../../../src/experiments';
import { runDirFor, runPaths } from '../../../src/experiments/paths';
import { mean, meanStd, sampleStd } from '../../../src/experiments/metrics';
import { pairedSummary } from '../../../src/experiments/paired';
import { accuracyTables, formatCell, tablesToCsv, tableToMarkdown } from '../../../src/experiments/report';
import { modelOptionsFor } from '../../../src/experiments/resolve';
import { createRunDir, readFinal } from '../../../src/experiments/runs';
import { trainFromConfig } from '../../../src/experiments/runner';
import { datasetInfo, parseConfig } from '../../../src/experiments/schema';
import { planSweep, runSweep } from '../../../src/experiments/sweep';
import { stepLr } from '../../../src/train/schedule';
import { removeDir, tempDir } from './fixtures';

const config = parseConfig({ dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 2 });
const huge = new Array(2 ** 32 - 1);
const code = (c: string) => expect.objectContaining({ code: c });

let root: string;
beforeEach(() => { root = tempDir(); });
afterEach(() => removeDir(root));

test('a sparse list of length 2^32-1 is refused by its length, not walked', () => {
  for (const f of [mean, sampleStd, meanStd, (xs: number[]) => pairedSummary(xs, xs), (xs: number[]) => stepLr(0.1, xs)]) {
    expect(() => f(huge)).toThrow(code('ERR_INVALID_ARG'));
  }
  expect(() => accuracyTables(huge)).toThrow(code('ERR_INVALID_ARG'));
  expect(() => planSweep(huge, root)).toThrow(code('ERR_INVALID_ARG'));
});

test('the statistics still compute what they did, against closed forms', () => {
  expect(mean([1, 2, 6])).toBe(3);
  // Sample variance of 1, 2, 6: ((−2)² + (−1)² + 3²) / 2 = 7.
  expect(sampleStd([1, 2, 6])).toBeCloseTo(Math.sqrt(7), 12);
  expect(meanStd([])).toEqual({ mean: NaN, std: NaN, n: 0 });
  expect(() => mean([1, '2' as never])).toThrow('Expected array of numbers for xs but received an array of length 2');
  expect(() => pairedSummary([1], ['a' as never])).toThrow(/for b/);
});

test('a run-directory prefix stays one folder name', () => {
  expect(() => runDirFor(root, config, '../elsewhere')).toThrow(code('ERR_INVALID_ARG'));
  expect(() => runDirFor(root, config, 'a/b')).toThrow(/for prefix/);
  expect(path.dirname(runDirFor(root, config, 'pai.v2-1'))).toBe(root);
  expect(() => runPaths(42 as never)).toThrow('Expected string for runDir but received 42 of type number');
});

test('createRunDir refuses an invalid config before it creates anything', () => {
  const bad = { ...config, epochs: 0 };
  expect(() => createRunDir(root, bad)).toThrow(code('ERR_CONFIG'));
  expect(fs.readdirSync(root)).toEqual([]);
  expect(() => createRunDir(root, 'cfg' as never)).toThrow(code('ERR_INVALID_ARG'));
});

test('an unreadable final.json is ERR_CONFIG naming the file, not a SyntaxError', () => {
  const dir = createRunDir(root, config).dir;
  fs.writeFileSync(runPaths(dir).final, '{"epoch": 2, "te');
  expect(() => readFinal(dir)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG', message: expect.stringContaining('final.json') }));
});

test('trainFromConfig wants a valid config and an existing run directory before it locks anything', async () => {
  const missing = path.join(root, 'nope');
  await expect(trainFromConfig(config, missing)).rejects.toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', message: expect.stringMatching(/for runDir/) }));
  expect(fs.existsSync(missing)).toBe(false);
  await expect(trainFromConfig({ ...config, model: { name: 'lenet5', options: {} }, epochs: -1 }, root)).rejects.toThrow(code('ERR_CONFIG'));
  expect(fs.readdirSync(root)).toEqual([]);
});

test('runSweep checks every config and its options before the first run', async () => {
  let ran = 0;
  const runOne = () => { ran++; };
  await expect(runSweep([config, { ...config, epochs: 'two' } as never], { runsDir: root, runOne })).rejects.toThrow(expect.objectContaining({ code: 'ERR_CONFIG', message: expect.stringContaining('configs[1]') }));
  await expect(runSweep([config], { runsDir: root, runOne, onEvent: 'log' as never })).rejects.toThrow(/for options.onEvent/);
  expect(ran).toBe(0);
  expect(fs.readdirSync(root)).toEqual([]);
});

test('config derivations and report printers refuse what is not theirs', () => {
  expect(() => modelOptionsFor({} as never)).toThrow(code('ERR_CONFIG'));
  expect(() => tableToMarkdown({ title: 't', setting: {}, sparsities: [0.9], rows: [{ label: Symbol('x'), cells: [] }], unfinished: [] } as never)).toThrow(/table.rows\[0\].label/);
  expect(() => tablesToCsv([{}] as never)).toThrow(/tables\[0\]/);
  expect(() => formatCell({ n: 2, mean: 'x', std: 1 } as never, 2)).toThrow(/cell.mean/);
  expect(formatCell(undefined, 3)).toBe('–');
});

test('datasetInfo reads registered datasets only, not Object.prototype', () => {
  expect(datasetInfo('constructor')).toBeUndefined();
  expect(datasetInfo('__proto__')).toBeUndefined();
  expect(datasetInfo('mnist')).toEqual(expect.objectContaining({ numClasses: 10 }));
});

// src/index.ts re-exports experiments/index.ts whole: what that leaves out, the package does.
test('plumbing is reachable from its module but not from the package', () => {
  for (const name of ['getDotted', 'setDotted', 'formatPath', 'configError', 'slug', 'runDirName', 'reportPaths', 'tempPathFor',
    'writeFileAtomic', 'writeJsonAtomic', 'acquireRunLock', 'appendMetrics', 'writeFinal', 'truncateMetrics', 'defaultChildCommand',
    'gridPoints', 'corruptRunsMarkdown', 'methodLabel', 'sparsityLabel', 'plotData', 'renderSvg', 'testAccuracySpec', 'signFlipsSpec',
    'perLayerFlipsSpec', 'betaPoints', 'betaSpec', 'betaPlotPath', 'tableArg', 'configArg']) {
    expect(experiments).not.toHaveProperty(name);
  }
  for (const name of ['trainFromConfig', 'createRunDir', 'readMetrics', 'runSweep', 'accuracyTables', 'writeReport', 'meanStd', 'pairedSummary']) {
    expect(experiments).toHaveProperty(name);
  }
});
