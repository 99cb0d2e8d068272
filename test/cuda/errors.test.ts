/**
 * CUDA failures reach JS as ToolkitErrors with a code, never as a crash: on a machine without
 * CUDA (asking for a CUDA tensor, synchronizing, reading memory counters) and on the GPU machine (a
 * device index out of range, tensors on two devices in one op). A device the process does not see
 * is refused before libtorch, naming the devices there are; the rest carry libtorch's message.
 */
import { cudaMemoryStats, cudaSynchronize, randn, setAllowTF32, tidy } from '../../src';
import { HAS_CUDA, describeCuda } from './cuda-env';

(HAS_CUDA ? describe.skip : describe)('CUDA calls without a CUDA device', () => {
  it('moving a tensor to CUDA is a clean error', () => {
    tidy(() => {
      const x = randn([3]);
      expect(() => x.to({ device: 'cuda' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', message: expect.stringMatching(/no CUDA device is visible to this process/) }));
      expect(x.toArray()).toHaveLength(3);
    });
  });

  it('synchronize and memory counters say what is missing', () => {
    expect(() => cudaSynchronize()).toThrow(expect.objectContaining({ code: 'ERR_TORCH', message: expect.stringMatching(/No CUDA GPUs/) }));
    // A build without CUDA says so; a CUDA build on a machine without a GPU names the device.
    expect(() => cudaMemoryStats(0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', message: expect.stringMatching(/has no CUDA|No CUDA device is visible/) }));
  });
});

describe('CUDA call arguments', () => {
  it('rejects a negative or fractional device index before calling libtorch', () => {
    expect(() => cudaMemoryStats(-1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', message: expect.stringMatching(/for device/) }));
    expect(() => cudaSynchronize(0.5)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    expect(() => setAllowTF32('yes' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', message: expect.stringMatching(/for enabled/) }));
  });
});

describeCuda('CUDA errors on the GPU machine', () => {
  it('a device index out of range is a clean error', () => {
    tidy(() => {
      expect(() => randn([3]).to({ device: 'cuda:99' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', message: expect.stringMatching(/'cuda:0' to 'cuda:\d+' for device but received 'cuda:99'/) }));
      expect(() => cudaMemoryStats(99)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', message: expect.stringMatching(/CUDA device index in \[0, \d+\]/) }));
      expect(() => cudaSynchronize(99)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    });
  });

  it('mixing devices in one op is a clean error, and the process goes on', () => {
    tidy(() => {
      const a = randn([4]);
      const b = randn([4]).to({ device: 'cuda' });
      expect(() => a.add(b)).toThrow(expect.objectContaining({ code: expect.stringMatching(/^ERR_TORCH/), message: expect.stringMatching(/device/) }));
      expect(b.add(b).to({ device: 'cpu' }).toArray()).toHaveLength(4);
    });
  });

  it('reports memory counters that follow allocations', () => {
    tidy(() => {
      cudaSynchronize();
      const before = cudaMemoryStats(0).allocatedBytes;
      const t = randn([1 << 20]).to({ device: 'cuda' });
      const after = cudaMemoryStats(0);
      expect(after.allocatedBytes - before).toBeGreaterThanOrEqual(4 << 20);
      expect(after.peakAllocatedBytes).toBeGreaterThanOrEqual(after.allocatedBytes);
      t.dispose();
    });
  });
});
