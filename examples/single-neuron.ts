/**
 * The paper's single-hidden-neuron teacher-student experiment (signin-method.md, "Theory to
 * reproduce"): f(x) = a·ReLU(w·x), x ∈ R^d Gaussian, fitted to a teacher a*·ReLU(w*·x) with
 * a* = 1 and w* = (1, …, 1)/√d (a unit vector with positive entries).
 *
 * The student starts from each sign pattern of (a, w): a = ±s and w = ±s·u, in two directions u:
 * - 'random': u = |g|/‖g‖ for a Gaussian g (positive entries, so "w > 0" lies in the teacher's
 *   orthant and "w < 0" = −s·u in the opposite one, but not exactly against w*);
 * - 'teacher': u = w*, so "w < 0" is exactly −s·w*, whose active half-space {x: w·x > 0} is
 *   disjoint from the teacher's. This is the start the paper's impossibility result is about. |a| = ‖w‖ = s: a balanced start, the case the theory is about (plain
 * gradient flow conserves a² − ‖w‖², so with a balanced start a cannot cross 0 without w
 * vanishing with it).
 *
 * Each start is trained twice with full-batch gradient descent (no momentum, no weight decay):
 * - plain: a and w are the parameters;
 * - Sign-In: a = m_a·w_a and w = m_w ⊙ w_w, split with β = 1 and reset every `resetEvery` steps,
 *   trained with the library's fused Sign-In kernels (signinStep, signinReset: the same kernels
 *   the SGD uses on networks).
 * A start "recovers" the teacher when the final loss is below `tol` and a > 0 and every entry of
 * w is > 0.
 *
 * Run: npx tsx examples/single-neuron.ts   (options: --d N --n N --steps N --lr X --scale X --beta X
 *   --reset-every N --tol X --seed N --json; --help lists them with their defaults)
 */
import { Command } from 'commander';
import { Generator, noGrad, randn, signinReset, signinSplit, signinStep, tensor, tidy, type Tensor } from '../src';
import { exitWithError, intFlag, numberFlag } from '../src/cli/flags';

export type Method = 'plain' | 'signin';
export type Direction = 'random' | 'teacher';
export type SignPattern = '(+,+)' | '(-,+)' | '(+,-)' | '(-,-)';

export interface SingleNeuronOptions {
  /** Input dimension; default 5. */
  d?: number;
  /** Fixed Gaussian training inputs; default 512. */
  n?: number;
  /** Gradient-descent steps; default 6000. */
  steps?: number;
  /** Learning rate; default 0.05. */
  lr?: number;
  /** Initial scale s = |a| = ‖w‖; default 0.5. */
  scale?: number;
  /** Sign-In: β of the split and the resets; default 1. */
  beta?: number;
  /** Sign-In: reset every this many steps (0: never); default 500. */
  resetEvery?: number;
  /** Final loss below which a run counts as recovered; default 1e-6. */
  tol?: number;
  seed?: number;
}

export interface SingleNeuronRun {
  method: Method;
  start: SignPattern;
  direction: Direction;
  finalLoss: number;
  a: number;
  w: number[];
  /** Cosine between w and the teacher w*. */
  cosine: number;
  recovered: boolean;
}

export interface SingleNeuronResult {
  options: Required<SingleNeuronOptions>;
  runs: SingleNeuronRun[];
  /** The training inputs and the random direction, for independent re-computation. */
  x: number[][];
  randomDirection: number[];
}

export const PATTERNS: readonly SignPattern[] = ['(+,+)', '(-,+)', '(+,-)', '(-,-)'];

function defaults(o: SingleNeuronOptions): Required<SingleNeuronOptions> {
  return {
    d: o.d ?? 5, n: o.n ?? 512, steps: o.steps ?? 6000, lr: o.lr ?? 0.05, scale: o.scale ?? 0.5,
    beta: o.beta ?? 1, resetEvery: o.resetEvery ?? 500, tol: o.tol ?? 1e-6, seed: o.seed ?? 0,
  };
}

/** Half the mean squared error of a·ReLU(X w) against y. */
function lossOf(x: Tensor, y: Tensor, a: Tensor, w: Tensor): Tensor {
  return x.matmul(w).relu().mul(a).sub(y).square().mean().mul(0.5);
}

function trainOne(method: Method, start: SignPattern, direction: Direction, x: Tensor, y: Tensor, u: number[], o: Required<SingleNeuronOptions>): SingleNeuronRun {
  const sa = start[1] === '+' ? 1 : -1;
  const sw = start[3] === '+' ? 1 : -1;
  return tidy(() => {
    const a = tensor([sa * o.scale], { dtype: 'float64' }).requiresGrad_(true);
    const w = tensor(u.map((v) => sw * o.scale * v), { dtype: 'float64' }).requiresGrad_(true);
    // Sign-In factors of both parameters (θ = m·w with no mask).
    const fa = method === 'signin' ? signinSplit(a, o.beta) : undefined;
    const fw = method === 'signin' ? signinSplit(w, o.beta) : undefined;
    for (let step = 0; step < o.steps; step++) {
      tidy(() => {
        const loss = lossOf(x, y, a, w);
        loss.backward();
      });
      if (method === 'plain') {
        noGrad(() => tidy(() => {
          a.sub_(a.grad!.mul(o.lr));
          w.sub_(w.grad!.mul(o.lr));
        }));
      } else {
        signinStep({ theta: a, m: fa!.m, w: fa!.w, lr: o.lr, step });
        signinStep({ theta: w, m: fw!.m, w: fw!.w, lr: o.lr, step });
        if (o.resetEvery > 0 && (step + 1) % o.resetEvery === 0) {
          signinReset({ theta: a, m: fa!.m, w: fa!.w, beta: o.beta });
          signinReset({ theta: w, m: fw!.m, w: fw!.w, beta: o.beta });
        }
      }
      a.grad = undefined;
      w.grad = undefined;
    }
    const finalLoss = noGrad(() => tidy(() => lossOf(x, y, a, w).item()));
    const av = a.item();
    const wv = w.toArray();
    const norm = Math.hypot(...wv);
    const cosine = norm > 0 ? wv.reduce((s, v) => s + v, 0) / (norm * Math.sqrt(o.d)) : 0;
    const recovered = finalLoss < o.tol && av > 0 && wv.every((v) => v > 0);
    return { method, start, direction, finalLoss, a: av, w: wv, cosine, recovered };
  });
}

