/**
 * What the download tests share: a local HTTP server on 127.0.0.1 (a random port) whose routes a
 * test sets, counting requests; tiny IDX .gz fixtures made here with zlib (independent of
 * src/data), their md5s computed here; and a listing of a folder to tell "left as it was".
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import pino from 'pino';
import { createDataset, type ArrayDataset } from '../../../src/data';
import type { DownloadSource } from '../../../src/data/download';

export const quiet = pino({ level: 'silent' });
export const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** The server of a test file: base URL, routes (404 elsewhere), and the paths asked for. */
export const srv = { base: '', routes: new Map<string, Handler>(), requests: [] as string[], server: undefined as http.Server | undefined };

/** Starts the server for the test file; each test starts with no routes and no requests. */
export function useLocalServer(): void {
  let server: http.Server;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      srv.requests.push(req.url!);
      const h = srv.routes.get(req.url!);
      if (h) h(req, res);
      else res.writeHead(404).end('not here');
    });
    // Node's 5 s default could close an idle connection just as fetch reuses it, on a loaded machine.
    server.keepAliveTimeout = 120_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    srv.server = server;
    srv.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    srv.routes = new Map();
    srv.requests = [];
  });
}

export const serve = (body: Buffer): Handler => (_req, res) => res.writeHead(200, { 'content-length': body.length }).end(body);

/** Every path under dir with its size ('' for a folder): what "root unchanged" compares. */
export function tree(dir: string): Record<string, number | ''> {
  const out: Record<string, number | ''> = {};
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const p = path.relative(dir, path.join(e.parentPath, e.name));
    out[p] = e.isDirectory() ? '' : fs.statSync(path.join(dir, p)).size;
  }
  return out;
}

// 3 training and 2 test images of 28x28, gzipped as the mirrors serve them.
function idx(images: Buffer, labels: Buffer): [Buffer, Buffer] {
  const n = labels.length;
  const ih = Buffer.alloc(16);
  ih.writeUInt32BE(2051, 0); ih.writeUInt32BE(n, 4); ih.writeUInt32BE(28, 8); ih.writeUInt32BE(28, 12);
  const lh = Buffer.alloc(8);
  lh.writeUInt32BE(2049, 0); lh.writeUInt32BE(n, 4);
  return [zlib.gzipSync(Buffer.concat([ih, images])), zlib.gzipSync(Buffer.concat([lh, labels]))];
}
const pixels = (n: number, seed: number) => Buffer.from(Array.from({ length: n * 784 }, (_, i) => (i * 31 + seed * 17) % 256));
const trainImages = pixels(3, 1);
const trainLabels = Buffer.from([7, 0, 9]);
const testImages = pixels(2, 2);
const testLabels = Buffer.from([3, 5]);
export const [trainI, trainL] = idx(trainImages, trainLabels);
export const [testI, testL] = idx(testImages, testLabels);
export const IDX: Record<string, Buffer> = {
  'train-images-idx3-ubyte.gz': trainI, 'train-labels-idx1-ubyte.gz': trainL,
  't10k-images-idx3-ubyte.gz': testI, 't10k-labels-idx1-ubyte.gz': testL,
};

/** A source of the IDX fixtures, with their md5s. */
export const idxSource = (mirrors: string[]): DownloadSource => ({
  name: 'MNIST fixture',
  mirrors,
  files: Object.entries(IDX).map(([name, b]) => ({ name, md5: md5(b), maxBytes: 1 << 20 })),
});

export const serveIdx = (prefix: string) => { for (const [name, b] of Object.entries(IDX)) srv.routes.set(`${prefix}${name}`, serve(b)); };

/** The mnist loader reads the fixtures' images and labels from root, byte for byte. */
export function expectIdx(root: string): void {
  for (const [train, images, labels] of [[true, trainImages, trainLabels], [false, testImages, testLabels]] as const) {
    const ds = createDataset('mnist', { root, train }) as ArrayDataset;
    expect(ds.length).toBe(labels.length);
    for (let i = 0; i < ds.length; i++) {
      const s = ds.get(i);
      expect(s.label).toBe(labels[i]);
      expect(Buffer.from(s.image.data).equals(images.subarray(i * 784, (i + 1) * 784))).toBe(true);
    }
  }
}
