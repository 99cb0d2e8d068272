import * as path from 'node:path';
import { configHash } from '../../../src/experiments/hash';
import { isRunDirName, REPORT_FILES, reportPaths, RUN_FILES, runDirFor, runDirName, runPaths, slug, tempPathFor } from '../../../src/experiments/paths';
import { parseConfig } from '../../../src/experiments/schema';

const config = parseConfig({ dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 2 });

test('run directory name is <prefix>_<hash>', () => {
  expect(runDirName(config)).toBe(`train_${configHash(config)}`);
  expect(runDirName(config, 'pai')).toBe(`pai_${configHash(config)}`);
  expect(runDirFor('/r', config)).toBe(path.join('/r', `train_${configHash(config)}`));
  expect(isRunDirName(runDirName(config))).toBe(true);
  expect(isRunDirName('report')).toBe(false);
  expect(isRunDirName('train_1234')).toBe(false);
});

test('file names live here and only here', () => {
  expect(RUN_FILES).toEqual({
    config: 'config.json',
    metrics: 'metrics.jsonl',
    checkpoint: 'checkpoint.safetensors',
    checkpointPrev: 'checkpoint.prev.safetensors',
    checkpointMeta: 'checkpoint.json',
    maskReport: 'mask-report.json',
    transfer: 'transfer.json',
    final: 'final.json',
    interrupted: 'interrupted.json',
    failed: 'failed.json',
    lock: 'run.lock',
    log: 'train.log',
    runLog: 'log.jsonl',
  });
  const p = runPaths('/runs/x');
  expect(p.dir).toBe('/runs/x');
  expect(p.metrics).toBe(path.join('/runs/x', 'metrics.jsonl'));
  expect(p.final).toBe(path.join('/runs/x', 'final.json'));
  const r = reportPaths('/out');
  expect(r.markdown).toBe(path.join('/out', REPORT_FILES.markdown));
  expect(r.testAccuracyPlot('cifar10 cifar_resnet_20')).toBe(path.join('/out', 'test-accuracy_cifar10-cifar-resnet-20.svg'));
  expect(slug('  ')).toBe('all');
});

test('temporary files are hidden siblings', () => {
  const t = tempPathFor('/a/b/final.json');
  expect(path.dirname(t)).toBe('/a/b');
  expect(path.basename(t)).toMatch(/^\.final\.json\.\d+\.[a-z0-9]+\.tmp$/);
});
