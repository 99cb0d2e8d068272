/**
 * A single-node launch's store port comes from below the kernel's ephemeral range, which bind(0)
 * (Gloo's listening sockets, another launch's pick) never draws from, and is free when picked.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { freePort } from '../../src/distributed/free-port';

const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);

const listen = (port: number): Promise<net.Server> => new Promise((resolve, reject) => {
  const srv = net.createServer();
  srv.once('error', reject);
  srv.listen(port, '127.0.0.1', () => resolve(srv));
});
const close = (srv: net.Server): Promise<void> => new Promise((r) => srv.close(() => r()));

it('picks ports below the ephemeral range, spread over it, each free to listen on', async () => {
  const ports: number[] = [];
  for (let i = 0; i < 50; i++) {
    const port = await freePort();
    await close(await listen(port));
    ports.push(port);
  }
  expect(ports.every((p) => Number.isInteger(p) && p >= 20000 && p < low)).toBe(true);
  // Random, not one port handed out again and again: 50 draws from thousands are nearly all distinct.
  expect(new Set(ports).size).toBeGreaterThan(45);
});

it('draws again when the port drawn is in use', async () => {
  const held = await listen(await freePort());
  const taken = (held.address() as net.AddressInfo).port;
  const other = taken === 20000 ? 20001 : 20000;
  const draw = (port: number) => (port - 20000 + 0.5) / (low - 20000);
  const random = jest.spyOn(Math, 'random').mockReturnValueOnce(draw(taken)).mockReturnValueOnce(draw(other));
  try {
    expect(await freePort()).toBe(other);
  } finally {
    random.mockRestore();
    await close(held);
  }
});
