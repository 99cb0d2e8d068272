/**
 * DataLoader worker thread: rebuilds the dataset from its spec (shared memory, no copy), then
 * builds the batches it is asked for and transfers their buffers back (no copy either).
 * Messages in: { type: 'batch', id, job }. Out: 'ready', 'batch' { id, x, y }, 'error' { id, error },
 * 'warning' { file, message }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BatchBuilder, datasetFromSpec, serializeError, type BatchJob, type WorkerInit } from './batch';
import { ImageFolder } from './image-folder';
import { compose } from './transforms';

function main(): void {
  const port = parentPort;
  if (!port || !(workerData as WorkerInit | undefined)?.signinTorchDataWorker) return;
  let builder: BatchBuilder;
  try {
    const init = workerData as WorkerInit;
    const dataset = datasetFromSpec(init.spec, init.dataset);
    if (dataset instanceof ImageFolder) dataset.onWarning = (file, message) => port.postMessage({ type: 'warning', file, message });
    builder = new BatchBuilder(dataset, compose(init.transforms), init.shape, init.seed);
  } catch (e) {
    port.postMessage({ type: 'error', id: -1, error: serializeError(e) });
    return;
  }
  port.on('message', (msg: { type: string; id: number; job: BatchJob }) => {
    if (msg.type !== 'batch') return;
    builder.build(msg.job).then(
      (b) => port.postMessage({ type: 'batch', id: msg.id, x: b.x, y: b.y }, [b.x.buffer as ArrayBuffer, b.y.buffer as ArrayBuffer]),
      (e) => port.postMessage({ type: 'error', id: msg.id, error: serializeError(e) }),
    );
  });
  port.postMessage({ type: 'ready' });
}

main();
