/**
 * The docs name what exists: README.md and docs/**\/*.md are read for `signin-torch <command>
 * --flag` lines (against the program src/cli.ts builds), repository paths, config keys (against
 * the zod schema), ERR_ codes, SIGNIN_* variables and npm scripts (their links:
 * test/unit/docs-links.test.ts). The report.md in each docs/results/<sweep>/ is left out: `signin-torch report` wrote
 * it (its paths are the runs folder it was made from) and test/unit/docs-links.test.ts checks its links.
 * Every check also runs on synthetic markdown, where it must flag the stale reference.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildProgram } from '../../src/cli';
import { ERROR_CODES } from '../../src/errors';
import { ExperimentConfig } from '../../src/experiments/schema';
import {
  ROOT, repoFiles, schemaHasPath, sourceEnvNames, sourceErrorCodes, staleCommands, staleConfigKeys, staleNames, staleNpmScripts, stalePaths,
  type Doc,
} from '../helpers/doc-references';

const files = repoFiles();
const docs: Doc[] = files
  .filter((f) => f === 'README.md' || (f.startsWith('docs/') && f.endsWith('.md') && !/^docs\/results\/[^/]+\/report\.md$/.test(f)))
  .map((file) => ({ file, text: fs.readFileSync(path.join(ROOT, file), 'utf8') }));
// Nothing on this command line: no --import module is loaded while the program is built.
const program = buildProgram(undefined, undefined, ['node', 'signin-torch']);
const codes = sourceErrorCodes(files, Object.keys(ERROR_CODES));
const envNames = sourceEnvNames(files);
const npmScripts = new Set(Object.keys((JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: object }).scripts));

/** Names the docs give on purpose though nothing defines them ("file: what the check says"), each with why. */
const DELIBERATE = new Set([
  // What the run lock failed with before: Node's own code, which src/ no longer meets.
  'docs/errors.md: ERR_FS_EISDIR: no such error code in src/',
  // The example of a path below a value, which --pair-by refuses.
  'docs/results/README.md: config key signin.beta.x (inline): not in the config schema',
]);

const checks: Record<string, (doc: Doc) => string[]> = {
  commands: (doc) => staleCommands(doc, program),
  paths: (doc) => stalePaths(doc, files),
  'config keys': (doc) => staleConfigKeys(doc, ExperimentConfig),
  'error codes and environment variables': (doc) => staleNames(doc, codes, envNames),
  'npm scripts': (doc) => staleNpmScripts(doc, npmScripts),
};

// Named without .md, as are the missing files it links to: test/unit/docs-links.test.ts takes any
// *.md named in a source file for a doc it cites.
const synthetic = (text: string): Doc => ({ file: 'docs/synthetic', text });

describe('references in the docs', () => {
  it('reads README.md and the docs, not the generated reports', () => {
    const read = docs.map((d) => d.file);
    expect(read).toEqual(expect.arrayContaining(['README.md', 'docs/architecture.md', 'docs/results/README.md']));
    expect(read.filter((f) => f.endsWith('/report.md'))).toEqual([]);
  });

  it.each(Object.keys(checks))('%s: every one in the docs is current', (name) => {
    expect(docs.flatMap(checks[name]).filter((s) => !DELIBERATE.has(s.replace(/:\d+: /, ': ')))).toEqual([]);
  });
});

