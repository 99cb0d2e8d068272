/**
 * torchrun's variables as a worker reads them (distributedEnv) and the store they name
 * (storeFor): no addon needed. The reference is torch 1.13's rendezvous.py: `env://` needs
 * MASTER_ADDR and MASTER_PORT; under TORCHELASTIC_USE_AGENT_STORE=True (torchrun's static
 * rendezvous) every rank is a client of the agent's store under "/worker/attempt_<restart count>",
 * otherwise rank 0 hosts it. Each bad or missing variable is one ERR_INVALID_ARG naming it.
 */
import { distributedEnv, timeoutFromEnv, workerEnv } from '../../src/distributed/env';
import { storeFor } from '../../src/distributed/rendezvous';
import { deviceIssues } from '../../src/experiments/devices';
import { errorOf } from '../helpers/error-of';

const MASTER = { MASTER_ADDR: '127.0.0.1', MASTER_PORT: '29511' };
const TWO = { WORLD_SIZE: '2', RANK: '1', LOCAL_RANK: '1', ...MASTER };

describe('distributedEnv', () => {
  it('is undefined without any of WORLD_SIZE, RANK, LOCAL_RANK', () => {
    expect(distributedEnv({ MASTER_ADDR: 'x' })).toBeUndefined();
  });

  it("reads torchrun's variables", () => {
    expect(distributedEnv({ ...TWO, LOCAL_WORLD_SIZE: '2' })).toEqual({ rank: 1, localRank: 1, worldSize: 2, localWorldSize: 2, masterAddr: '127.0.0.1', masterPort: 29511 });
  });

  it('without LOCAL_WORLD_SIZE a machine holds LOCAL_RANK + 1 processes as far as a rank knows, not the whole job', () => {
    // 2 machines with one GPU each: torchrun --nnodes 2 --nproc_per_node 1 would set
    // LOCAL_WORLD_SIZE=1; a scheduler that leaves it unset must not make each machine need 2 GPUs.
    const second = distributedEnv({ WORLD_SIZE: '2', RANK: '1', LOCAL_RANK: '0', ...MASTER })!;
    expect(second.localWorldSize).toBe(1);
    expect(deviceIssues('cuda', 1, second.localWorldSize)).toEqual([]);
    expect(distributedEnv({ WORLD_SIZE: '4', RANK: '3', LOCAL_RANK: '1', ...MASTER })!.localWorldSize).toBe(2);
    expect(errorOf(() => distributedEnv({ WORLD_SIZE: '4', RANK: '3', LOCAL_RANK: '4', ...MASTER })).message).toBe("Expected environment variable LOCAL_RANK to be an integer in [0, 3] but it is '4'");
  });

  it('RANK or LOCAL_RANK without WORLD_SIZE is refused naming WORLD_SIZE (it trained alone as rank 0)', () => {
    const e = errorOf(() => distributedEnv({ RANK: '1' }));
    expect(e.code).toBe('ERR_INVALID_ARG');
    expect(e.message).toBe("Expected environment variable WORLD_SIZE (the number of processes in the job) to be set alongside RANK='1' but it is unset: launch with torchrun or `signin-torch train --nproc N`, or unset RANK to train in one process");
    expect(errorOf(() => distributedEnv({ LOCAL_RANK: '0', RANK: '0' })).message).toMatch(/^Expected environment variable WORLD_SIZE .* alongside RANK='0' and LOCAL_RANK='0' but it is unset/);
  });

  it('RANK >= WORLD_SIZE, a missing RANK or LOCAL_RANK, and LOCAL_RANK >= LOCAL_WORLD_SIZE name the variable', () => {
    expect(errorOf(() => distributedEnv({ ...TWO, RANK: '2' })).message).toBe("Expected environment variable RANK to be an integer in [0, 1] but it is '2'");
    expect(errorOf(() => distributedEnv({ WORLD_SIZE: '2', LOCAL_RANK: '0' })).message).toBe("Expected environment variable RANK to be an integer in [0, 1] but it is unset (this process's index in the job; torchrun sets it)");
    const noLocal = errorOf(() => distributedEnv({ WORLD_SIZE: '2', RANK: '1' }));
    expect(noLocal.code).toBe('ERR_INVALID_ARG');
    expect(noLocal.message).toBe("Expected environment variable LOCAL_RANK to be an integer in [0, 1] but it is unset (this process's index on its machine: 0 with one process per machine; torchrun sets it)");
    expect(errorOf(() => distributedEnv({ ...TWO, LOCAL_WORLD_SIZE: '1' })).message).toBe("Expected environment variable LOCAL_RANK to be an integer in [0, 0] but it is '1'");
    expect(errorOf(() => distributedEnv({ ...TWO, MASTER_PORT: '70000' })).message).toBe("Expected environment variable MASTER_PORT to be an integer in [1, 65535] but it is '70000'");
    expect(errorOf(() => distributedEnv({ ...TWO, MASTER_ADDR: ' ' })).message).toBe("Expected environment variable MASTER_ADDR to be the host of rank 0's store but it is ''");
  });

  it("the launcher's workers say that rank 0 hosts the store, whatever they inherit", () => {
    const w = workerEnv({ rank: 1, localRank: 1, worldSize: 2, localWorldSize: 2, nodeRank: 0, nnodes: 1, masterAddr: '127.0.0.1', masterPort: 29511 });
    expect(storeFor('env://', 1, 2, { TORCHELASTIC_USE_AGENT_STORE: 'True', TORCHELASTIC_RESTART_COUNT: '3', ...w })).toEqual({ store: 'tcp', host: '127.0.0.1', port: 29511, isServer: false });
    expect(storeFor('env://', 0, 2, { TORCHELASTIC_USE_AGENT_STORE: 'True', ...w })).toEqual({ store: 'tcp', host: '127.0.0.1', port: 29511, isServer: true });
  });

  it("one intra-op thread per worker with several on a node unless the launch's environment sets OMP_NUM_THREADS (torchrun's rule)", () => {
    const placement = { rank: 1, localRank: 1, worldSize: 2, localWorldSize: 2, nodeRank: 0, nnodes: 1, masterAddr: '127.0.0.1', masterPort: 29511 };
    expect(workerEnv(placement, {}).OMP_NUM_THREADS).toBe('1');
    expect(workerEnv(placement, { OMP_NUM_THREADS: '4' }).OMP_NUM_THREADS).toBeUndefined();
    expect(workerEnv({ ...placement, rank: 0, localRank: 0, localWorldSize: 1, nnodes: 2 }, {}).OMP_NUM_THREADS).toBeUndefined();
  });
});

