/**
 * How the ranks of a group find each other: the store an initMethod names, as torch 1.13's
 * rendezvous handlers (torch/distributed/rendezvous.py) make it. Under torchrun's static
 * rendezvous (its default) the elastic agent already hosts a TCPStore on MASTER_PORT and says so
 * with TORCHELASTIC_USE_AGENT_STORE=True: every rank then connects to it as a client, under the
 * prefix /worker/attempt_<TORCHELASTIC_RESTART_COUNT>, since that store outlives the workers and
 * a restarted attempt must not read the keys of the one before. Otherwise rank 0 hosts it.
 */
import { ToolkitError } from '../errors';
import { int } from '../validate';
import { intVar, masterVars } from './env';

export type StoreSpec =
  | { store: 'tcp'; host: string; port: number; isServer: boolean; prefix?: string }
  | { store: 'file'; path: string };

/** The agent store's prefix for this attempt, or undefined when torchrun's agent hosts no store. */
function agentStorePrefix(env: NodeJS.ProcessEnv): string | undefined {
  if (env.TORCHELASTIC_USE_AGENT_STORE !== 'True') return undefined;
  return `/worker/attempt_${intVar(env, 'TORCHELASTIC_RESTART_COUNT', 0)}`;
}

function tcpStore(host: string, port: number, rank: number, env: NodeJS.ProcessEnv): StoreSpec {
  const prefix = agentStorePrefix(env);
  return prefix === undefined ? { store: 'tcp', host, port, isServer: rank === 0 } : { store: 'tcp', host, port, isServer: false, prefix };
}

/** MASTER_ADDR / MASTER_PORT: required with several ranks (torch requires them always); a lone rank defaults to 127.0.0.1:29500. */
function master(env: NodeJS.ProcessEnv, worldSize: number): { host: string; port: number } {
  if (worldSize > 1) {
    for (const name of ['MASTER_ADDR', 'MASTER_PORT']) {
      if (env[name] === undefined) {
        throw new ToolkitError('ERR_INVALID_ARG', `Expected environment variable ${name} (the ${name === 'MASTER_ADDR' ? 'host' : 'TCP port'} of rank 0's store, which torchrun sets) to be set for initMethod 'env://' with ${worldSize} ranks but it is unset`);
      }
    }
  }
  const { masterAddr, masterPort } = masterVars(env);
  return { host: masterAddr ?? '127.0.0.1', port: masterPort ?? 29500 };
}

/** The store of `initMethod` ('env://', 'tcp://host:port', 'file:///path') for this rank. */
export function storeFor(initMethod: string, rank: number, worldSize: number, env: NodeJS.ProcessEnv = process.env): StoreSpec {
  if (initMethod === 'env://') {
    const { host, port } = master(env, worldSize);
    return tcpStore(host, port, rank, env);
  }
  const tcp = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(initMethod);
  if (tcp) return tcpStore(tcp[1].replace(/^\[|\]$/g, ''), int('the initMethod port', Number(tcp[2]), 1, 65535), rank, env);
  if (initMethod.startsWith('file://') && initMethod.length > 'file://'.length) return { store: 'file', path: initMethod.slice('file://'.length) };
  throw new ToolkitError('ERR_INVALID_ARG', `Expected initMethod to be 'env://', 'tcp://host:port' or 'file:///path' but received '${initMethod}'`);
}

/** "ranks 2, 3" (at most 8 listed). */
function rankList(ranks: number[]): string {
  const shown = ranks.slice(0, 8).join(', ') + (ranks.length > 8 ? ` and ${ranks.length - 8} more` : '');
  return `${ranks.length === 1 ? 'rank' : 'ranks'} ${shown}`;
}

/**
 * The ranks the addon found absent from the store, in the user's terms: with `perNode` ranks on
 * each node (LOCAL_WORLD_SIZE, torchrun's homogeneous nodes), the nodes they belong to.
 */
