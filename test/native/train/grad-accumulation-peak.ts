/**
 * Prints the CPU allocator's peak bytes in use over one Trainer step of a wide MLP on a batch of
 * 2048, split into argv[2] micro-batches (grad-accumulation.test.ts compares 1 and 4).
 */
import * as pino from 'pino';
import { Linear, ReLU, SGD, Sequential, cpuMemoryStats, manualSeed, randint, randn, setNumThreads } from '../../../src';
import { Trainer } from '../../../src/train/trainer';

async function main(): Promise<void> {
  setNumThreads(1);
  manualSeed(0);
  const model = new Sequential(new Linear(256, 1024), new ReLU(), new Linear(1024, 1024), new ReLU(), new Linear(1024, 1024), new ReLU(), new Linear(1024, 10));
  const train = {
    length: 1,
    async *[Symbol.asyncIterator]() {
      yield { x: randn([2048, 256]), y: randint(0, 10, [2048]) };
    },
  };
  await new Trainer({
    model, optimizer: SGD.forModel(model, { lr: 0.1 }), train, epochs: 1, lr: () => 0.1, progress: false,
    logger: pino.default({ level: 'silent' }), gradAccumSteps: Number(process.argv[2]),
  }).fit();
  process.stdout.write(`${cpuMemoryStats().peakInUseBytes}\n`);
}

void main();
