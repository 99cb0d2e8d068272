/**
 * Two "machines" on one: two Linux network namespaces joined only by a veth pair. Each has its
 * own interfaces and its own loopback, so processes started in them (`ip netns exec`) reach each
 * other over that link alone, as separate hosts do over a network. Needs root and iproute2.
 *
 * Filtering uses policy routing (`ip rule ... blackhole` on what arrives from the link), since
 * this kernel has neither tc's drop actions nor netem, and iptables/nftables are not installed:
 * a blackholed packet vanishes without a reset, as behind a firewall or a cut cable.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const PREFIX = 'signin-t';
/** `ip netns exec <ns>` mounts the files of /etc/netns/<ns>/ over /etc's: each machine's own /etc/hosts. */
const ETC_NETNS = '/etc/netns';

function ip(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: r.error ? String(r.error.message) : `${r.stdout}${r.stderr}` };
}

function mustIp(args: string[]): string {
  const r = ip(args);
  if (!r.ok) throw new Error(`ip ${args.join(' ')} failed: ${r.out}`);
  return r.out;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Namespaces of earlier test processes that died before their teardown, so that they do not pile up. */
function removeStale(): void {
  const hosts = fs.existsSync(ETC_NETNS) ? fs.readdirSync(ETC_NETNS) : [];
  for (const name of [...ip(['netns', 'list']).out.split('\n'), ...hosts]) {
    const m = new RegExp(`^(${PREFIX}(\\d+)-\\d+[ab])\\b`).exec(name);
    if (m && !alive(Number(m[2]))) {
      ip(['netns', 'del', m[1]]);
      fs.rmSync(path.join(ETC_NETNS, m[1]), { recursive: true, force: true });
    }
  }
}

/** Why namespaces cannot be made here (not root, no `ip`, EPERM in a container), or undefined. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces are Linux's (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  if (spawnSync('ip', ['-V']).error) return "iproute2's `ip` is not installed";
  const probe = `${PREFIX}${process.pid}-probe`;
  const made = ip(['netns', 'add', probe]);
  // What the tests do inside one: `ip netns exec` remounts /sys, unshare makes a UTS namespace.
  const entered = made.ok ? ip(['netns', 'exec', probe, 'unshare', '--uts', 'true']) : made;
  ip(['netns', 'del', probe]);
  if (!made.ok) return `\`ip netns add\` failed: ${made.out.trim()}`;
  return entered.ok ? undefined : `\`ip netns exec NAME unshare --uts\` failed: ${entered.out.trim()}`;
}

export interface NetnsPair {
  /** Namespace names, node 0's and node 1's. */
  ns: [string, string];
  /** Each node's end of the link (its GLOO_SOCKET_IFNAME). */
  ifname: [string, string];
  /** Each node's address on the link. */
  addr: [string, string];
  /** `command args` started inside node `node`'s namespace, with its own host name when `hostname` is given (a UTS namespace). */
  spawn(node: 0 | 1, command: string, args: string[], options: SpawnOptions, hostname?: string): ChildProcess;
  /** Node `node`'s /etc/hosts (its processes' name resolution) from then on. */
  hosts(node: 0 | 1, text: string): void;
  /** Each node drops whatever arrives on the link except TCP to or from `port` (a firewall open for the store alone). */
  firewall(port: number): void;
  /** Each node drops everything that arrives on the link: the other machine vanishes without closing a connection. */
  partition(): void;
  /** Lifts firewall() and partition(). */
  heal(): void;
  /** The processes living in node `node`'s namespace. */
  pids(node: 0 | 1): number[];
  /** SIGKILLs what still runs in the namespaces and deletes them (and with them the link). */
  destroy(): void;
}

let made = 0;

/** A fresh pair of namespaces with the link up: 10.77.1.1/24 and 10.77.1.2/24 (each pair is isolated, so every pair may use them). */
export function makeNetnsPair(): NetnsPair {
  removeStale();
  const id = `${process.pid}-${made++}`;
  const ns: [string, string] = [`${PREFIX}${id}a`, `${PREFIX}${id}b`];
  // Interface names hold 15 bytes.
  const ifname: [string, string] = [`sv${id.replace('-', 'x')}a`, `sv${id.replace('-', 'x')}b`];
  const addr: [string, string] = ['10.77.1.1', '10.77.1.2'];
  const pids = (node: 0 | 1): number[] => ip(['netns', 'pids', ns[node]]).out.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
  const inNs = (node: 0 | 1, args: string[]) => mustIp(['-n', ns[node], ...args]);
  const clearRules = () => {
    for (const node of [0, 1] as const) for (const prio of ['10', '11', '20']) while (ip(['-n', ns[node], 'rule', 'del', 'prio', prio]).ok);
  };
  /** Packets from the link: those matching `allowed` (ip rule selectors) are delivered, the rest blackholed. */
  const drop = (allowed: string[][]) => {
    clearRules();
    for (const node of [0, 1] as const) {
      // The local table's rule (priority 0) would deliver every packet before a blackhole rule.
      if (ip(['-n', ns[node], 'rule', 'del', 'prio', '0']).ok) inNs(node, ['rule', 'add', 'prio', '1000', 'lookup', 'local']);
      allowed.forEach((selector, k) => inNs(node, ['rule', 'add', 'prio', String(10 + k), ...selector, 'lookup', 'local']));
      inNs(node, ['rule', 'add', 'prio', '20', 'iif', ifname[node], 'blackhole']);
    }
  };
  const destroy = () => {
    for (const node of [0, 1] as const) {
      for (const pid of pids(node)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // exited in between
        }
      }
      ip(['netns', 'del', ns[node]]);
      fs.rmSync(path.join(ETC_NETNS, ns[node]), { recursive: true, force: true });
    }
    ip(['link', 'del', ifname[0]]);
  };
  try {
    // A dead test process that had this pid may have left these names behind.
    for (const n of ns) ip(['netns', 'del', n]);
    ip(['link', 'del', ifname[0]]);
    for (const n of ns) mustIp(['netns', 'add', n]);
    mustIp(['link', 'add', ifname[0], 'type', 'veth', 'peer', 'name', ifname[1]]);
    for (const node of [0, 1] as const) {
      mustIp(['link', 'set', ifname[node], 'netns', ns[node]]);
      inNs(node, ['addr', 'add', `${addr[node]}/24`, 'dev', ifname[node]]);
      inNs(node, ['link', 'set', ifname[node], 'up']);
      inNs(node, ['link', 'set', 'lo', 'up']);
    }
  } catch (e) {
    destroy();
    throw e;
  }
  return {
    ns,
    ifname,
    addr,
    // unshare and sh exec the command: the child's pid is the command's.
    spawn: (node, command, args, options, hostname) => spawn('ip', ['netns', 'exec', ns[node], ...(hostname === undefined ? [] : ['unshare', '--uts', 'sh', '-c', 'hostname "$0" && exec "$@"', hostname]), command, ...args], options),
    hosts: (node, text) => {
      fs.mkdirSync(path.join(ETC_NETNS, ns[node]), { recursive: true });
      fs.writeFileSync(path.join(ETC_NETNS, ns[node], 'hosts'), text);
    },
    firewall: (port) => drop([['ipproto', 'tcp', 'dport', String(port)], ['ipproto', 'tcp', 'sport', String(port)]]),
    partition: () => drop([]),
    heal: clearRules,
    pids,
    destroy,
  };
}
