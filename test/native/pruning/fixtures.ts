/** Shared fixtures of the pruning tests: models of the grid, batches, a quiet logger, mask checks. */
import pino from 'pino';
import {
  BatchNorm2d, MaskedConv2d, MaskedLinear, MaxPool2d, Module, Tensor, createModel, keep, manualSeed, maskedLayers, randint, randn,
  setLogger, tidy,
} from '../../../src';
import { createToyModel } from '../../helpers/toy-model';

/** Silences library logs; returns the captured JSON lines. */
export function captureLogs(): string[] {
  const lines: string[] = [];
  setLogger(pino({ level: 'warn' }, { write: (s: string) => { lines.push(s); } }));
  return lines;
}

/**
 * A small VGG-style net (conv-BN-ReLU blocks with max-pooling, global average pool, one linear
 * classifier) for 3x16x16 inputs: the layout of vgg11_bn at a size the grid can afford.
 */
export class SmallVgg extends Module {
  readonly outputLayerName = 'classifier';
  readonly inputShape = [3, 16, 16];
  readonly convs: MaskedConv2d[] = [];
  readonly bns: BatchNorm2d[] = [];
  readonly pool: MaxPool2d;
  readonly classifier: MaskedLinear;

  constructor() {
    super();
    const plan = [8, 'M', 16, 'M', 32, 32, 'M', 64] as const;
    let c = 3;
    let i = 0;
    for (const p of plan) {
      if (p === 'M') continue;
      this.convs.push(this.registerModule(`conv${i}`, new MaskedConv2d(c, p, 3, { padding: 1, bias: false })));
      this.bns.push(this.registerModule(`bn${i}`, new BatchNorm2d(p)));
      c = p;
      i++;
    }
    this.pool = this.registerModule('pool', new MaxPool2d(2));
    this.classifier = this.registerModule('classifier', new MaskedLinear(c, 10));
  }

  forward(x: Tensor): Tensor {
    return tidy(() => {
      const plan = [8, 'M', 16, 'M', 32, 32, 'M', 64];
      let y = x;
      let i = 0;
      for (const p of plan) {
        if (p === 'M') y = this.pool.forward(y);
        else { y = this.bns[i].forward(this.convs[i].forward(y)).relu(); i++; }
      }
      return this.classifier.forward(y.mean([2, 3]));
    });
  }
}

export interface GridModel {
  name: string;
  create: () => Module;
  inputShape: number[];
}

export const GRID_MODELS: GridModel[] = [
  { name: 'toy', create: () => createToyModel(), inputShape: [1, 8, 8] },
  { name: 'lenet5', create: () => createModel('lenet5'), inputShape: [1, 28, 28] },
  { name: 'cifar_resnet_20', create: () => createModel('cifar_resnet_20', { inputSize: 16 }), inputShape: [3, 16, 16] },
  { name: 'small_vgg', create: () => new SmallVgg(), inputShape: [3, 16, 16] },
];

/** A fresh model from a fixed seed. */
export function seeded<M extends Module>(create: () => M, seed = 0): M {
  manualSeed(seed);
  return create();
}

export function batchFor(inputShape: number[], n = 4, seed = 1): { input: Tensor; target: Tensor } {
  manualSeed(seed);
  return tidy(() => ({ input: keep(randn([n, ...inputShape])), target: keep(randint(0, 10, [n])) }));
}

/** Kept count per masked weight, checking that masks are 0/1 and the weights are exactly zero outside them. */
export function checkMasks(model: Module): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, layer] of maskedLayers(model)) {
    tidy(() => {
      const m = layer.mask;
      expect(m.eq(0).logicalOr(m.eq(1)).all().item()).toBe(1);
      expect(layer.weight.mul(m.eq(0)).abs().sum().item()).toBe(0);
      out.set(`${name}.weight`, m.sum().item());
    });
  }
  return out;
}

/** PyTorch reference snippet: SynFlow's copy of the toy model with |x| for every float parameter and buffer, and its weights `lws`. */
export const SYNFLOW_ABS_COPY = `lin = copy.deepcopy(model)
with torch.no_grad():
    for v in lin.state_dict().values():
        if v.is_floating_point():
            v.abs_()
lws = [lin.conv1.weight, lin.conv2.weight, lin.fc.weight]`;
