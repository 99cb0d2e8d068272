/**
 * Joins a group with the options in argv[2] (JSON, given to initProcessGroup; rank, world size and
 * store default to torchrun's variables) and prints `joined` or `<code>: <message>`, then the
 * milliseconds the attempt took (the addon is loaded first: its dlopen of libtorch took over a
 * second on a loaded machine and is not the join's time), then `pid <pid>` (the pid the addon
 * names in its messages). With argv[3] = N, a joined group then sums [rank + 1] over the ranks
 * after rank 1 waited N ms, and prints `sum <s>` or the error. With JOIN_GATE=1 it prints `loaded`
 * once the addon is loaded and joins only when a line arrives on stdin, so that a test can order
 * joins without the start-up's seconds in between.
 */
import { once } from 'node:events';
import { tensor } from '../../src';
import { allReduce, destroyProcessGroup, getRank, initProcessGroup } from '../../src/distributed';
import { native } from '../../src/native';

const describe = (e: unknown) => `${(e as { code?: string }).code}: ${(e as { message?: string }).message}`;

async function main(): Promise<void> {
  native();
  if (process.env.JOIN_GATE === '1') {
    process.stdout.write('loaded\n');
    await once(process.stdin, 'data');
    process.stdin.destroy();
  }
  const t0 = Date.now();
  let joined = false;
  try {
    initProcessGroup(JSON.parse(process.argv[2]));
    joined = true;
    process.stdout.write('joined\n');
  } catch (e) {
    process.stdout.write(`${describe(e)}\n`);
  }
  process.stdout.write(`${Date.now() - t0} ms\npid ${process.pid}\n`);
  if (joined && process.argv[3] !== undefined) {
    if (getRank() === 1) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(process.argv[3]));
    try {
      const t = tensor([getRank() + 1], { dtype: 'float64' });
      allReduce(t);
      process.stdout.write(`sum ${t.toArray()[0]}\n`);
    } catch (e) {
      process.stdout.write(`${describe(e)}\n`);
    }
  }
  if (joined) destroyProcessGroup();
}

void main();