/** Trains every (method, start) pair; deterministic for a given seed. */
export function run(opts: SingleNeuronOptions = {}): SingleNeuronResult {
  const o = defaults(opts);
  return tidy(() => {
    const gen = new Generator(o.seed);
    const x = randn([o.n, o.d], { dtype: 'float64', generator: gen });
    const wStar = tensor(Array.from({ length: o.d }, () => 1 / Math.sqrt(o.d)), { dtype: 'float64' });
    const y = x.matmul(wStar).relu(); // a* = 1
    const g = randn([o.d], { dtype: 'float64', generator: gen }).abs();
    const u = g.div(g.norm()).toArray();
    const directions: Record<Direction, number[]> = { random: u, teacher: wStar.toArray() };
    const runs: SingleNeuronRun[] = [];
    for (const direction of ['random', 'teacher'] as const) {
      for (const method of ['plain', 'signin'] as const) {
        for (const start of PATTERNS) runs.push(trainOne(method, start, direction, x, y, directions[direction], o));
      }
    }
    const rows = x.toArray();
    const xs = Array.from({ length: o.n }, (_, i) => rows.slice(i * o.d, (i + 1) * o.d));
    return { options: o, runs, x: xs, randomDirection: u };
  });
}

/** The markdown table of a result: one row per start and direction, one column per method. */
export function table(result: SingleNeuronResult): string {
  const cell = (r: SingleNeuronRun) => `${r.recovered ? '**yes**' : 'no'} (loss ${r.finalLoss.toExponential(1)}, a ${r.a.toFixed(2)}, cos ${r.cosine.toFixed(2)})`;
  const lines = ['| start (a, w) | w direction | plain GD | Sign-In |', '|---|---|---|---|'];
  for (const direction of ['random', 'teacher'] as const) {
    for (const start of PATTERNS) {
      const find = (method: Method) => result.runs.find((r) => r.method === method && r.start === start && r.direction === direction)!;
      lines.push(`| ${start} | ${direction === 'random' ? '±u (random, positive entries)' : '±w* (teacher)'} | ${cell(find('plain'))} | ${cell(find('signin'))} |`);
    }
  }
  return lines.join('\n');
}

const DEFAULTS = defaults({});
const positive = (flag: string) => numberFlag(flag, 'a positive number', (n) => n > 0);

/**
 * The command line. A misspelt flag is an error rather than a run with the default, and a value
 * out of range names its flag rather than reaching the run as NaN (a table of untrained starts).
 */
export function parseArgs(argv: readonly string[]): SingleNeuronOptions & { json?: boolean } {
  return new Command('single-neuron')
    .description('Single hidden neuron teacher-student: which sign starts plain GD and Sign-In recover from (docs/single-neuron.md).')
    .exitOverride()
    .configureOutput({ outputError: () => undefined })
    .option('--d <n>', `input dimension (default ${DEFAULTS.d})`, intFlag('--d', 1))
    .option('--n <n>', `training inputs (default ${DEFAULTS.n})`, intFlag('--n', 1))
    .option('--steps <n>', `gradient-descent steps (default ${DEFAULTS.steps})`, intFlag('--steps', 1))
    .option('--lr <x>', `learning rate (default ${DEFAULTS.lr})`, positive('--lr'))
    .option('--scale <x>', `initial |a| = ‖w‖ (default ${DEFAULTS.scale})`, positive('--scale'))
    .option('--beta <x>', `Sign-In β (default ${DEFAULTS.beta})`, positive('--beta'))
    .option('--reset-every <n>', `Sign-In reset period in steps, 0: never (default ${DEFAULTS.resetEvery})`, intFlag('--reset-every', 0))
    .option('--tol <x>', `final loss below which a start recovers (default ${DEFAULTS.tol})`, positive('--tol'))
    .option('--seed <n>', `seed of the inputs and the random direction (default ${DEFAULTS.seed})`, intFlag('--seed', 0))
    .option('--json', 'print the runs as JSON instead of the table')
    .parse([...argv], { from: 'user' })
    .opts<SingleNeuronOptions & { json?: boolean }>();
}

function parseOrExit(argv: readonly string[]): SingleNeuronOptions & { json?: boolean } {
  try {
    return parseArgs(argv);
  } catch (e) {
    exitWithError(e);
  }
}

if (require.main === module) {
  const args = parseOrExit(process.argv.slice(2));
  const t0 = Date.now();
  const result = run(args);
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ options: result.options, runs: result.runs }, null, 2)}\n`);
  } else {
    const o = result.options;
    process.stdout.write(`single neuron: d=${o.d}, n=${o.n}, steps=${o.steps}, lr=${o.lr}, |a|=‖w‖=${o.scale}, β=${o.beta}, reset every ${o.resetEvery} steps, tol=${o.tol} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n\n`);
    process.stdout.write(`${table(result)}\n`);
  }
}
