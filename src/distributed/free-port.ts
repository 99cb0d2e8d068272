/**
 * The port a single-node launch gives its store. A port the kernel hands out for bind(0) is free
 * only until the store binds it, seconds later once the workers have loaded, and every bind(0)
 * meanwhile draws from the same ephemeral range: Gloo's listening sockets, another launch's pick.
 * A random port below that range is never handed out so; it can only be taken by a process that
 * names it.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { ToolkitError } from '../errors';

/** The lowest port picked: clear of the well-known and registered services most machines run. */
const LOWEST = 20000;
const TRIES = 64;

/** The low end of the kernel's ephemeral range (Linux's default when it cannot be read). */
function ephemeralLow(): number {
  try {
    const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32768;
  } catch {
    return 32768;
  }
}

/** Listens on `port` (0: one the kernel picks) on 127.0.0.1 and closes; the port, or undefined when it is taken. */
function tryPort(port: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' || e.code === 'EACCES' ? resolve(undefined) : reject(e)));
    srv.listen(port, '127.0.0.1', () => {
      const got = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(got));
    });
  });
}

/** A TCP port free a moment ago on 127.0.0.1, below the ephemeral range when that leaves room. */
export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  if (low - LOWEST >= TRIES) {
    for (let i = 0; i < TRIES; i++) {
      const port = await tryPort(LOWEST + Math.floor(Math.random() * (low - LOWEST)));
      if (port !== undefined) return port;
    }
  }
  const port = await tryPort(0);
  if (port === undefined) throw new ToolkitError('ERR_DISTRIBUTED', 'no free TCP port on 127.0.0.1 for the store: give --master-port');
  return port;
}
