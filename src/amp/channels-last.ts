/**
 * channels_last (NHWC) memory format for 4-D inputs. cuDNN and oneDNN choose their NHWC
 * convolutions when the input or the weight is channels_last, and the format then flows through
 * batch norm, ReLU and pooling; converting the input batch is enough to run a CNN in NHWC. The
 * weights stay contiguous on purpose: the fused SGD and Sign-In kernels take their fast path on
 * contiguous parameters, and autograd returns each gradient in its parameter's layout.
 */
import { InvalidArgumentError } from '../errors';
import * as aten from '../tensor/aten';
import { tensorHandle, type Tensor } from '../tensor/tensor';

/** A channels_last copy of a 4-D tensor (the tensor itself when it already is one). */
export function toChannelsLast(x: Tensor): Tensor {
  tensorHandle('x', x);
  if (x.shape.length !== 4) throw new InvalidArgumentError('x', 'a 4-D tensor [N, C, H, W] for channels_last', x);
  // A one-channel batch is contiguous in both formats, so contiguous() keeps its NCHW strides,
  // which libtorch reads as NCHW (Fashion-MNIST ran its whole network in NCHW, measured): a
  // clone gets the strides [H·W, 1, W, 1] that it reads as channels_last.
  return x.shape[1] === 1 ? aten.clone(x, 'channels_last') : aten.contiguous(x, 'channels_last');
}

/** Whether a 4-D tensor is densely laid out channels_last: strides [H·W·C, 1, W·C, C]. */
export function isChannelsLast(x: Tensor): boolean {
  tensorHandle('x', x);
  if (x.shape.length !== 4) return false;
  const [, c, , w] = x.shape;
  const h = x.shape[2];
  const strides = [0, 1, 2, 3].map((d) => aten.stride(x, d));
  const expected = [h * w * c, 1, w * c, c];
  return strides.every((s, d) => s === expected[d] || x.shape[d] === 1);
}
