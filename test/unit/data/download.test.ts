/**
 * downloadDataset / downloadFrom against a local HTTP server on 127.0.0.1 (no network): fixtures
 * made in the tests (IDX .gz with zlib, a CIFAR tarball with Python's tarfile), their md5s computed there
 * and given through downloadFrom's source (the published md5s cannot match a fixture). What the
 * loaders read back is compared with the fixture's own bytes. A local mirror is a folder of the
 * same fixtures, compared with what the server gave.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
// The module object itself, for jest.spyOn: the namespace import's members are getters.
import fsModule from 'node:fs';
import type * as http from 'node:http';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createDataset, type ArrayDataset } from '../../../src/data';
import { DATASET_SOURCES, downloadDataset, downloadFrom, mirrorUrl, type DownloadProgress, type DownloadSource } from '../../../src/data/download';
import { unpack } from '../../../src/data/download-unpack';
import { fsyncsAndRenames } from '../../helpers/fsync-trace';
import { tempDir } from '../../helpers/temp';
import { expectIdx, IDX, idxSource, md5, quiet, serve, serveIdx, srv, testL, trainI, trainL, tree, useLocalServer } from './download-fixtures';

useLocalServer();

// ---- CIFAR-10 fixture: 2 records a file, in a tarball made by Python's tarfile.
const CIFAR_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];
const records = (k: number) => Buffer.from(Array.from({ length: 2 * 3073 }, (_, i) => (i % 3073 === 0 ? (k + i / 3073) % 10 : (i * 7 + k) % 256)));

/** A .tar.gz of `members` (archive name → bytes, or a symlink target as { link }), by /usr/bin/python3. */
function tarGz(members: Record<string, Buffer | { link: string }>): Buffer {
  const dir = tempDir('dl-tar-');
  const list = Object.entries(members).map(([name, v], i) => {
    if (!Buffer.isBuffer(v)) return { name, link: v.link };
    fs.writeFileSync(path.join(dir, `m${i}`), v);
    return { name, file: path.join(dir, `m${i}`) };
  });
  const out = path.join(dir, 'a.tar.gz');
  execFileSync('/usr/bin/python3', ['-c', `
import json, sys, tarfile
with tarfile.open(sys.argv[1], 'w:gz') as t:
    for m in json.loads(sys.argv[2]):
        if 'link' in m:
            i = tarfile.TarInfo(m['name']); i.type = tarfile.SYMTYPE; i.linkname = m['link']; t.addfile(i)
        else:
            i = t.gettarinfo(m['file']); i.name = m['name']
            with open(m['file'], 'rb') as f: t.addfile(i, f)
`, out, JSON.stringify(list)]);
  return fs.readFileSync(out);
}

const cifarBins: Record<string, Buffer> = Object.fromEntries(CIFAR_FILES.map((f, k) => [f, records(k)]));
const cifarSource = (archive: Buffer, mirror: string): DownloadSource => ({
  ...DATASET_SOURCES.cifar10,
  mirrors: [mirror],
  files: [{ name: 'cifar-10-binary.tar.gz', md5: md5(archive), maxBytes: 1 << 20 }],
  unpack: { folder: 'cifar-10-batches-bin', members: [...CIFAR_FILES.map((name) => ({ name, size: 2 * 3073 })), { name: 'batches.meta.txt' }] },
});