describe('storeFor', () => {
  it('env:// without torchrun: rank 0 hosts the TCPStore at MASTER_ADDR:MASTER_PORT, the others connect', () => {
    expect(storeFor('env://', 0, 2, TWO)).toEqual({ store: 'tcp', host: '127.0.0.1', port: 29511, isServer: true });
    expect(storeFor('env://', 1, 2, TWO)).toEqual({ store: 'tcp', host: '127.0.0.1', port: 29511, isServer: false });
    expect(storeFor('env://', 0, 2, { ...TWO, TORCHELASTIC_USE_AGENT_STORE: 'False' })).toEqual({ store: 'tcp', host: '127.0.0.1', port: 29511, isServer: true });
  });

  it("under torchrun's agent store every rank connects as a client, under this attempt's prefix", () => {
    const agent = { ...TWO, TORCHELASTIC_USE_AGENT_STORE: 'True', TORCHELASTIC_RESTART_COUNT: '0' };
    expect(storeFor('env://', 0, 2, agent)).toEqual({ store: 'tcp', host: '127.0.0.1', port: 29511, isServer: false, prefix: '/worker/attempt_0' });
    expect(storeFor('env://', 1, 2, { ...agent, TORCHELASTIC_RESTART_COUNT: '2' })).toEqual({ store: 'tcp', host: '127.0.0.1', port: 29511, isServer: false, prefix: '/worker/attempt_2' });
    // torch's tcp:// handler goes through the same _create_c10d_store.
    expect(storeFor('tcp://[::1]:29600', 0, 2, agent)).toEqual({ store: 'tcp', host: '::1', port: 29600, isServer: false, prefix: '/worker/attempt_0' });
    expect(storeFor('file:///tmp/s', 0, 2, agent)).toEqual({ store: 'file', path: '/tmp/s' });
    const e = errorOf(() => storeFor('env://', 0, 2, { ...TWO, TORCHELASTIC_USE_AGENT_STORE: 'True' }));
    expect(e.code).toBe('ERR_INVALID_ARG');
    expect(e.message).toBe('Expected environment variable TORCHELASTIC_RESTART_COUNT to be an integer in [0, 9007199254740991] but it is unset');
  });

  it('env:// with several ranks needs MASTER_ADDR and MASTER_PORT, as torch does; a lone rank defaults to 127.0.0.1:29500', () => {
    const { MASTER_ADDR: _a, ...noAddr } = TWO;
    const { MASTER_PORT: _p, ...noPort } = TWO;
    expect(errorOf(() => storeFor('env://', 1, 2, noAddr)).message).toBe("Expected environment variable MASTER_ADDR (the host of rank 0's store, which torchrun sets) to be set for initMethod 'env://' with 2 ranks but it is unset");
    expect(errorOf(() => storeFor('env://', 1, 2, noPort)).message).toBe("Expected environment variable MASTER_PORT (the TCP port of rank 0's store, which torchrun sets) to be set for initMethod 'env://' with 2 ranks but it is unset");
    expect(storeFor('env://', 0, 1, {})).toEqual({ store: 'tcp', host: '127.0.0.1', port: 29500, isServer: true });
    expect(errorOf(() => storeFor('udp://x:1', 0, 1, {})).message).toBe("Expected initMethod to be 'env://', 'tcp://host:port' or 'file:///path' but received 'udp://x:1'");
  });
});

describe('timeoutFromEnv', () => {
  it('is undefined when SIGNIN_TORCH_DIST_TIMEOUT_S is unset, else its whole seconds in ms', () => {
    expect(timeoutFromEnv({})).toBeUndefined();
    expect(timeoutFromEnv({ SIGNIN_TORCH_DIST_TIMEOUT_S: '1800' })).toBe(1_800_000);
  });

  it.each(['', 'abc', '0', '1.5', '-3'])('refuses %j naming the variable', (raw) => {
    expect(errorOf(() => timeoutFromEnv({ SIGNIN_TORCH_DIST_TIMEOUT_S: raw }))).toMatchObject({
      code: 'ERR_INVALID_ARG',
      message: `Expected environment variable SIGNIN_TORCH_DIST_TIMEOUT_S to be an integer in [1, 2592000] but it is '${raw}'`,
    });
  });
});
