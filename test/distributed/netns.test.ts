/**
 * Two nodes as on separate hosts: each `signin-torch train --nproc 1 --nnodes 2 --node-rank R`
 * launcher runs in its own network namespace, the two joined only by a veth link (netns-pair.ts),
 * so the store's and Gloo's connections cross that link, never a shared loopback.
 * - Each node's host name resolving to loopback (Debian's /etc/hosts), without GLOO_SOCKET_IFNAME:
 *   both fail, telling the user to set it; with it, they train as 1 process with the global batch.
 * - Host names that resolve to each node's own link address need no GLOO_SOCKET_IFNAME.
 * - A firewall that lets through only the store's port: ERR_DISTRIBUTED within about the timeout.
 * - The link cut mid-run (packets dropped, no connection closed): every rank fails within about
 *   the timeout, nothing is left running, and the run resumes on both nodes to the uninterrupted end.
 *   The workers are frozen for the cut as soon as the run's first checkpoint is on disk
 *   (checkpoint.everySteps, step 4 of 96): from that cue the run took 2.0-2.2 s to end uncut (load
 *   2.6), where the cue before (epoch 1's checkpoint, step 8 of 24) left 0.43-0.47 s.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readMetrics, runDirFor, runPaths } from '../../src/experiments';
import { checkpointDiff } from '../helpers/checkpoint-diff';
import { tmpDir } from '../helpers/data-fixtures';
import { CHILD_ENV, trainArgs, trainToEnd } from '../helpers/kill-child';
import { lenetSignInRun } from '../helpers/lenet-run';
import { makeNetnsPair, netnsUnavailable, type NetnsPair } from './netns-pair';

interface NodeRun {
  child: ChildProcess;
  stderr: () => string;
  /** Exit code (128 + signal when killed) and when it came (Date.now()). */
  exited: Promise<{ code: number; at: number }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const filesOf = (runDir: string) => (fs.existsSync(runDir) ? fs.readdirSync(runDir).sort() : []);
const HOSTNAMES = ['signin-node0', 'signin-node1'] as const;
/** Debian's /etc/hosts: the machine's own name on 127.0.1.1. */
const debianHosts = (node: 0 | 1) => `127.0.0.1 localhost\n127.0.1.1 ${HOSTNAMES[node]}\n`;