function absentRanks(ranks: number[], perNode?: number): string {
  if (perNode === undefined) return rankList(ranks);
  const nodes = [...new Set(ranks.map((r) => Math.floor(r / perNode)))];
  const whole = nodes.every((n) => ranks.filter((r) => Math.floor(r / perNode) === n).length === perNode);
  const which = `${nodes.length === 1 ? 'node' : 'nodes'} ${nodes.slice(0, 8).join(', ')}${nodes.length > 8 ? ` and ${nodes.length - 8} more` : ''}`;
  return `${rankList(ranks)}, ${whole ? 'all the ranks of' : 'on'} ${which} (--node-rank; ${perNode} per node)`;
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.|localhost$)/;

/** The peer address in Gloo's transport error ("connect [127.0.0.1]:41889: Connection refused", "Connect timeout [10.0.0.2]:5012"). */
function glooPeer(message: string): string | undefined {
  return /gloo\/transport\/[^\]]*\] [^[]*\[([^\]]+)\]:\d+/.exec(message)?.[1];
}

/**
 * What a failed TCPStore rendezvous means, in the user's terms (`named`: where the address came
 * from; `perNode`: LOCAL_WORLD_SIZE where it was set, to name the nodes of absent ranks), or
 * undefined for other failures; libtorch's words follow it in the error.
 */
export function rendezvousFailure(spec: StoreSpec, named: string, worldSize: number, timeoutMs: number, message: string, perNode?: number): string | undefined {
  if (spec.store !== 'tcp') return undefined;
  const at = `${spec.host}:${spec.port} (${named})`;
  const host = spec.prefix === undefined ? 'rank 0' : "torchrun's agent";
  if (spec.isServer && /Address already in use/.test(message)) {
    return `rank 0 cannot host the TCPStore on port ${spec.port} (${named}): another process holds it (another job, or on this machine a second node given --node-rank 0); choose a free port (--master-port, MASTER_PORT)`;
  }
  if (/connecting the ranks failed/.test(message)) {
    const absent = /\[ranks absent from the store: ([\d,]+)\]/.exec(message);
    if (absent) {
      const ranks = absent[1].split(',').map(Number);
      return `the ${worldSize} ranks did not all join within ${timeoutMs} ms at ${at}: ${absentRanks(ranks, perNode)} never reached it: not started, failed before joining, or given another address or port`;
    }
    const peer = glooPeer(message);
    if (peer !== undefined && LOOPBACK.test(peer) && !LOOPBACK.test(spec.host)) {
      return `the ${worldSize} ranks reached the store at ${at}, but Gloo gave a rank the loopback address ${peer}, which no other machine reaches: Gloo binds each rank to the address its host name resolves to (127.0.1.1 in Debian's /etc/hosts); on several machines set GLOO_SOCKET_IFNAME to the network interface they share, on every node`;
    }
    if (peer === undefined && /Connection reset by peer|Broken pipe/.test(message)) {
      return `the store at ${at} closed while this rank waited for the others to join: ${host}, which hosts it, exited (it failed, or gave up waiting for a rank that never came: see its error)`;
    }
    if (/\[every rank reached the store\]/.test(message) || peer !== undefined) {
      return `the ${worldSize} ranks reached the store at ${at} but could not connect to each other${peer === undefined ? '' : ` (Gloo, at ${peer})`}: a rank failed meanwhile, their own addresses do not reach each other (several machines: set GLOO_SOCKET_IFNAME to the network interface they share), or a firewall lets through only the store's port (Gloo connects on other ports: allow TCP between the nodes)`;
    }
  }
  if (!/Socket Timeout|timed out/i.test(message)) return undefined;
  if (/connecting the ranks failed/.test(message)) {
    return `the ${worldSize} ranks did not all join within ${timeoutMs} ms at ${at}: a rank did not start, failed, or was given another address`;
  }
  return `no TCPStore answered at ${at} within ${timeoutMs} ms: ${host} hosts it; check that it started, that every node was given this address and port, that this machine reaches that address, and that nothing else holds that port`;
}
