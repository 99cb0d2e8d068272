/**
 * Joins a group with the options in argv[2] (JSON, given to initProcessGroup; rank, world size and
 * store default to torchrun's variables) and prints `joined` or `<code>: <message>`, then the
 * milliseconds the attempt took (the addon is loaded first: its dlopen of libtorch took over a
 * second on a loaded machine and is not the join's time).
 */
import { destroyProcessGroup, initProcessGroup } from '../../src/distributed';
import { native } from '../../src/native';

native();
const t0 = Date.now();
try {
  initProcessGroup(JSON.parse(process.argv[2]));
  process.stdout.write('joined\n');
  destroyProcessGroup();
} catch (e) {
  const err = e as { code?: string; message?: string };
  process.stdout.write(`${err.code}: ${err.message}\n`);
}
process.stdout.write(`${Date.now() - t0} ms\n`);
