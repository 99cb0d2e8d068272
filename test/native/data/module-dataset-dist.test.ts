/**
 * A Dataset class of one's own with the built toolkit (dist/, as an installed signin-torch): the
 * TypeScript module of docs/extending.md under `npx tsx script.ts` (the workers inherit tsx through execArgv) and a
 * .js module under plain node. Each script builds an epoch with 0 and with 2 workers; the
 * reference is the in-process (0-worker) epoch. Needs `npm run build:ts`.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../../helpers/temp';

const ROOT = path.join(__dirname, '../../..');
const DIST = path.join(ROOT, 'dist/index.js');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

/** docs/extending.md's Stripes (its ```typescript block), importing the built toolkit. */
const doc = fs.readFileSync(path.join(ROOT, 'docs/extending.md'), 'utf8');
const TS_MODULE = /^```typescript\n([\s\S]*?)^```$/m.exec(doc)![1].replace(/'signin-torch'/g, JSON.stringify(DIST));

/** The same class in plain JavaScript. */
const JS_MODULE = `
const { moduleSpec } = require(${JSON.stringify(DIST)});
class Stripes {
  constructor(args) {
    Object.assign(this, { args, name: 'stripes', length: args.n, numClasses: 2, classes: ['even', 'odd'], shape: [1, 4, 4] });
  }
  label(i) { return i % 2; }
  get(i) {
    const data = Uint8Array.from({ length: 16 }, (_, k) => ((k + i) * 37) % 256);
    return { image: { data, width: 4, height: 4, channels: 1 }, label: this.label(i) };
  }
  toSpec() { return moduleSpec(__filename, 'Stripes', this.args); }
}
module.exports = { Stripes };
`;

const script = (mod: string) => `
const { createHash } = require('node:crypto');
const { DataLoader, randomCrop, randomHorizontalFlip, toTensor } = require(${JSON.stringify(DIST)});
const { Stripes } = require(${JSON.stringify(mod)});
async function epoch(numWorkers) {
  const loader = new DataLoader(new Stripes({ n: 11 }), { batchSize: 3, shuffle: true, seed: 4, transforms: [randomCrop(4, { padding: 1 }), randomHorizontalFlip(), toTensor()], numWorkers });
  const h = createHash('sha256');
  let batches = 0;
  for await (const b of loader) {
    const x = b.x.data();
    h.update(Buffer.from(x.buffer, x.byteOffset, x.byteLength)).update(String(b.y.toArray()));
    b.x.dispose(); b.y.dispose(); batches++;
  }
  return { batches, sha256: h.digest('hex') };
}
(async () => console.log(JSON.stringify([await epoch(0), await epoch(2)])))();
`;

describe('a Dataset class of your own with the built toolkit', () => {
  it.each([
    ['a .ts module under npx tsx', 'ts', TSX],
    ['a .js module under node', 'js', process.execPath],
  ] as const)('%s: 2 workers give the in-process batches', (_what, ext, command) => {
    const dir = tempDir('module-dataset-');
    const mod = path.join(dir, `stripes.${ext}`);
    fs.writeFileSync(mod, ext === 'ts' ? TS_MODULE : JS_MODULE);
    fs.writeFileSync(path.join(dir, `main.${ext}`), script(mod));
    const r = spawnSync(command, [path.join(dir, `main.${ext}`)], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const [inProcess, workers] = JSON.parse(r.stdout) as { batches: number; sha256: string }[];
    expect(inProcess.batches).toBe(4);
    expect(workers).toEqual(inProcess);
  }, 60_000);

  it('a .ts module under plain node is an ERR_DATASET that says how to load it', () => {
    const dir = tempDir('module-dataset-');
    const mod = path.join(dir, 'stripes.ts');
    fs.writeFileSync(mod, TS_MODULE);
    // The main thread reads it through tsx's require hook, the workers without one.
    const main = `require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register();\n${script(mod)}`;
    fs.writeFileSync(path.join(dir, 'main.js'), main);
    const r = spawnSync(process.execPath, [path.join(dir, 'main.js')], { cwd: dir, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`Cannot rebuild dataset 'stripes' in a DataLoader worker from export 'Stripes' of ${mod} (its toSpec()): the module does not load (SyntaxError:`);
    expect(r.stderr).toContain("a TypeScript module needs node to run with a TypeScript loader (npx tsx, or NODE_OPTIONS='--import tsx'), which the workers inherit, or compiling to .js");
  }, 60_000);
});
