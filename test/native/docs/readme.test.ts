/**
 * The README's ```ts blocks run as written against src/ (with 'signin-torch' resolved to
 * src/index.ts), each in its own tsx process, as a user would paste them into an async function. A block may use names
 * the README leaves to the reader (the `x`, `y` batch); the prelude defines those. After a block,
 * a check for that block prints what it did, and the test compares it with an independent
 * reference: the Python torch of the same libtorch, or the README's own numbers.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runPython } from '../../helpers/pytorch';

const ROOT = path.join(__dirname, '..', '..', '..');
const TSX = require.resolve('tsx');
const SRC = JSON.stringify(path.join(ROOT, 'src', 'index.ts'));

function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/** Per block (in README order): names the block assumes, and a check that prints JSON of what it did. */
const HARNESS: { prelude: string; check: string }[] = [
  { prelude: '', check: 'console.log(JSON.stringify({ version: torchVersion(), sum: tensor([1, 2, 3]).sum().item(), hasModel: typeof createModel }));' },
  {
    prelude: 'const x = __st.randn([4, 3, 32, 32]);\nconst y = __st.tensor([0, 3, 5, 9], { dtype: "int64" });',
    check: `
const layers = __st.maskedLayers(model);
let kept = 0, total = 0, outside = 0, notProduct = 0;
for (const [, l] of layers) {
  const f = __st.signinFactors(l)!;
  kept += l.mask.sum().item(); total += l.mask.numel;
  outside += l.weight.mul(l.mask.eq(0)).abs().sum().item();
  notProduct += l.weight.sub(f.m.mul(f.w)).abs().max().item();
}
console.log(JSON.stringify({ signin: layers.map(([, l]) => l.parametrization), density: kept / total, outside, notProduct, groups: opt.paramGroups.length }));`,
  },
  {
    // A noise-free regression y = x A + 0.3, one batch an epoch; the test set is kept for the check.
    prelude: `
const model = new __st.Linear(3, 2);
const opt = __st.SGD.forModel(model, { lr: 0.1 });
const data = (n: number, seed: number) => {
  const x = __st.randn([n, 3], { generator: new __st.Generator(seed) });
  return { x, y: x.matmul(__st.tensor([[1, -2], [0.5, 1], [2, 0]])).add(0.3) };
};
const once = (b: { x: __st.Tensor; y: __st.Tensor }) => ({ length: 1, async *[Symbol.asyncIterator]() { yield { x: b.x.clone(), y: b.y.clone() }; } });
const testData = data(32, 2);
const train = once(data(64, 1));
const test = once(testData);`,
    check: `
const [w, b, xs, ys] = [model.weight.toArray(), model.bias!.toArray(), testData.x.toArray(), testData.y.toArray()];
let mae = 0, zero = 0;
for (let i = 0; i < 32; i++) for (let o = 0; o < 2; o++) {
  const pred = b[o] + w[o * 3] * xs[i * 3] + w[o * 3 + 1] * xs[i * 3 + 1] + w[o * 3 + 2] * xs[i * 3 + 2];
  mae += Math.abs(pred - ys[i * 2 + o]) / 64;
  zero += Math.abs(ys[i * 2 + o]) / 64;
}
console.log(JSON.stringify({ keys: Object.keys(last!).sort(), testLoss: last!.testLoss, mae, zero }));`,
  },
];

function runBlock(code: string, i: number, dir: string): Record<string, unknown> {
  const { prelude, check } = HARNESS[i];
  // Imports stay at the top; the rest runs in an async function, as the README's top-level await
  // would in an ES module (the block is compiled as CommonJS, like the package's dist/).
  const lines = code.replace(/from 'signin-torch'/g, `from ${SRC}`).split('\n');
  const imports = lines.filter((l) => l.startsWith('import '));
  const body = lines.filter((l) => !l.startsWith('import ')).join('\n');
  const file = path.join(dir, `block-${i}.ts`);
  fs.writeFileSync(file, [
    `import * as __st from ${SRC};`, ...imports,
    'async function main(): Promise<void> {', prelude, body, check, '}',
    'main().catch((e) => { console.error(e); process.exit(1); });', '',
  ].join('\n'));
  const r = spawnSync(process.execPath, ['--import', TSX, file], { encoding: 'utf8', env: { ...process.env, SIGNIN_TORCH_LOG_LEVEL: 'warn' } });
  if (r.status !== 0) throw new Error(`README block ${i + 1} failed (exit ${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

describe("README's code blocks", () => {
  const blocks = tsBlocks(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
  let dir: string;
  beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-blocks-')); });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('every ts block has a check here (a new block needs one)', () => {
    expect(blocks.length).toBe(HARNESS.length);
  });

  test('block 1: the import names the installed libtorch, as Python torch reports it', () => {
    const out = runBlock(blocks[0], 0, dir);
    const pyVersion = runPython('import torch; print(torch.__version__)').trim();
    // Debian's Python torch says 1.13.0a0 for the same build: compare major.minor.patch.
    const release = (v: string) => v.match(/^\d+\.\d+\.\d+/)?.[0];
    expect({ ...out, version: release(out.version as string) }).toEqual({ version: release(pyVersion), sum: 6, hasModel: 'function' });
  });

  test('block 2: prune 90% with Random-ERK, Sign-In, one fused step: the README\'s claims hold', () => {
    const out = runBlock(blocks[1], 1, dir);
    expect(out.signin).toEqual(Array((out.signin as string[]).length).fill('signin'));
    // ResNet-20 with projection shortcuts (the default): 19 3x3 convs, 2 1x1 shortcut convs, the classifier.
    expect((out.signin as string[]).length).toBe(22);
    expect(Math.abs((out.density as number) - 0.1)).toBeLessThan(1e-3); // sparsity 0.9
    expect(out.outside).toBe(0); // pruned weights exactly zero after the step
    expect(out.notProduct).toBe(0); // θ = m ⊙ w exactly after the fused step
  });

  test('block 3: a Trainer with a regression criterion reports the evalCriterion on its final weights and no accuracy', () => {
    const out = runBlock(blocks[2], 2, dir);
    expect(out.keys).not.toContain('trainAcc');
    expect(out.keys).toEqual(expect.arrayContaining(['trainLoss', 'testLoss']));
    expect(out.keys).not.toContain('testAcc');
    // The mean absolute error of the final weights in float64 from the check, not the Trainer's.
    expect(Math.abs((out.testLoss as number) - (out.mae as number))).toBeLessThan(1e-5);
    expect(out.mae as number).toBeLessThan(0.5 * (out.zero as number)); // it learned
  });
});
