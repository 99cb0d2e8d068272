/**
 * Which collective backends the addon has, against what its libtorch provides (PyTorch on the
 * same Debian libtorch: torch.distributed.is_gloo_available / is_nccl_available); asking for one
 * the build lacks is a clear ERR_DISTRIBUTED that leaves no group behind; and where each rank
 * trains (rankPlacement) under torchrun's variables.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { torchVersion } from '../../src';
import { availableBackends, destroyProcessGroup, getWorldSize, initProcessGroup, isInitialized, rankPlacement, type DistributedEnv } from '../../src/distributed';
import { errorOf } from '../helpers/error-of';
import { runPython } from '../helpers/pytorch';

const env = (worldSize: number, localRank: number): DistributedEnv => ({
  rank: localRank, localRank, worldSize, localWorldSize: worldSize, masterAddr: '127.0.0.1', masterPort: 29500,
});

it("lists the backends of this addon's libtorch", () => {
  const py = JSON.parse(runPython('import json, torch, torch.distributed as d\nprint(json.dumps({"version": torch.__version__, "gloo": d.is_gloo_available(), "nccl": d.is_nccl_available()}))'));
  const minor = (v: string): string => v.split('.').slice(0, 2).join('.');
  if (minor(torchVersion()) !== minor(py.version)) {
    console.warn(`the addon's libtorch ${torchVersion()} is not the reference python's ${py.version}: backends not compared`);
    return;
  }
  const expected = [...(py.gloo ? ['gloo'] : []), ...(py.nccl ? ['nccl'] : [])];
  expect(availableBackends()).toEqual(expected);
});

it('a backend the build lacks is refused by name, listing the ones it has, and no group is left', () => {
  const missing = (['gloo', 'nccl'] as const).find((b) => !availableBackends().includes(b));
  if (!missing) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-backends-'));
  try {
    const e = errorOf(() => initProcessGroup({ backend: missing, rank: 0, worldSize: 1, initMethod: `file://${path.join(dir, 'store')}`, timeoutMs: 5_000 }));
    expect(e.code).toBe('ERR_DISTRIBUTED');
    expect(e.message).toContain(`backend '${missing}' is not available in this build of the addon`);
    for (const b of availableBackends()) expect(e.message).toContain(`'${b}'`);
    expect(isInitialized()).toBe(false);
    if (!availableBackends().includes('gloo')) return;
    initProcessGroup({ backend: 'gloo', rank: 0, worldSize: 1, initMethod: `file://${path.join(dir, 'store-2')}`, timeoutMs: 5_000 });
    expect(getWorldSize()).toBe(1);
  } finally {
    destroyProcessGroup();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

it('places each rank: a bare cuda is the local rank\'s GPU with NCCL where built; explicit devices and one process stay', () => {
  const ncclOnCuda = availableBackends().includes('nccl') ? 'nccl' : 'gloo';
  expect(rankPlacement('cuda', env(4, 3))).toEqual({ device: 'cuda:3', backend: ncclOnCuda });
  expect(rankPlacement('cuda:1', env(2, 0))).toEqual({ device: 'cuda:1', backend: ncclOnCuda });
  expect(rankPlacement('cuda', env(1, 0))).toEqual({ device: 'cuda', backend: ncclOnCuda });
  expect(rankPlacement('cpu', env(2, 1))).toEqual({ device: 'cpu', backend: 'gloo' });
});

it('rankPlacement names a bad device or env', () => {
  const bad = errorOf(() => rankPlacement('gpu'));
  expect(bad.code).toBe('ERR_INVALID_ARG');
  expect(bad.message).toMatch(/device.*'cpu', 'cuda' or 'cuda:N'.*gpu/);
  expect(errorOf(() => rankPlacement(10n as unknown as string)).message).toMatch(/device/);
  expect(errorOf(() => rankPlacement('cuda', { ...env(2, 0), localRank: -1 })).message).toMatch(/env\.localRank/);
});