function tests(): void {
  const dir = tmpDir('signin-netns-');
  // 256 training images: 8 steps of 32 per epoch.
  const { config, configFile } = lenetSignInRun(dir, { images: 512, epochs: 3 });
  const single = path.join(dir, 'single');
  // The link-cut test's run: 1024 training images, 32 steps per epoch, 96 in all.
  const long = lenetSignInRun(path.join(dir, 'long'), { images: 2048, epochs: 3 });
  const CUE_STEP = 4;
  // The same run (everySteps is not part of its identity) with a checkpoint at step 4: the test's cue.
  const cuedFile = path.join(dir, 'long', 'cued.json');
  const longSingle = path.join(dir, 'long-single');
  let pair: NetnsPair;
  let port = 29500;

  beforeAll(() => {
    pair = makeNetnsPair();
    trainToEnd(configFile, single);
    fs.writeFileSync(cuedFile, JSON.stringify({ ...long.config, checkpoint: { ...long.config.checkpoint, everySteps: CUE_STEP } }));
    trainToEnd(long.configFile, longSingle);
  }, 180_000);
  afterAll(() => {
    // Kills whatever a failed test left in the namespaces.
    pair?.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Node `node`'s launcher in its namespace, with its own host name; GLOO_SOCKET_IFNAME only where `env` sets it. */
  function startNode(node: 0 | 1, runsDir: string, jobPort: number, env: NodeJS.ProcessEnv, file = configFile): NodeRun {
    const flags = ['--nproc', '1', '--nnodes', '2', '--node-rank', String(node), '--master-addr', pair.addr[0], '--master-port', String(jobPort)];
    const { GLOO_SOCKET_IFNAME: _inherited, ...base } = CHILD_ENV;
    const child = pair.spawn(node, process.execPath, trainArgs(file, runsDir, flags), { env: { ...base, ...env }, stdio: ['ignore', 'ignore', 'pipe'], detached: true }, HOSTNAMES[node]);
    let stderr = '';
    child.stderr!.on('data', (d) => { stderr += String(d); });
    const exited = new Promise<{ code: number; at: number }>((resolve) => {
      child.on('exit', (code, signal) => resolve({ code: code ?? (signal === 'SIGKILL' ? 137 : 128), at: Date.now() }));
    });
    return { child, stderr: () => stderr, exited };
  }

  /** Both nodes at once, each its own runs directory (its own disk), on a fresh port. */
  function startBoth(runs: [string, string], env: (node: 0 | 1) => NodeJS.ProcessEnv, jobPort = ++port, file = configFile): [NodeRun, NodeRun] {
    return [startNode(0, runs[0], jobPort, env(0), file), startNode(1, runs[1], jobPort, env(1), file)];
  }

  // Runs that should succeed: if one does not, its error comes well inside jest's timeout.
  const BOUNDED = { SIGNIN_TORCH_DIST_TIMEOUT_S: '10' };
  // The runs that must fail joining: start-up (7-9 s measured at load 5) and then at most about
  // this timeout. Gloo waits 5 × its timeout for a first connection: before the group was built on
  // a fifth of it, these runs ended 25 s after start-up.
  const JOIN_TIMEOUT_S = 5;
  const withinJoinBound = (exits: { at: number }[], started: number) => expect(Math.max(...exits.map((e) => e.at)) - started).toBeLessThan(15_000 + JOIN_TIMEOUT_S * 1000);
  const ifname = (node: 0 | 1) => ({ ...BOUNDED, GLOO_SOCKET_IFNAME: pair.ifname[node] });
  const expectSuccess = async (nodes: [NodeRun, NodeRun]) => {
    const exits = await Promise.all(nodes.map((n) => n.exited));
    expect({ codes: exits.map((e) => e.code), stderr: exits.some((e) => e.code) ? nodes[0].stderr() + nodes[1].stderr() : '' }).toEqual({ codes: [0, 0], stderr: '' });
  };

  it('host names on loopback (Debian) and no GLOO_SOCKET_IFNAME: both nodes fail, naming the loopback address and GLOO_SOCKET_IFNAME; with it they end where 1 process does', async () => {
    for (const node of [0, 1] as const) pair.hosts(node, debianHosts(node));
    const runs: [string, string] = [path.join(dir, 'loopback-0'), path.join(dir, 'loopback-1')];
    const started = Date.now();
    const nodes = startBoth(runs, () => ({ SIGNIN_TORCH_DIST_TIMEOUT_S: String(JOIN_TIMEOUT_S) }));
    const exits = await Promise.all(nodes.map((n) => n.exited));
    expect(exits.map((e) => e.code)).toEqual([1, 1]);
    const message = new RegExp(`\\nERR_DISTRIBUTED: initProcessGroup: the 2 ranks reached the store at 10\\.77\\.1\\.1:${port} \\(MASTER_ADDR:MASTER_PORT\\), but Gloo gave a rank the loopback address 127\\.0\\.1\\.1, which no other machine reaches: .*set GLOO_SOCKET_IFNAME to the network interface they share`);
    for (const n of nodes) expect(`\n${n.stderr()}`).toMatch(message);
    withinJoinBound(exits, started);

    await expectSuccess(startBoth([path.join(dir, 'ifname-0'), path.join(dir, 'ifname-1')], ifname));
    expect(checkpointDiff(runDirFor(single, config), runDirFor(path.join(dir, 'ifname-0'), config))).toBeLessThan(1e-5);
    expect(filesOf(runDirFor(path.join(dir, 'ifname-1'), config))).toEqual(['config.json']);
  }, 120_000);

  it("host names resolving to each node's own link address need no GLOO_SOCKET_IFNAME", async () => {
    for (const node of [0, 1] as const) pair.hosts(node, `127.0.0.1 localhost\n${pair.addr[node]} ${HOSTNAMES[node]}\n`);
    const runs: [string, string] = [path.join(dir, 'named-0'), path.join(dir, 'named-1')];
    await expectSuccess(startBoth(runs, () => BOUNDED));
    expect(checkpointDiff(runDirFor(single, config), runDirFor(runs[0], config))).toBeLessThan(1e-5);
  }, 120_000);

  it("a firewall open only for the store's port: both nodes fail with ERR_DISTRIBUTED naming the firewall, within about the timeout", async () => {
    const storePort = ++port;
    pair.firewall(storePort);
    try {
      const started = Date.now();
      const nodes = startBoth([path.join(dir, 'firewall-0'), path.join(dir, 'firewall-1')], (node) => ({ ...ifname(node), SIGNIN_TORCH_DIST_TIMEOUT_S: String(JOIN_TIMEOUT_S) }), storePort);
      const exits = await Promise.all(nodes.map((n) => n.exited));
      expect(exits.map((e) => e.code)).toEqual([1, 1]);
      const message = new RegExp(`\\nERR_DISTRIBUTED: initProcessGroup: the 2 ranks reached the store at 10\\.77\\.1\\.1:${storePort} \\(MASTER_ADDR:MASTER_PORT\\) but could not connect to each other \\(Gloo, at 10\\.77\\.1\\.[12]\\): .*a firewall lets through only the store's port`);
      for (const n of nodes) expect(`\n${n.stderr()}`).toMatch(message);
      withinJoinBound(exits, started);
    } finally {
      pair.heal();
    }
  }, 120_000);

  it('the link cut at the first checkpoint: both ranks fail within about the timeout, nothing is left running, and the run resumes on both nodes to the uninterrupted end', async () => {
    const runs: [string, string] = [path.join(dir, 'cut-0'), path.join(dir, 'cut-1')];
    const runDir = runDirFor(runs[0], long.config);
    // Also the join's: the nodes start together and must reach the store within it of each other.
    // Two processes started at once finished loading up to 2.3 s apart at load 13-19 (23 pairs
    // measured); with 3 s, node 1 started 3.5 s late made node 0 give up joining.
    const timeoutS = 8;
    const nodes = startBoth(runs, (node) => ({ ...ifname(node), SIGNIN_TORCH_DIST_TIMEOUT_S: String(timeoutS) }), ++port, cuedFile);
    const workersOf = (n: NodeRun) => spawnSync('pgrep', ['-P', String(n.child.pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
    let workers: number[] = [];
    while (!fs.existsSync(runPaths(runDir).checkpoint)) {
      if (nodes.some((n) => n.child.exitCode !== null)) throw new Error(`a node ended first: ${nodes[0].stderr()}${nodes[1].stderr()}`);
      if (workers.length < 2) workers = nodes.flatMap(workersOf);
      await sleep(5);
    }
    // Frozen while the link goes (the steps left could take less than setting it up), then thawed
    // together: as if the cable were pulled between two steps.
    for (const pid of workers) process.kill(pid, 'SIGSTOP');
    pair.partition();
    const cutAt = Date.now();
    for (const pid of workers) process.kill(pid, 'SIGCONT');
    const exits = await Promise.all(nodes.map((n) => n.exited));
    // Measured: 3.1-3.5 s after the cut with a 3 s timeout (load 5 on 2 cores), 8.4-8.5 s with 8 s (load ~14).
    const after = exits.map((e) => e.at - cutAt);
    expect(exits.map((e) => e.code)).toEqual([1, 1]);
    for (const n of nodes) expect(n.stderr()).toMatch(/(^|\n)ERR_DISTRIBUTED: [^\n]*(timed out|Timed out)/);
    for (const ms of after) expect(ms).toBeLessThan(timeoutS * 1000 + 10_000);
    expect([pair.pids(0), pair.pids(1)]).toEqual([[], []]);
    expect(fs.existsSync(runPaths(runDir).final)).toBe(false);
    expect(readMetrics(runDir).length).toBeLessThan(3);

    pair.heal();
    // Each node needs the checkpoint: node 1's disk gets a copy of node 0's run.
    fs.rmSync(runs[1], { recursive: true, force: true });
    fs.cpSync(runs[0], runs[1], { recursive: true });
    await expectSuccess(startBoth(runs, ifname, ++port, cuedFile));
    expect(readMetrics(runDir).map((r) => r.epoch)).toEqual([1, 2, 3]);
    expect(checkpointDiff(runDirFor(longSingle, long.config), runDir)).toBeLessThan(1e-5);
  }, 120_000);
}

const unavailable = netnsUnavailable();
if (unavailable === undefined) {
  describe('two nodes in two network namespaces', tests);
} else {
  console.warn(`skipping netns.test.ts: ${unavailable}`);
  it.skip(`runs two nodes in two network namespaces (${unavailable})`, () => undefined);
}
