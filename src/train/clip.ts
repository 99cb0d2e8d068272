import { noGrad } from '../tensor/autograd';
import { tidy } from '../tensor/engine';
import { Tensor } from '../tensor/tensor';
import { list, num } from '../validate';

/** Scales gradients in place so their global L2 norm is at most maxNorm; returns the norm before. */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  list('params', params, 'array of Tensors', (p) => p instanceof Tensor);
  num('maxNorm', maxNorm, 0);
  return noGrad(() => tidy(() => {
    const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== undefined);
    if (grads.length === 0) return 0;
    const total = Math.sqrt(grads.reduce((s, g) => s + g.norm(2).item() ** 2, 0));
    const scale = maxNorm / (total + 1e-6);
    if (scale < 1) for (const g of grads) g.mul_(scale);
    return total;
  }));
}
