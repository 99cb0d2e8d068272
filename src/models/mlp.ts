/**
 * A fully connected classifier over flattened images (LeNet-300-100 by default, the MNIST network
 * of the Lottery Ticket paper and open_lth's mnist_lenet_300_100): flatten → [fc → ReLU]* → fc.
 * 266,610 parameters for 1x28x28 inputs and 10 classes. Names: fc1, fc2, ..., the last one the
 * classifier. Init: PyTorch's Linear default.
 */
import { tidy } from '../tensor/engine';
import type { Tensor } from '../tensor/tensor';
import { MaskedLinear } from '../nn/masked';
import { int, list, obj } from '../validate';
import { Model } from './base';

export interface MlpOptions {
  numClasses: number;
  inChannels?: number;
  inputSize?: number;
  /** Hidden layer widths; default [300, 100]. May be empty (a linear classifier). */
  hidden?: readonly number[];
}

export class Mlp extends Model {
  readonly outputLayerName: string;
  readonly inputShape: readonly number[];
  readonly layers: MaskedLinear[] = [];

  constructor(options: MlpOptions) {
    super();
    obj('options', options, 'Mlp options ({ numClasses, inChannels?, inputSize?, hidden? })');
    const inChannels = int('inChannels', options.inChannels ?? 1, 1);
    const size = int('inputSize', options.inputSize ?? 28, 1);
    const hidden = list<number>('hidden', options.hidden ?? [300, 100], 'array of positive integers', (x) => typeof x === 'number' && Number.isInteger(x) && x >= 1);
    this.inputShape = [inChannels, size, size];
    const widths = [inChannels * size * size, ...hidden, int('numClasses', options.numClasses, 1)];
    for (let i = 0; i + 1 < widths.length; i++) {
      this.layers.push(this.registerModule(`fc${i + 1}`, new MaskedLinear(widths[i], widths[i + 1])));
    }
    this.outputLayerName = `fc${this.layers.length}`;
  }

  forward(x: Tensor): Tensor {
    return tidy(() => {
      let out = x.flatten(1);
      this.layers.forEach((fc, i) => {
        out = fc.forward(out);
        if (i + 1 < this.layers.length) out = out.relu();
      });
      return out;
    });
  }
}
