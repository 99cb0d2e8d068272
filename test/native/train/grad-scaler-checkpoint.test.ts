/**
 * The float16 loss scaler's state travels in checkpoints (gradScalerState), as PyTorch recipes
 * save scaler.state_dict() beside the optimizer's: a resumed run goes on at the scale and growth
 * count it had, not at the initial 2^16. The expected states are the ones written in, and
 * torch.cuda.amp.GradScaler's defaults (init_scale 2^16, growth 2, backoff 0.5, interval 2000).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GradScaler, SGD, Trainer, gradScalerState } from '../../../src';
import { loadCheckpoint, saveCheckpoint } from '../../../src/train/checkpoint';
import { maskedToy } from '../signin/helpers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scaler-ckpt-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function parts() {
  const model = maskedToy(3, 0.3, { width: 4 });
  return { model, optimizer: SGD.forModel(model, { lr: 0.1, momentum: 0.9 }) };
}

const TORCH_DEFAULTS = { scale: 65536, growthFactor: 2, backoffFactor: 0.5, growthInterval: 2000, growthTracker: 0 };

test('a scaler state saved with a checkpoint comes back into a fresh scaler', () => {
  const saved = { scale: 256, growthFactor: 4, backoffFactor: 0.25, growthInterval: 5, growthTracker: 3 };
  const scaler = new GradScaler();
  scaler.loadStateDict(saved);
  const file = path.join(dir, 'with.safetensors');
  saveCheckpoint(file, { ...parts(), callbacks: [gradScalerState(scaler)], position: { epoch: 1, step: 7 } });

  const fresh = new GradScaler();
  expect(fresh.stateDict()).toEqual(TORCH_DEFAULTS);
  const r = loadCheckpoint(file, { ...parts(), callbacks: [gradScalerState(fresh)] });
  expect(r.position).toEqual({ epoch: 1, step: 7 });
  expect(fresh.stateDict()).toEqual(saved);
});

test('a checkpoint written without a scaler leaves the scaler at its initial state', () => {
  const file = path.join(dir, 'without.safetensors');
  saveCheckpoint(file, { ...parts(), callbacks: [], position: { epoch: 1, step: 1 } });
  const fresh = new GradScaler();
  loadCheckpoint(file, { ...parts(), callbacks: [gradScalerState(fresh)] });
  expect(fresh.stateDict()).toEqual(TORCH_DEFAULTS);
});

test('gradScalerState takes only a GradScaler; a float32 or bfloat16 Trainer has none', () => {
  expect(() => gradScalerState({} as GradScaler)).toThrow('Expected a GradScaler for scaler but received an object');
  const { model, optimizer } = parts();
  const train = { length: 0, async *[Symbol.asyncIterator]() {} };
  expect(new Trainer({ model, optimizer, train, epochs: 1, lr: () => 0.1 }).gradScaler).toBeUndefined();
  expect(new Trainer({ model, optimizer, train, epochs: 1, lr: () => 0.1, amp: 'bf16' }).gradScaler).toBeUndefined();
});