describe('each check flags a stale reference', () => {
  it('commands: an unknown command, a flag of another command, in prose and in a block', () => {
    const doc = synthetic([
      'Run `signin-torch train --config c.json --set epochs=1 --runs-dir runs`, then `signin-torch trian`.',
      '`signin-torch <command> --help` lists each command\'s flags.',
      '```bash',
      'signin-torch report --runs-dir runs \\',
      '  --grid g.json | tee out.txt',
      'signin-torch --import ./m.js list models --json',
      'signin-torch sweep --grid g.json --dry-run && signin-torch report --dry-run # --nothing',
      '```',
    ].join('\n'));
    expect(staleCommands(doc, program)).toEqual([
      'docs/synthetic:1: signin-torch trian: no such command (commands: train, sweep, report, list, prune, download, evaluate, export)',
      'docs/synthetic:4: signin-torch report --grid: report has no such flag',
      'docs/synthetic:7: signin-torch report --dry-run: report has no such flag',
    ]);
  });

  it('paths: a missing file, a glob that matches nothing; placeholders and line numbers are read', () => {
    const doc = synthetic('`src/cli.ts:283`, `src/nn/*.ts`, `configs/<name>.json`, `docs/`, `src/gone.ts`, `bench/*.py`, `scripts/main.sh --quick`.');
    expect(stalePaths(doc, files)).toEqual([
      'docs/synthetic:1: path src/gone.ts: no such file or folder in the repository',
      'docs/synthetic:1: path bench/*.py: no such file or folder in the repository',
    ]);
  });

  it('paths: bare in prose and in a code block too, not another repository\'s', () => {
    const doc = synthetic([
      'As test/unit/errors.test.ts and test/unit/gone.test.ts check; [a link](../src/cli.ts) is docs-links.test.ts\'s.',
      'NVIDIA/nccl\'s `src/nccl.h.in`, not ours: `src/nccl.h.in`.',
      '| GraSP | alecwangcq/GraSP @f17d87a | `configs/*/GraSP_*.json` |',
      '```bash',
      'bash scripts/main.sh && node ./bench/gone.ts --out runs/src/x',
      '```',
    ].join('\n'));
    expect(stalePaths(doc, files)).toEqual([
      'docs/synthetic:2: path src/nccl.h.in: no such file or folder in the repository',
      'docs/synthetic:5: path bench/gone.ts: no such file or folder in the repository',
      'docs/synthetic:1: path test/unit/gone.test.ts: no such file or folder in the repository',
    ]);
  });

  it('paths: a layout tree names its folders\' files', () => {
    const doc = synthetic([
      '```',
      'src/                 TypeScript',
      '   cli.ts            the command',
      '   nn/, gone/        layers; and a folder',
      '                     that went (a description runs on)',
      '   cli/flags.ts, cli/gone.ts  its parsers',
      'bench/               benchmarks',
      '```',
    ].join('\n'));
    expect(stalePaths(doc, files)).toEqual([
      'docs/synthetic:4: path src/gone: no such file or folder in the repository',
      'docs/synthetic:6: path src/cli/gone.ts: no such file or folder in the repository',
    ]);
  });

  it('config keys: --set, --pair-by and inline section.key; records take any key', () => {
    const doc = synthetic([
      '`signin.resetPeriod`, `optimizer.lr = 0.1`, `signin.layerBeta.<layer>`, `model.options.init`, `model.forward(x)`, `pruning.ts`,',
      '`signin.resetPeriodd`, `--set optimizer.learningRate=0.1`, `signin-torch report --pair-by pruning.scoop=global`.',
    ].join('\n'));
    expect(staleConfigKeys(doc, ExperimentConfig)).toEqual([
      'docs/synthetic:2: config key signin.resetPeriodd (inline): not in the config schema',
      'docs/synthetic:2: config key optimizer.learningRate (--set): not in the config schema',
      'docs/synthetic:2: config key pruning.scoop (--pair-by): not in the config schema',
    ]);
  });

  it('config keys: the fields of a JSON block of config fields, not of other JSON', () => {
    const doc = synthetic([
      '```json', '"checkpoint": { "keepEpochs": [1, 3], "keepEvry": 10 },', '"epoch": 2', '```',
      '```json', '{ "base": { "epochs": 1 }, "grid": { "seed": [0, 1] } }', '```',
      '```json', '{ "model": { "name": "lenet5", "options": { "hidden": 16 } }, "signin": { "enabled": true } }', '```',
    ].join('\n'));
    expect(staleConfigKeys(doc, ExperimentConfig)).toEqual([
      'docs/synthetic:1: config key checkpoint.keepEvry (json block): not in the config schema',
      'docs/synthetic:1: config key epoch (json block): not in the config schema',
    ]);
  });

  it('config paths resolve through defaults, unions and records', () => {
    expect(schemaHasPath(ExperimentConfig, ['signin', 'resetPeriod'])).toBe(true);
    expect(schemaHasPath(ExperimentConfig, ['signin', 'layerBeta', 'conv1'])).toBe(true);
    expect(schemaHasPath(ExperimentConfig, ['signin', 'nope'])).toBe(false);
    expect(schemaHasPath(ExperimentConfig, ['epochs', 'nope'])).toBe(false);
  });

  it('error codes and environment variables: unknown ones are flagged, templated names match', () => {
    const doc = synthetic('ERR_CONFIG, ERR_TORCH_INDEX, ERR_CONFIGG;\n$SIGNIN_TORCH_LOG_LEVEL, SIGNIN_TORCH_FASHION_MNIST_ROOT, SIGNIN_WITH_CUDA, SIGNIN_MAIN_EPOCHS, SIGNIN_TORCH_NOPE.');
    expect(staleNames(doc, codes, envNames)).toEqual([
      'docs/synthetic:1: ERR_CONFIGG: no such error code in src/',
      'docs/synthetic:2: SIGNIN_TORCH_NOPE: nothing outside test/ and the docs reads it',
    ]);
  });

  it('npm scripts: one package.json lacks', () => {
    const doc = synthetic('`npm run bench`, `npm run -s build:ts`, `npm test`, `npm run benchmark`.');
    expect(staleNpmScripts(doc, npmScripts)).toEqual(['docs/synthetic:1: npm run benchmark: no such script in package.json']);
  });
});
