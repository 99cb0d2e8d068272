/**
 * A small masked conv net for tests: MaskedConv2d → BN → ReLU → MaxPool → MaskedConv2d → BN →
 * ReLU → global average pool → MaskedLinear. Inputs [N, inChannels, imageSize, imageSize].
 *
 * Its PyTorch twin (same keys, same shapes, same init order, so the same parameters for the same
 * seed) is TOY_MODEL_PYTHON.
 */
import {
  AdaptiveAvgPool2d, BatchNorm2d, Flatten, MaskedConv2d, MaskedLinear, MaxPool2d, Module, ReLU, Tensor, keep, randint,
  randn, tidy, type BatchSource, type Generator,
} from '../../src';

export interface ToyModelOptions {
  inChannels?: number;
  width?: number;
  numClasses?: number;
}

export class ToyNet extends Module {
  readonly conv1: MaskedConv2d;
  readonly bn1: BatchNorm2d;
  readonly relu: ReLU;
  readonly pool: MaxPool2d;
  readonly conv2: MaskedConv2d;
  readonly bn2: BatchNorm2d;
  readonly avgpool: AdaptiveAvgPool2d;
  readonly flatten: Flatten;
  readonly fc: MaskedLinear;

  constructor(opts: ToyModelOptions = {}) {
    super();
    const inChannels = opts.inChannels ?? 1;
    const width = opts.width ?? 4;
    const numClasses = opts.numClasses ?? 10;
    this.conv1 = this.registerModule('conv1', new MaskedConv2d(inChannels, width, 3, { padding: 1, bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(width));
    this.relu = this.registerModule('relu', new ReLU());
    this.pool = this.registerModule('pool', new MaxPool2d(2));
    this.conv2 = this.registerModule('conv2', new MaskedConv2d(width, 2 * width, 3, { padding: 1, bias: false }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(2 * width));
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.flatten = this.registerModule('flatten', new Flatten());
    this.fc = this.registerModule('fc', new MaskedLinear(2 * width, numClasses));
  }

  forward(x: Tensor): Tensor {
    let y = this.pool.forward(this.relu.forward(this.bn1.forward(this.conv1.forward(x))));
    y = this.relu.forward(this.bn2.forward(this.conv2.forward(y)));
    return this.fc.forward(this.flatten.forward(this.avgpool.forward(y)));
  }
}

export function createToyModel(opts: ToyModelOptions = {}): ToyNet {
  return new ToyNet(opts);
}

/** A random batch: images ~ N(0, 1) and int64 labels in [0, numClasses); both kept. */
export function toyBatch(
  n = 8, opts: { inChannels?: number; imageSize?: number; numClasses?: number; generator?: Generator } = {},
): { x: Tensor; y: Tensor } {
  return tidy(() => ({
    x: keep(randn([n, opts.inChannels ?? 1, opts.imageSize ?? 8, opts.imageSize ?? 8], { generator: opts.generator })),
    y: keep(randint(0, opts.numClasses ?? 10, [n], { generator: opts.generator })),
  }));
}

/** A batch source giving these batches each epoch (clones of x and y, which stay the caller's). */
export function batchesOf(data: readonly { x: Tensor; y: Tensor }[]): BatchSource {
  return {
    length: data.length,
    async *[Symbol.asyncIterator]() {
      for (const b of data) yield { x: b.x.clone(), y: b.y.clone() };
    },
  };
}

/** A batch source of one epoch of one batch (clones of x and y, which stay the caller's). */
export function oneBatch(x: Tensor, y: Tensor): BatchSource {
  return batchesOf([{ x, y }]);
}

/** The same architecture in PyTorch; defines `ToyNet(in_channels=1, width=4, num_classes=10)`. */
export const TOY_MODEL_PYTHON = `
class MaskedConv2d(nn.Conv2d):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.register_buffer('weight_mask', torch.ones_like(self.weight))

class MaskedLinear(nn.Linear):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.register_buffer('weight_mask', torch.ones_like(self.weight))

class ToyNet(nn.Module):
    def __init__(self, in_channels=1, width=4, num_classes=10):
        super().__init__()
        self.conv1 = MaskedConv2d(in_channels, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.conv2 = MaskedConv2d(width, 2 * width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(2 * width)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = MaskedLinear(2 * width, num_classes)

    def forward(self, x):
        y = self.pool(self.relu(self.bn1(self.conv1(x))))
        y = self.relu(self.bn2(self.conv2(y)))
        return self.fc(self.flatten(self.avgpool(y)))
`;