describe('MNIST-style IDX files', () => {
  test('fetched into root as the loader reads them; a second run fetches nothing', async () => {
    const root = path.join(tempDir('dl-'), 'data', 'mnist');
    serveIdx('/a/');
    const r = await downloadFrom(idxSource([`${srv.base}/a/`]), { root, logger: quiet });
    expect(r.fetched.sort()).toEqual(Object.keys(IDX).map((n) => `${srv.base}/a/${n}`).sort());
    expect(r.bytes).toBe(Object.values(IDX).reduce((a, b) => a + b.length, 0));
    expectIdx(root);
    expect(Object.keys(tree(root)).sort()).toEqual(Object.keys(IDX).sort());
    srv.requests = [];
    const again = await downloadFrom(idxSource([`${srv.base}/a/`]), { root, logger: quiet });
    expect(again).toEqual({ root, fetched: [], bytes: 0 });
    expect(srv.requests).toEqual([]);
  });

  test("a killed download's staging folder is removed by the next run (even with nothing to fetch); a live process's stays", async () => {
    const root = tempDir('dl-');
    const dead = spawnSync('/bin/true').pid!;
    for (const pid of [dead, process.ppid]) {
      fs.mkdirSync(path.join(root, `.download.${pid}.x1.tmp`));
      fs.writeFileSync(path.join(root, `.download.${pid}.x1.tmp`, 'train-images-idx3-ubyte.gz'), 'half');
    }
    for (const [name, b] of Object.entries(IDX)) fs.writeFileSync(path.join(root, name), b);
    expect(await downloadFrom(idxSource([`${srv.base}/a/`]), { root, logger: quiet })).toEqual({ root, fetched: [], bytes: 0 });
    expect(Object.keys(tree(root)).filter((p) => p.startsWith('.download')).sort()).toEqual([`.download.${process.ppid}.x1.tmp`, `.download.${process.ppid}.x1.tmp/train-images-idx3-ubyte.gz`]);
  });

  test('a kept-alive connection the server closed between two files is opened again for the next (nodejs/undici#3492)', async () => {
    const root = tempDir('dl-');
    serveIdx('/k/');
    // As a server's keep-alive timeout does when it fires just as fetch reuses the connection: a
    // second request on a connection meets it closing.
    const served = new WeakSet<object>();
    for (const [route, h] of srv.routes) {
      srv.routes.set(route, (req, res) => {
        if (served.has(req.socket)) return void req.socket.destroy();
        served.add(req.socket);
        h(req, res);
      });
    }
    const r = await downloadFrom(idxSource([`${srv.base}/k/`]), { root, logger: quiet });
    expect(r.fetched).toHaveLength(4);
    expectIdx(root);
    // Files 2 to 4 each reached the server twice: on the kept-alive connection, then on a new one.
    expect(srv.requests.filter((u) => u.startsWith('/k/'))).toHaveLength(7);
  });

  test('a connection closed under every request is tried twice on a mirror, then reported with its reason', async () => {
    const root = tempDir('dl-');
    srv.routes.set('/r/train-images-idx3-ubyte.gz', (req) => req.socket.destroy());
    await expect(downloadFrom(idxSource([`${srv.base}/r/`]), { root, logger: quiet })).rejects.toThrow(`Download of ${srv.base}/r/train-images-idx3-ubyte.gz failed: fetch failed (other side closed)`);
    expect(srv.requests).toEqual(['/r/train-images-idx3-ubyte.gz', '/r/train-images-idx3-ubyte.gz']);
    expect(tree(root)).toEqual({});
  });

  test('a 404 on the first mirror: the second serves each file', async () => {
    const root = tempDir('dl-');
    serveIdx('/b/');
    const r = await downloadFrom(idxSource([`${srv.base}/a/`, `${srv.base}/b/`]), { root, logger: quiet });
    expect(r.fetched.every((u) => u.startsWith(`${srv.base}/b/`))).toBe(true);
    for (const name of Object.keys(IDX)) expect(srv.requests.filter((u) => u.endsWith(name))).toEqual([`/a/${name}`, `/b/${name}`]);
    expectIdx(root);
  });

  test('only the missing files are fetched; a damaged one already there is reported, not replaced', async () => {
    const root = tempDir('dl-');
    serveIdx('/a/');
    fs.writeFileSync(path.join(root, 'train-labels-idx1-ubyte.gz'), trainL);
    await downloadFrom(idxSource([`${srv.base}/a/`]), { root, logger: quiet });
    expect(srv.requests.sort()).toEqual(['/a/t10k-images-idx3-ubyte.gz', '/a/t10k-labels-idx1-ubyte.gz', '/a/train-images-idx3-ubyte.gz']);

    const damaged = tempDir('dl-');
    fs.writeFileSync(path.join(damaged, 't10k-labels-idx1-ubyte.gz'), 'junk');
    srv.requests = [];
    await expect(downloadFrom(idxSource([`${srv.base}/a/`]), { root: damaged, logger: quiet })).rejects.toMatchObject({
      code: 'ERR_DATASET',
      message: expect.stringContaining(`(md5 ${md5(Buffer.from('junk'))}, expected ${md5(testL)}); remove it`),
    });
    expect(srv.requests).toEqual([]);
    expect(fs.readFileSync(path.join(damaged, 't10k-labels-idx1-ubyte.gz'), 'utf8')).toBe('junk');
  });

  test('an md5 mismatch names the URL, both md5s; root is left as it was (folders made for it too)', async () => {
    const parent = tempDir('dl-');
    const root = path.join(parent, 'made', 'root');
    serveIdx('/a/');
    const wrong = Buffer.from('not the labels');
    srv.routes.set('/a/t10k-labels-idx1-ubyte.gz', serve(wrong));
    const err = await downloadFrom(idxSource([`${srv.base}/a/`]), { root, logger: quiet }).catch((e) => e);
    expect(err).toMatchObject({ code: 'ERR_DOWNLOAD', name: 'DownloadError' });
    expect(err.message).toBe(`Download of ${srv.base}/a/t10k-labels-idx1-ubyte.gz failed: md5 ${md5(wrong)} of the ${wrong.length} bytes received, expected ${md5(testL)} (a damaged copy, or another file under that name)`);
    expect(tree(parent)).toEqual({});
  });

  test('a staging folder that cannot be removed is a warning: the download\'s own error is the one thrown', async () => {
    const root = path.join(tempDir('dl-'), 'root');
    serveIdx('/a/');
    srv.routes.set('/a/t10k-labels-idx1-ubyte.gz', serve(Buffer.from('not the labels')));
    const lines: { msg: string; folder?: string }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const rm = fsModule.rmSync;
    const stuck = jest.spyOn(fsModule, 'rmSync').mockImplementation((p, o) => {
      if (/^\.download\..*\.tmp$/.test(path.basename(String(p)))) throw Object.assign(new Error(`ENOTEMPTY: directory not empty, rmdir '${String(p)}'`), { code: 'ENOTEMPTY' });
      rm(p, o);
    });
    try {
      const err = await downloadFrom(idxSource([`${srv.base}/a/`]), { root, logger }).catch((e) => e);
      expect(err).toMatchObject({ code: 'ERR_DOWNLOAD', message: expect.stringContaining('md5') });
      const warning = lines.find((l) => l.msg.startsWith('could not remove the staging folder'));
      expect(warning?.folder).toMatch(new RegExp(`^${root}/`));
    } finally {
      stuck.mockRestore();
    }
    // Left for a download after this process has ended (removeStaleTemps keeps a live pid's).
    expect(fs.readdirSync(root)).toEqual([path.basename(lines.find((l) => l.folder)!.folder!)]);
  });

  test('a connection dropped mid-body: an error naming the URL, nothing left behind', async () => {
    const root = tempDir('dl-');
    fs.writeFileSync(path.join(root, 'mine.txt'), 'kept');
    serveIdx('/a/');
    srv.routes.set('/a/train-images-idx3-ubyte.gz', (_req, res) => {
      res.writeHead(200, { 'content-length': trainI.length });
      res.write(trainI.subarray(0, 100), () => res.socket!.destroy());
    });
    const err = await downloadFrom(idxSource([`${srv.base}/a/`]), { root, logger: quiet }).catch((e) => e);
    expect(err).toMatchObject({ code: 'ERR_DOWNLOAD' });
    expect(err.message).toMatch(new RegExp(`^Download of ${srv.base}/a/train-images-idx3-ubyte\\.gz failed: terminated`));
    expect(tree(root)).toEqual({ 'mine.txt': 4 });
  });

  test('a server that stalls: an error once timeoutMs passes without data, before headers or mid-body', async () => {
    for (const [when, handler] of [
      ['before headers', () => undefined],
      ['mid-body', (_req: http.IncomingMessage, res: http.ServerResponse) => { res.writeHead(200, { 'content-length': trainI.length }); res.write(trainI.subarray(0, 100)); }],
    ] as const) {
      const root = tempDir('dl-');
      serveIdx('/a/');
      srv.routes.set('/a/train-images-idx3-ubyte.gz', handler);
      const err = await downloadFrom(idxSource([`${srv.base}/a/`]), { root, logger: quiet, timeoutMs: 2000 }).catch((e) => e);
      expect({ when, code: err.code, message: err.message }).toEqual({
        when, code: 'ERR_DOWNLOAD', message: `Download of ${srv.base}/a/train-images-idx3-ubyte.gz failed: nothing received for 2000 ms (after ${when === 'mid-body' ? 100 : 0} bytes)`,
      });
      expect(tree(root)).toEqual({});
    }
    // A stall the timeout missed would hang here until jest's own timeout fails the test. 2 s, not
    // less: on a loaded machine the headers of the mid-body case took over 300 ms to arrive once.
  }, 30_000);

  test('a mirror that sends more than the file can be is cut off', async () => {
    const root = tempDir('dl-');
    serveIdx('/a/');
    srv.routes.set('/a/train-labels-idx1-ubyte.gz', (_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024);
      const pump = () => { while (res.write(chunk)); res.once('drain', pump); };
      pump();
    });
    const source = idxSource([`${srv.base}/a/`]);
    await expect(downloadFrom(source, { root, logger: quiet })).rejects.toMatchObject({
      code: 'ERR_DOWNLOAD', message: `Download of ${srv.base}/a/train-labels-idx1-ubyte.gz failed: more than the 1048576 bytes that train-labels-idx1-ubyte.gz can be`,
    });
    expect(tree(root)).toEqual({});
  });
});

