/**
 * Top Hessian eigenvalue by power iteration on Hessian-vector products, against closed forms and
 * against PyTorch's full Hessian (torch.autograd.functional.hessian + eigvalsh, float64).
 */
import { Generator, MaskedLinear, Module, ReLU, applySignIn, keep, randint, randn, tensor, tidy, type Tensor } from '../../../src';
import { modelTopHessianEigenvalue, topHessianEigenvalue } from '../../../src/train/hessian';
import { dedent, runPytorch, toPy } from '../../helpers/pytorch';

// A = Q diag(D) Qᵀ with Q = I − 2uuᵀ/uᵀu (a Householder reflection): eigenvalues exactly D.
function quadratic(d: number[], u: number[]): number[][] {
  const uu = u.reduce((s, x) => s + x * x, 0);
  const q = u.map((ui, i) => u.map((uj, j) => (i === j ? 1 : 0) - (2 * ui * uj) / uu));
  return q.map((_, i) => q.map((__, j) => d.reduce((s, dk, k) => s + q[i][k] * dk * q[j][k], 0)));
}

function quadLoss(a: number[][], x: Tensor): () => Tensor {
  return () => x.unsqueeze(0).matmul(tensor(a, { dtype: 'float64' })).matmul(x).mul(0.5).sum();
}

it('finds the largest-magnitude eigenvalue of a quadratic loss', () => {
  const a = quadratic([5, 3, 1, -0.5], [1, 2, -1, 0.5]);
  const x = tensor([0.3, -0.2, 0.1, 0.4], { dtype: 'float64' }).requiresGrad_(true);
  const r = topHessianEigenvalue([x], [quadLoss(a, x)], { tol: 1e-12, maxIterations: 500, generator: new Generator(0) });
  expect(r.converged).toBe(true);
  expect(r.eigenvalue).toBeCloseTo(5, 8);
  x.dispose();
});

it('restricted to a mask, it is the top eigenvalue of the kept block (numpy eigvalsh)', () => {
  const a = quadratic([5, 3, 1, -0.5], [1, 2, -1, 0.5]);
  const keepIdx = [1, 2, 3];
  const x = tensor([0.3, -0.2, 0.1, 0.4], { dtype: 'float64' }).requiresGrad_(true);
  const mask = tensor([0, 1, 1, 1], { dtype: 'float64' });
  const r = topHessianEigenvalue([x], [quadLoss(a, x)], { masks: [mask], tol: 1e-12, maxIterations: 1000, generator: new Generator(1) });
  const block = keepIdx.map((i) => keepIdx.map((j) => a[i][j]));
  const ref = runPytorch('ev = torch.linalg.eigvalsh(torch.tensor(args, dtype=torch.float64)); res = float(ev[ev.abs().argmax()])', {}, block).res as number;
  expect(r.eigenvalue).toBeCloseTo(ref, 7);
  expect(Math.abs(r.eigenvalue - 5)).toBeGreaterThan(1e-3);
  x.dispose();
  mask.dispose();
});

class Tiny extends Module {
  readonly fc1 = this.registerModule('fc1', new MaskedLinear(3, 4));
  readonly relu = this.registerModule('relu', new ReLU());
  readonly fc2 = this.registerModule('fc2', new MaskedLinear(4, 3));
  forward(x: Tensor): Tensor { return this.fc2.forward(this.relu.forward(this.fc1.forward(x))); }
}

it.each(['dense', 'signin'] as const)('a small masked MLP (%s) matches PyTorch\'s full Hessian on the kept coordinates', (kind) => {
  const gen = new Generator(3);
  const model = new Tiny().to('float64');
  const [l1, l2] = [model.fc1, model.fc2];
  tidy(() => {
    l1.setMask(randn([4, 3], { generator: gen }).gt(-0.5));
    l2.setMask(randn([3, 4], { generator: gen }).gt(-0.5));
  });
  if (kind === 'signin') applySignIn(model);
  const x = keep(randn([8, 3], { dtype: 'float64', generator: gen }));
  const y = keep(randint(0, 3, [8], { generator: gen }));
  const r = modelTopHessianEigenvalue(model, [{ x, y }], { tol: 1e-10, maxIterations: 2000, generator: gen });
  const ref = runPytorch(dedent(`
    import torch.nn.functional as F
    W1, b1, W2, b2, M1, M2, X = (inp[k] for k in ['W1', 'b1', 'W2', 'b2', 'M1', 'M2', 'X'])
    Y = inp['Y'].long()
    def loss(w1, c1, w2, c2):
        return F.cross_entropy(F.linear(F.relu(F.linear(X, w1, c1)), w2, c2), Y)
    H = torch.autograd.functional.hessian(loss, (W1, b1, W2, b2))
    sizes = [W1.numel(), b1.numel(), W2.numel(), b2.numel()]
    full = torch.cat([torch.cat([H[i][j].reshape(sizes[i], sizes[j]) for j in range(4)], 1) for i in range(4)], 0)
    kept = torch.cat([M1.flatten(), torch.ones(4, dtype=torch.float64), M2.flatten(), torch.ones(3, dtype=torch.float64)]).bool()
    ev = torch.linalg.eigvalsh(full[kept][:, kept])
    res = float(ev[ev.abs().argmax()])
  `), {
    W1: toPy(l1.weight), b1: toPy(l1.bias!), W2: toPy(l2.weight), b2: toPy(l2.bias!), M1: toPy(l1.mask), M2: toPy(l2.mask),
    X: toPy(x), Y: toPy(y),
  }).res as number;
  expect(r.converged).toBe(true);
  expect(r.eigenvalue).toBeCloseTo(ref, 6);
  model.dispose();
  x.dispose();
  y.dispose();
});
