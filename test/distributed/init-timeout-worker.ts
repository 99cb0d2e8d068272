/** Joins a 2-rank group alone (argv[2]: FileStore path, argv[3]: timeout ms); prints the error. */
import { initProcessGroup } from '../../src/distributed';

try {
  initProcessGroup({ rank: 0, worldSize: 2, initMethod: `file://${process.argv[2]}`, timeoutMs: Number(process.argv[3]) });
  process.stdout.write('joined\n');
} catch (e) {
  const err = e as { code?: string; message?: string };
  process.stdout.write(`${err.code}: ${err.message}\n`);
}