describe('a local mirror: a file:// URL or an absolute folder path', () => {
  /** A folder holding the IDX fixtures, as a shared file system would. */
  function localIdx(): string {
    const dir = tempDir('dl-mirror-');
    for (const [name, b] of Object.entries(IDX)) fs.writeFileSync(path.join(dir, name), b);
    return dir;
  }

  /** A logger and a progress callback that keep what they are given. */
  function recorder() {
    const lines: Record<string, unknown>[] = [];
    const progress: DownloadProgress[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    return { lines, progress, logger, onProgress: (p: DownloadProgress) => void progress.push(p) };
  }

  /** The last progress of each file, and the log lines, with the mirror's part of each URL cut off. */
  function seen(r: ReturnType<typeof recorder>, base: string) {
    const strip = (u: unknown) => (typeof u === 'string' ? u.slice(base.length) : u);
    const last = new Map(r.progress.map((p) => [strip(p.url), { bytes: p.bytes, total: p.total }]));
    return { last: Object.fromEntries(last), lines: r.lines.map((l) => [l.msg, strip(l.url), l.bytes, l.md5, l.files]) };
  }

  test('fills root as an HTTP mirror does: the same files byte for byte, the same result, progress and log lines', async () => {
    const dir = localIdx();
    serveIdx('/a/');
    const viaHttp = tempDir('dl-');
    const h = recorder();
    const fromHttp = await downloadFrom(idxSource([`${srv.base}/a/`]), { root: viaHttp, logger: h.logger, onProgress: h.onProgress });
    const sizes = Object.fromEntries(Object.entries(IDX).map(([name, b]) => [name, { bytes: b.length, total: b.length }]));
    expect(seen(h, `${srv.base}/a/`).last).toEqual(sizes);
    expect(h.lines.map((l) => l.msg)).toEqual([...Object.keys(IDX).flatMap(() => ['downloading', 'verified']), 'downloaded and verified']);
    for (const mirror of [`file://${dir}`, `${dir}/`]) {
      const root = tempDir('dl-');
      const l = recorder();
      const r = await downloadFrom(idxSource([mirrorUrl('mirror', mirror)]), { root, logger: l.logger, onProgress: l.onProgress });
      expect(r).toEqual({ root, fetched: Object.keys(IDX).map((name) => `file://${dir}/${name}`), bytes: fromHttp.bytes });
      expect(r.fetched.map((u) => u.replace(`file://${dir}/`, `${srv.base}/a/`))).toEqual(fromHttp.fetched);
      expect(tree(root)).toEqual(tree(viaHttp));
      for (const name of Object.keys(IDX)) expect(fs.readFileSync(path.join(root, name)).equals(fs.readFileSync(path.join(viaHttp, name)))).toBe(true);
      expectIdx(root);
      expect(seen(l, `file://${dir}/`)).toEqual(seen(h, `${srv.base}/a/`));
    }
    expect(srv.requests.filter((u) => !u.startsWith('/a/'))).toEqual([]);
  });

  test('a wrong or truncated file is refused as from HTTP, naming it; root is left as it was', async () => {
    for (const bad of [Buffer.from('not the labels'), testL.subarray(0, testL.length - 1)]) {
      const dir = localIdx();
      fs.writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte.gz'), bad);
      const root = tempDir('dl-');
      fs.writeFileSync(path.join(root, 'mine.txt'), 'kept');
      const err = await downloadFrom(idxSource([mirrorUrl('mirror', dir)]), { root, logger: quiet }).catch((e) => e);
      expect(err).toMatchObject({ code: 'ERR_DOWNLOAD', name: 'DownloadError' });
      expect(err.message).toBe(`Download of file://${dir}/t10k-labels-idx1-ubyte.gz failed: md5 ${md5(bad)} of the ${bad.length} bytes received, expected ${md5(testL)} (a damaged copy, or another file under that name)`);
      expect(tree(root)).toEqual({ 'mine.txt': 4 });
    }
  });

  test('a file larger than it can be is refused before it is read', async () => {
    const dir = localIdx();
    fs.truncateSync(path.join(dir, 'train-labels-idx1-ubyte.gz'), (1 << 20) + 1);
    const root = tempDir('dl-');
    await expect(downloadFrom(idxSource([mirrorUrl('mirror', dir)]), { root, logger: quiet })).rejects.toMatchObject({
      code: 'ERR_DOWNLOAD',
      message: `Download of file://${dir}/train-labels-idx1-ubyte.gz failed: ${dir}/train-labels-idx1-ubyte.gz is 1048577 bytes, more than the 1048576 that train-labels-idx1-ubyte.gz can be`,
    });
    expect(tree(root)).toEqual({});
  });

  test('a missing file, a folder or a FIFO in its place: an error naming the path, and the next mirror is tried', async () => {
    const dir = tempDir('dl-mirror-');
    const root = tempDir('dl-');
    const file = path.join(dir, 'train-images-idx3-ubyte.gz');
    const failure = (why: string) => ({ code: 'ERR_DOWNLOAD', message: `Download of file://${file} failed: ${file} ${why}` });
    await expect(downloadFrom(idxSource([mirrorUrl('mirror', dir)]), { root, logger: quiet })).rejects.toMatchObject(failure('does not exist'));
    fs.mkdirSync(file);
    await expect(downloadFrom(idxSource([mirrorUrl('mirror', dir)]), { root, logger: quiet })).rejects.toMatchObject(failure('is a directory, not a file'));
    fs.rmdirSync(file);
    execFileSync('mkfifo', [file]);
    // Opened without blocking: a FIFO that no one writes to would otherwise hang here.
    await expect(downloadFrom(idxSource([mirrorUrl('mirror', dir)]), { root, logger: quiet })).rejects.toMatchObject(failure('is a FIFO (named pipe), not a file'));
    expect(tree(root)).toEqual({});

    serveIdx('/b/');
    const fromHttp = await downloadFrom(idxSource([mirrorUrl('mirror', dir), `${srv.base}/b/`]), { root, logger: quiet });
    expect(fromHttp.fetched).toEqual(Object.keys(IDX).map((name) => `${srv.base}/b/${name}`));
    expectIdx(root);
    const full = localIdx();
    const again = tempDir('dl-');
    const fromLocal = await downloadFrom(idxSource([`${srv.base}/none/`, mirrorUrl('mirror', full)]), { root: again, logger: quiet });
    expect(fromLocal.fetched).toEqual(Object.keys(IDX).map((name) => `file://${full}/${name}`));
    expectIdx(again);
  });

  test("a write that fails (a full disk) is ERR_IO naming the file, not the mirror's failure; the mirror's file is closed", async () => {
    const dir = tempDir('dl-mirror-');
    const big = Buffer.from(Array.from({ length: 3 * (1 << 20) + 5 }, (_, i) => (i * 13) % 251));
    fs.writeFileSync(path.join(dir, 'big.bin'), big);
    const root = tempDir('dl-');
    const source: DownloadSource = { name: 'big', mirrors: [mirrorUrl('mirror', dir)], files: [{ name: 'big.bin', md5: md5(big), maxBytes: 1 << 23 }] };
    const full = jest.spyOn(fsModule, 'createWriteStream').mockImplementation(() => new Writable({
      write: (_chunk, _enc, done) => setTimeout(() => done(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' })), 5),
    }) as fs.WriteStream);
    let err: { code?: string; message?: string };
    try {
      err = await downloadFrom(source, { root, logger: quiet }).catch((e) => e);
    } finally {
      full.mockRestore();
    }
    expect(err).toMatchObject({ code: 'ERR_IO', message: expect.stringMatching(/^Cannot write .*\/big\.bin: ENOSPC: no space left on device, write \(the disk is full/) });
    const open = fs.readdirSync('/proc/self/fd').map((fd) => { try { return fs.readlinkSync(`/proc/self/fd/${fd}`); } catch { return ''; } });
    expect(open.filter((p) => p.endsWith('big.bin'))).toEqual([]);
    expect(tree(root)).toEqual({});
  });

  test.each(['data/mirror', './mirror', 'mirror', 'file:data/mirror', 'file://data/mirror'])('a relative path (%s) is refused, naming the argument; nothing is read or made', async (mirror) => {
    const parent = tempDir('dl-');
    const root = path.join(parent, 'root');
    await expect(downloadDataset('mnist', { root, mirror, logger: quiet })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG', message: `Expected an http://, https:// or file:// URL, or an absolute folder path for mirror but received '${mirror}' of type string`,
    });
    expect(tree(parent)).toEqual({});
  });

  test('downloadDataset reads a folder with the real file names and checks the published md5', async () => {
    const dir = tempDir('dl-mirror-');
    fs.writeFileSync(path.join(dir, 'cifar-10-binary.tar.gz'), 'not CIFAR');
    const root = tempDir('dl-');
    for (const mirror of [dir, `file://${dir}/`, `file://localhost${dir}`]) {
      await expect(downloadDataset('cifar10', { root, mirror, logger: quiet })).rejects.toMatchObject({
        code: 'ERR_DOWNLOAD',
        message: `Download of file://${dir}/cifar-10-binary.tar.gz failed: md5 ${md5(Buffer.from('not CIFAR'))} of the 9 bytes received, expected c32a1d4ab5d03f1284b67883e8d87530 (a damaged copy, or another file under that name)`,
      });
    }
    expect(tree(root)).toEqual({});
  });
});

describe('CIFAR-10 binary tarball', () => {
  function expectCifar(root: string): void {
    for (const [train, files] of [[true, CIFAR_FILES.slice(0, 5)], [false, ['test_batch.bin']]] as const) {
      const ds = createDataset('cifar10', { root, train }) as ArrayDataset;
      expect(ds.length).toBe(2 * files.length);
      files.forEach((f, k) => {
        for (let j = 0; j < 2; j++) {
          const rec = cifarBins[f].subarray(j * 3073, (j + 1) * 3073);
          const s = ds.get(2 * k + j);
          expect(s.label).toBe(rec[0]);
          // CHW planes in the file, HWC in the dataset.
          const hwc = Buffer.alloc(3072);
          for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) hwc[3 * p + c] = rec[1 + c * 1024 + p];
          expect(Buffer.from(s.image.data).equals(hwc)).toBe(true);
        }
      });
    }
  }

  test('unpacked into root/cifar-10-batches-bin, the loader reads it; other members are not kept; a second run fetches nothing', async () => {
    const root = tempDir('dl-');
    const names = Buffer.from('airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n');
    const archive = tarGz({
      ...Object.fromEntries(CIFAR_FILES.map((f) => [`cifar-10-batches-bin/${f}`, cifarBins[f]])),
      'cifar-10-batches-bin/batches.meta.txt': names,
      'cifar-10-batches-bin/readme.html': Buffer.from('<html>'),
    });
    srv.routes.set('/c/cifar-10-binary.tar.gz', serve(archive));
    const r = await downloadFrom(cifarSource(archive, `${srv.base}/c/`), { root, logger: quiet });
    expect(r).toEqual({ root, fetched: [`${srv.base}/c/cifar-10-binary.tar.gz`], bytes: archive.length });
    expect(tree(root)).toEqual({
      'cifar-10-batches-bin': '', ...Object.fromEntries(CIFAR_FILES.map((f) => [`cifar-10-batches-bin/${f}`, 2 * 3073])), 'cifar-10-batches-bin/batches.meta.txt': names.length,
    });
    expectCifar(root);
    srv.requests = [];
    expect((await downloadFrom(cifarSource(archive, `${srv.base}/c/`), { root, logger: quiet })).fetched).toEqual([]);
    expect(srv.requests).toEqual([]);
  });

  test('from a local mirror: unpacked as from the server', async () => {
    const dir = tempDir('dl-mirror-');
    const archive = tarGz(Object.fromEntries(CIFAR_FILES.map((f) => [`cifar-10-batches-bin/${f}`, cifarBins[f]])));
    fs.writeFileSync(path.join(dir, 'cifar-10-binary.tar.gz'), archive);
    srv.routes.set('/c/cifar-10-binary.tar.gz', serve(archive));
    const viaHttp = tempDir('dl-');
    await downloadFrom(cifarSource(archive, `${srv.base}/c/`), { root: viaHttp, logger: quiet });
    const root = tempDir('dl-');
    const r = await downloadFrom(cifarSource(archive, mirrorUrl('mirror', dir)), { root, logger: quiet });
    expect(r).toEqual({ root, fetched: [`file://${dir}/cifar-10-binary.tar.gz`], bytes: archive.length });
    expect(tree(root)).toEqual(tree(viaHttp));
    expectCifar(root);
  });

  test.each([
    ['../evil', 'its member \'../evil\' would be written outside the folder'],
    ['/tmp/evil-abs', 'its member \'/tmp/evil-abs\' would be written outside the folder'],
  ])('a member %s refuses the archive: nothing written, inside root or out', async (evil, why) => {
    const parent = tempDir('dl-');
    const root = path.join(parent, 'root');
    fs.mkdirSync(root);
    const archive = tarGz({ ...Object.fromEntries(CIFAR_FILES.map((f) => [`cifar-10-batches-bin/${f}`, cifarBins[f]])), [evil]: Buffer.from('pwned') });
    srv.routes.set('/c/cifar-10-binary.tar.gz', serve(archive));
    await expect(downloadFrom(cifarSource(archive, `${srv.base}/c/`), { root, logger: quiet })).rejects.toMatchObject({
      code: 'ERR_DOWNLOAD', message: `cifar-10-binary.tar.gz is refused: ${why}; nothing of it was kept`,
    });
    expect(tree(parent)).toEqual({ root: '' });
    expect(fs.existsSync('/tmp/evil-abs')).toBe(false);
  });

  test('a refusal waits for the members tar took before it: all whole when unpack rejects', async () => {
    // The caller removes the staging folder as soon as unpack rejects: a member still being
    // written then (the archive was cut off at the refused member) made that removal fail with
    // ENOTEMPTY in place of the refusal. Members of 4 MiB: their writes outlast the parsing.
    const big = Buffer.alloc(4 << 20, 7);
    const dir = tempDir('dl-');
    const archive = path.join(dir, 'a.tar.gz');
    fs.writeFileSync(archive, tarGz({ ...Object.fromEntries(CIFAR_FILES.map((f) => [`cifar-10-batches-bin/${f}`, big])), '../evil': Buffer.from('pwned') }));
    const into = path.join(dir, 'into');
    fs.mkdirSync(into);
    const spec = { folder: 'cifar-10-batches-bin', members: CIFAR_FILES.map((name) => ({ name, size: big.length })) };
    await expect(unpack(archive, into, spec)).rejects.toMatchObject({ code: 'ERR_DOWNLOAD', message: /its member '\.\.\/evil' would be written outside the folder/ });
    const written = () => fs.readdirSync(path.join(into, 'cifar-10-batches-bin')).sort().map((n) => [n, fs.statSync(path.join(into, 'cifar-10-batches-bin', n)).size]);
    expect(written()).toEqual([...CIFAR_FILES].sort().map((n) => [n, big.length]));
  });

  test('a symlink where a record file belongs refuses the archive', async () => {
    const root = tempDir('dl-');
    const archive = tarGz({ ...Object.fromEntries(CIFAR_FILES.slice(1).map((f) => [`cifar-10-batches-bin/${f}`, cifarBins[f]])), 'cifar-10-batches-bin/data_batch_1.bin': { link: '/etc/passwd' } });
    srv.routes.set('/c/cifar-10-binary.tar.gz', serve(archive));
    await expect(downloadFrom(cifarSource(archive, `${srv.base}/c/`), { root, logger: quiet })).rejects.toMatchObject({
      code: 'ERR_DOWNLOAD', message: "cifar-10-binary.tar.gz is refused: its member 'cifar-10-batches-bin/data_batch_1.bin' is a SymbolicLink, not a file; nothing of it was kept",
    });
    expect(tree(root)).toEqual({});
  });

  test('an archive without a record file, or with one of another size, is refused', async () => {
    const root = tempDir('dl-');
    const short = tarGz(Object.fromEntries(CIFAR_FILES.slice(1).map((f) => [`cifar-10-batches-bin/${f}`, cifarBins[f]])));
    srv.routes.set('/c/cifar-10-binary.tar.gz', serve(short));
    await expect(downloadFrom(cifarSource(short, `${srv.base}/c/`), { root, logger: quiet })).rejects.toMatchObject({
      code: 'ERR_DOWNLOAD', message: 'cifar-10-binary.tar.gz has no member cifar-10-batches-bin/data_batch_1.bin of 6146 bytes; nothing of it was kept',
    });
    const odd = tarGz({ ...Object.fromEntries(CIFAR_FILES.map((f) => [`cifar-10-batches-bin/${f}`, cifarBins[f]])), 'cifar-10-batches-bin/test_batch.bin': Buffer.alloc(3073) });
    srv.routes.set('/c/cifar-10-binary.tar.gz', serve(odd));
    await expect(downloadFrom(cifarSource(odd, `${srv.base}/c/`), { root, logger: quiet })).rejects.toMatchObject({
      message: "cifar-10-binary.tar.gz is refused: its member 'cifar-10-batches-bin/test_batch.bin' is 3073 bytes, not 6146; nothing of it was kept",
    });
    expect(tree(root)).toEqual({});
  });

  test('an incomplete folder already in root is reported, not replaced, and nothing is fetched', async () => {
    const root = tempDir('dl-');
    fs.mkdirSync(path.join(root, 'cifar-10-batches-bin'));
    fs.writeFileSync(path.join(root, 'cifar-10-batches-bin', 'data_batch_1.bin'), cifarBins['data_batch_1.bin']);
    await expect(downloadFrom(cifarSource(Buffer.alloc(0), `${srv.base}/c/`), { root, logger: quiet })).rejects.toMatchObject({
      code: 'ERR_DATASET',
      message: `${path.join(root, 'cifar-10-batches-bin')} holds an incomplete CIFAR-10: data_batch_2.bin is missing; remove it (a download never replaces files it did not write) and run the download again`,
    });
    expect(srv.requests).toEqual([]);
  });
});

describe('downloadDataset: the published table', () => {
  test('a mirror replaces the base URL: the real file name and published md5 are checked', async () => {
    const root = tempDir('dl-');
    srv.routes.set('/m/cifar-10-binary.tar.gz', serve(Buffer.from('not CIFAR')));
    await expect(downloadDataset('cifar10', { root, mirror: `${srv.base}/m`, logger: quiet })).rejects.toMatchObject({
      code: 'ERR_DOWNLOAD',
      message: `Download of ${srv.base}/m/cifar-10-binary.tar.gz failed: md5 ${md5(Buffer.from('not CIFAR'))} of the 9 bytes received, expected c32a1d4ab5d03f1284b67883e8d87530 (a damaged copy, or another file under that name)`,
    });
    expect(srv.requests).toEqual(['/m/cifar-10-binary.tar.gz']);
  });

  test(`SIGNIN_TORCH_DATASET_MIRROR holds one folder per dataset`, async () => {
    const root = tempDir('dl-');
    process.env.SIGNIN_TORCH_DATASET_MIRROR = `${srv.base}/env/`;
    try {
      const err = await downloadDataset('fashion_mnist', { root, logger: quiet }).catch((e) => e);
      expect(err.message).toBe(`Download of ${srv.base}/env/fashion_mnist/train-images-idx3-ubyte.gz failed: HTTP 404 Not Found`);
      const local = tempDir('dl-mirror-');
      process.env.SIGNIN_TORCH_DATASET_MIRROR = `file://${local}`;
      await expect(downloadDataset('mnist', { root, logger: quiet })).rejects.toMatchObject({
        code: 'ERR_DOWNLOAD', message: `Download of file://${local}/mnist/train-images-idx3-ubyte.gz failed: ${local}/mnist/train-images-idx3-ubyte.gz does not exist`,
      });
      process.env.SIGNIN_TORCH_DATASET_MIRROR = 'srv/data';
      await expect(downloadDataset('mnist', { root, logger: quiet })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARG', message: "Expected an http://, https:// or file:// URL, or an absolute folder path for environment variable SIGNIN_TORCH_DATASET_MIRROR but received 'srv/data' of type string",
      });
    } finally {
      delete process.env.SIGNIN_TORCH_DATASET_MIRROR;
    }
    expect(tree(root)).toEqual({});
  });

  test('bad arguments name the argument and what was expected', async () => {
    const root = tempDir('dl-');
    await expect(downloadDataset('imagenet' as never, { root })).rejects.toMatchObject({
      code: 'ERR_UNKNOWN_NAME', message: "Unknown downloadable dataset 'imagenet'; valid names: mnist, fashion_mnist, cifar10, cifar100",
    });
    await expect(downloadDataset('mnist', { root, mirror: 'ftp://host/mnist' })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG', message: "Expected an http://, https:// or file:// URL, or an absolute folder path for mirror but received 'ftp://host/mnist' of type string",
    });
    fs.writeFileSync(path.join(root, 'file'), '');
    await expect(downloadDataset('mnist', { root: path.join(root, 'file') })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG', message: `Expected a folder, or a path where one can be made for root but received '${path.join(root, 'file')}' of type string`,
    });
    await expect(downloadDataset('mnist', { root, timeoutMs: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', message: expect.stringContaining('for timeoutMs') });
    await expect(downloadDataset('mnist', undefined as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
    expect(srv.requests).toEqual([]);
  });
});

describe("durability: what is renamed into root is fsync'd first, and root after", () => {
  /**
   * Each rename's source was synced before it; each of `dirs` after the last rename (the events of
   * fsyncsAndRenames: a power loss cannot be pulled in a test, the order is what is observable).
   */
  function expectDurable(events: string[], moved: string[], synced: (from: string) => string[], dirs: string[]): void {
    const renames = events.map((e, i) => [e, i] as const).filter(([e]) => e.startsWith('rename '));
    expect(renames.map(([e]) => path.basename(e.split(' ')[2])).sort()).toEqual([...moved].sort());
    for (const [e, i] of renames) {
      const from = e.split(' ')[1];
      for (const p of synced(from)) expect({ p, syncedBefore: events.slice(0, i).includes(`fsync ${p}`) }).toEqual({ p, syncedBefore: true });
    }
    const after = events.slice(renames[renames.length - 1][1] + 1);
    for (const dir of dirs) expect({ dir, syncedAfter: after.includes(`fsync ${dir}`) }).toEqual({ dir, syncedAfter: true });
  }

  test('IDX files: each staged file before its rename; root and the folders made for it after', async () => {
    const parent = fs.realpathSync(tempDir('dl-'));
    const root = path.join(parent, 'made', 'root');
    serveIdx('/a/');
    const events = await fsyncsAndRenames(() => downloadFrom(idxSource([`${srv.base}/a/`]), { root, logger: quiet }));
    expectDurable(events, Object.keys(IDX), (from) => [from], [root, path.join(parent, 'made'), parent]);
    expectIdx(root);
  });

  test('a CIFAR tarball: each unpacked file and their folder before the folder is renamed in; root after', async () => {
    const root = fs.realpathSync(tempDir('dl-'));
    const names = Buffer.from('airplane\n');
    const archive = tarGz({ ...Object.fromEntries(CIFAR_FILES.map((f) => [`cifar-10-batches-bin/${f}`, cifarBins[f]])), 'cifar-10-batches-bin/batches.meta.txt': names });
    srv.routes.set('/c/cifar-10-binary.tar.gz', serve(archive));
    const events = await fsyncsAndRenames(() => downloadFrom(cifarSource(archive, `${srv.base}/c/`), { root, logger: quiet }));
    const members = [...CIFAR_FILES, 'batches.meta.txt'];
    expectDurable(events, ['cifar-10-batches-bin'], (from) => [...members.map((m) => path.join(from, m)), from], [root]);
    for (const m of members) expect(fs.readFileSync(path.join(root, 'cifar-10-batches-bin', m)).equals(m === 'batches.meta.txt' ? names : cifarBins[m])).toBe(true);
  });
});
