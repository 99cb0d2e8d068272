/**
 * Gloo's all-reduce bandwidth between two "machines" (network namespaces joined by a veth link,
 * netns-pair.ts) against two ranks on one loopback, and over the link shaped to 1 Gbit/s (a tbf
 * qdisc on each end: this kernel has no netem, so no added delay). Rounds alternate the three, so
 * that the load of other jobs falls on each alike. Root only; not a test (minutes of CPU).
 *
 *   npx tsx test/distributed/netns-bandwidth.ts [--rounds 3]
 *
 * Algorithm bandwidth: bytes / time of one all-reduce of a flat float32 buffer over 2 ranks.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { makeNetnsPair, netnsUnavailable, type NetnsPair } from './netns-pair';

const SIZES_MIB = [1, 16, 64];

async function worker(): Promise<void> {
  const { zeros } = await import('../../src');
  const { allReduce, barrier, destroyProcessGroup, initProcessGroup } = await import('../../src/distributed');
  initProcessGroup({ backend: 'gloo' });
  const seconds: number[] = [];
  for (const mib of SIZES_MIB) {
    const t = zeros([mib * 2 ** 18]);
    const reps = Math.max(3, Math.round(64 / mib));
    for (let i = 0; i < 2; i++) allReduce(t);
    barrier();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) allReduce(t);
    seconds.push(Number(process.hrtime.bigint() - t0) / 1e9 / reps);
    t.dispose();
  }
  destroyProcessGroup();
  if (process.env.RANK === '0') console.log(JSON.stringify(seconds));
}

type Mode = 'loopback' | 'veth' | 'veth 1 Gbit/s';

function tc(pair: NetnsPair, args: (node: 0 | 1) => string[]): void {
  for (const node of [0, 1] as const) {
    const r = spawnSync('ip', ['netns', 'exec', pair.ns[node], 'tc', ...args(node)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tc ${args(node).join(' ')}: ${r.stderr}`);
  }
}

/** One 2-rank job in `mode`: rank 0's seconds per all-reduce, by size. */
function job(pair: NetnsPair, mode: Mode, port: number): Promise<number[]> {
  const link = mode !== 'loopback';
  return new Promise((resolve, reject) => {
    let out = '';
    let left = 2;
    for (const rank of [0, 1] as const) {
      const env = {
        ...process.env, RANK: String(rank), LOCAL_RANK: '0', WORLD_SIZE: '2', LOCAL_WORLD_SIZE: '1', OMP_NUM_THREADS: '1',
        MASTER_ADDR: link ? pair.addr[0] : '127.0.0.1', MASTER_PORT: String(port), ...(link ? { GLOO_SOCKET_IFNAME: pair.ifname[rank] } : {}),
      };
      const child = pair.spawn(link ? rank : 0, process.execPath, ['--import', require.resolve('tsx'), __filename, '--worker'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
      child.stdout!.on('data', (d) => { out += String(d); });
      child.on('exit', (code) => {
        if (code !== 0) reject(new Error(`${mode}: rank ${rank} exited ${code}`));
        else if (--left === 0) resolve(JSON.parse(out));
      });
    }
  });
}

async function main(): Promise<void> {
  const unavailable = netnsUnavailable();
  if (unavailable) throw new Error(`cannot make network namespaces: ${unavailable}`);
  const at = process.argv.indexOf('--rounds');
  const rounds = at > 0 ? Number(process.argv[at + 1]) : 3;
  const pair = makeNetnsPair();
  const results = new Map<Mode, number[][]>();
  let port = 29700;
  const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');
  console.log(`load average before: ${load()} (${os.cpus().length} CPUs)`);
  try {
    for (let r = 0; r < rounds; r++) {
      for (const mode of ['loopback', 'veth', 'veth 1 Gbit/s'] as Mode[]) {
        if (mode === 'veth 1 Gbit/s') tc(pair, (n) => ['qdisc', 'replace', 'dev', pair.ifname[n], 'root', 'tbf', 'rate', '1gbit', 'burst', '256kb', 'latency', '10ms']);
        const s = await job(pair, mode, ++port);
        if (mode === 'veth 1 Gbit/s') tc(pair, (n) => ['qdisc', 'del', 'dev', pair.ifname[n], 'root']);
        results.set(mode, [...(results.get(mode) ?? []), s]);
      }
    }
  } finally {
    pair.destroy();
  }
  console.log(`load average after: ${load()}`);
  console.log('| path | ' + SIZES_MIB.map((m) => `${m} MiB (GB/s, median [range] of ${rounds})`).join(' | ') + ' |');
  console.log('|---|' + SIZES_MIB.map(() => '---').join('|') + '|');
  for (const [mode, runs] of results) {
    const cells = SIZES_MIB.map((mib, k) => {
      const gbs = runs.map((s) => (mib * 2 ** 20) / s[k] / 1e9).sort((a, b) => a - b);
      return `${gbs[Math.floor(gbs.length / 2)].toFixed(3)} [${gbs[0].toFixed(3)}–${gbs[gbs.length - 1].toFixed(3)}]`;
    });
    console.log(`| ${mode} | ${cells.join(' | ')} |`);
  }
}

if (process.argv.includes('--worker')) void worker();
else main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
