/**
 * `signin-torch download`: what it passes to the download, what it prints (a --data-root that the
 * loader then reads), and its errors as one coded line; against a local server or a local folder,
 * no network.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CliDeps } from '../../../src/cli';
import { downloadFrom, type DownloadOptions } from '../../../src/data/download';
import { cli } from '../../helpers/cli';
import { tempDir } from '../../helpers/temp';
import { expectIdx, IDX, idxSource, md5, quiet, serve, serveIdx, srv, tree, useLocalServer } from './download-fixtures';

useLocalServer();

let cwd: string;
beforeEach(() => {
  cwd = process.cwd();
  process.chdir(tempDir('dl-cli-'));
});
afterEach(() => process.chdir(cwd));

test('the flags reach the download: default root data/<dataset>, the mirror as a folder URL, --timeout in ms', async () => {
  const calls: [string, DownloadOptions][] = [];
  const deps: CliDeps = { download: async (name, o) => { calls.push([name, o]); return { dataset: name, root: o.root, fetched: [], bytes: 0 }; } };
  expect(await cli(['download', 'cifar100', '--mirror', 'http://10.0.0.1/data/c100', '--timeout', '2.5'], deps)).toEqual({
    code: 0, err: '', out: `cifar100: already complete, nothing fetched in ${path.join('data', 'cifar100')}\ntrain on it with: signin-torch train --dataset cifar100 --data-root data/cifar100\n`,
  });
  expect(calls).toEqual([['cifar100', { root: path.join('data', 'cifar100'), mirror: 'http://10.0.0.1/data/c100/', timeoutMs: 2500 }]]);
  calls.length = 0;
  expect((await cli(['download', 'mnist', '--mirror', '/srv/datasets/mnist'], deps)).code).toBe(0);
  expect((await cli(['download', 'mnist', '--mirror', 'file:///srv/datasets/mnist/'], deps)).code).toBe(0);
  expect(calls.map(([, o]) => o.mirror)).toEqual(['file:///srv/datasets/mnist/', 'file:///srv/datasets/mnist/']);
});

test('--mirror a local folder: the files are read from there into --root, as fetched ones', async () => {
  const mirror = path.join(process.cwd(), 'shared', 'mnist');
  fs.mkdirSync(mirror, { recursive: true });
  for (const [name, b] of Object.entries(IDX)) fs.writeFileSync(path.join(mirror, name), b);
  const deps: CliDeps = { download: (_name, o) => downloadFrom(idxSource([o.mirror!]), { root: o.root, logger: quiet }).then((r) => ({ dataset: 'mnist', ...r })) };
  const r = await cli(['download', 'mnist', '--mirror', mirror, '--root', 'mnist'], deps);
  expect(r).toEqual({ code: 0, err: '', out: `mnist: 4 file(s) fetched and verified (${Object.values(IDX).reduce((a, b) => a + b.length, 0)} bytes) in mnist\ntrain on it with: signin-torch train --dataset mnist --data-root mnist\n` });
  expectIdx('mnist');
});

test('fetched into --root; the printed --data-root is what the loader reads; a second run fetches nothing', async () => {
  const root = path.join(process.cwd(), 'my data', 'mnist');
  serveIdx('/a/');
  const deps: CliDeps = { download: (_name, o) => downloadFrom(idxSource([`${srv.base}/a/`]), { ...o, logger: quiet }).then((r) => ({ dataset: 'mnist', ...r })) };
  const first = await cli(['download', 'mnist', '--root', root], deps);
  expect(first.code).toBe(0);
  const [line, hint] = first.out.trim().split('\n');
  expect(line).toMatch(new RegExp(`^mnist: 4 file\\(s\\) fetched and verified \\(\\d+ bytes\\) in ${root}$`));
  expect(hint).toBe(`train on it with: signin-torch train --dataset mnist --data-root '${root}'`);
  expectIdx(hint.split('--data-root ')[1].slice(1, -1));
  srv.requests = [];
  expect((await cli(['download', 'mnist', '--root', root], deps)).out).toMatch(/^mnist: already complete, nothing fetched in /);
  expect(srv.requests).toEqual([]);
});

test('a failed download is one ERR_DOWNLOAD line naming the URL and both md5s; nothing is left behind', async () => {
  srv.routes.set('/m/mnist/train-images-idx3-ubyte.gz', serve(Buffer.from('junk')));
  process.env.SIGNIN_TORCH_DATASET_MIRROR = `${srv.base}/m`;
  let r: Awaited<ReturnType<typeof cli>>;
  try {
    r = await cli(['download', 'mnist'], { download: (name, o) => import('../../../src/data/download').then((m) => m.downloadDataset(name, { ...o, logger: quiet })) });
  } finally {
    delete process.env.SIGNIN_TORCH_DATASET_MIRROR;
  }
  expect(r).toEqual({
    code: 1, out: '',
    err: `ERR_DOWNLOAD: Download of ${srv.base}/m/mnist/train-images-idx3-ubyte.gz failed: md5 ${md5(Buffer.from('junk'))} of the 4 bytes received, expected f68b3c2dcbeaaa9fbdd348bbdeb94873 (a damaged copy, or another file under that name)\n`,
  });
  expect(tree(process.cwd())).toEqual({});
});

test('imagenet, a bad mirror or timeout: refused before anything is fetched or made', async () => {
  const deps: CliDeps = { download: async () => { throw new Error('downloaded'); } };
  const imagenet = await cli(['download', 'imagenet'], deps);
  expect(imagenet.code).toBe(1);
  expect(imagenet.err).toMatch(/^error: command-argument value 'imagenet' is invalid for argument 'dataset'\. Allowed choices are mnist, fashion_mnist, cifar10, cifar100\.\n/);
  expect(await cli(['download', 'mnist', '--mirror', 'ftp://x/'], deps)).toEqual({
    code: 1, out: '', err: "ERR_INVALID_ARG: Expected an http://, https:// or file:// URL, or an absolute folder path for --mirror but received 'ftp://x/' of type string\n",
  });
  expect(await cli(['download', 'mnist', '--mirror', 'shared/mnist'], deps)).toEqual({
    code: 1, out: '', err: "ERR_INVALID_ARG: Expected an http://, https:// or file:// URL, or an absolute folder path for --mirror but received 'shared/mnist' of type string\n",
  });
  expect(await cli(['download', 'mnist', '--timeout', '0'], deps)).toEqual({
    code: 1, out: '', err: "ERR_INVALID_ARG: Expected --timeout to be a number of seconds in (0, 2147483] but received '0'\n",
  });
  fs.writeFileSync('a-file', '');
  expect((await cli(['download', 'mnist', '--root', 'a-file'], deps)).err).toBe('ERR_INVALID_ARG: Expected --root to be a directory but a-file is a file\n');
  expect(tree(process.cwd())).toEqual({ 'a-file': 0 });
});
