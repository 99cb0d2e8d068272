/**
 * Errors that cross from a DataLoader worker thread reach the caller as the ToolkitError of their
 * code, through the same structured-clone path a worker's postMessage takes.
 */
import { MessageChannel } from 'node:worker_threads';
import { DatasetError } from '../../../src/data/base';
import { serializeError } from '../../../src/data/batch';
import { ImageDecodeError } from '../../../src/data/image-folder';
import { rebuildError } from '../../../src/data/loader';
import { InvalidArgumentError, NativeError, ToolkitError } from '../../../src/errors';

/** What the main thread receives when a worker posts serializeError(e). */
async function acrossThreads(e: unknown): Promise<ToolkitError> {
  const { port1, port2 } = new MessageChannel();
  const received = new Promise<ToolkitError>((resolve) => port2.once('message', (m: { error: Parameters<typeof rebuildError>[0] }) => resolve(rebuildError(m.error))));
  port1.postMessage({ error: serializeError(e) });
  try {
    return await received;
  } finally {
    port1.close();
  }
}

describe('errors from DataLoader workers', () => {
  test('a coded error keeps its class, code and message', async () => {
    const arg = await acrossThreads(new InvalidArgumentError('batchSize', 'positive integer', 0));
    expect(arg).toBeInstanceOf(InvalidArgumentError);
    expect([arg.code, arg.message]).toEqual(['ERR_INVALID_ARG', 'Expected positive integer for batchSize but received 0 of type number']);

    const decode = await acrossThreads(new ImageDecodeError('truncated', '/data/a.png'));
    expect(decode).toBeInstanceOf(DatasetError);
    expect([decode.code, decode.message, (decode as DatasetError).file]).toEqual(['ERR_DATASET', 'Cannot decode image /data/a.png (truncated)', '/data/a.png']);

    const torch = await acrossThreads(Object.assign(new ToolkitError('ERR_TORCH_VALUE', 'bad value')));
    expect(torch).toBeInstanceOf(NativeError);
    expect(torch.code).toBe('ERR_TORCH_VALUE');
  });

  test('an error without a code becomes ERR_DATA_WORKER naming its class', async () => {
    const e = await acrossThreads(new TypeError('x.map is not a function'));
    expect(e).toBeInstanceOf(ToolkitError);
    expect(e.code).toBe('ERR_DATA_WORKER');
    expect(e.message).toBe('A DataLoader worker threw TypeError: x.map is not a function');
    const odd = await acrossThreads(Object.assign(new RangeError('Array buffer allocation failed'), { code: 'ERR_NOT_OURS' }));
    expect([odd.code, odd.message]).toEqual(['ERR_DATA_WORKER', 'A DataLoader worker threw RangeError: Array buffer allocation failed']);
  });
});
