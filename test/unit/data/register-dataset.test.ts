/** registerDataset's registration: how a config's registered dataset is normalized and transformed. */
import { ArrayDataset, centerCrop, defaultTransforms, normalize, registerDataset, toTensor } from '../../../src/data';
import { datasetInfo } from '../../../src/experiments/schema';

const make = () => new ArrayDataset({ images: new Uint8Array(8), labels: [0, 1], width: 2, height: 2, channels: 2, numClasses: 2, name: 'reg' });

test('mean and std give the same normalization to train and eval; nothing gives the pixels in [0, 1]', () => {
  registerDataset('reg_norm', make, { mean: [0.5, 0.25], std: [0.2, 0.4] });
  expect(defaultTransforms('reg_norm', true)).toEqual([{ op: 'to_tensor' }, { op: 'normalize', mean: [0.5, 0.25], std: [0.2, 0.4] }]);
  expect(defaultTransforms('reg_norm', false)).toEqual(defaultTransforms('reg_norm', true));
  registerDataset('reg_plain', make);
  expect(defaultTransforms('reg_plain', true)).toEqual([{ op: 'to_tensor' }]);
});

test('own pipelines: train and eval apart, copies (a caller editing one does not change the registry)', () => {
  registerDataset('reg_own', make, { transforms: { train: [toTensor()], eval: [centerCrop(1), toTensor(), normalize(0.5, 0.5)] } });
  expect(defaultTransforms('reg_own', true).map((t) => t.op)).toEqual(['to_tensor']);
  const evalT = defaultTransforms('reg_own', false);
  expect(evalT.map((t) => t.op)).toEqual(['center_crop', 'to_tensor', 'normalize']);
  (evalT[2] as { mean: number[] }).mean[0] = 9;
  evalT.pop();
  expect(defaultTransforms('reg_own', false)[2]).toEqual({ op: 'normalize', mean: [0.5], std: [0.5] });
});

test('a bad registration is refused naming the argument, and the name stays unregistered', () => {
  const cases: [unknown, string][] = [
    [{ mean: [0.5] }, 'Expected mean and std together (or neither) for registration'],
    [{ mean: [0.5, 0.5], std: [0.2] }, 'Expected array of 2 positive numbers (as many as mean) for registration.std but received an array of length 1'],
    [{ mean: 0.5, std: 0 }, 'Expected positive number or array of 1 positive numbers for registration.std but received 0 of type number'],
    [{ mean: 'a', std: 1 }, "Expected finite number or non-empty array of finite numbers for registration.mean but received 'a' of type string"],
    [{ normalize: true }, "Unknown option 'normalize' in registration; valid options: mean, std, transforms, info"],
    [{ mean: 0.5, std: 0.5, transforms: { train: [toTensor()], eval: [toTensor()] } }, 'Expected either mean and std or transforms (a pipeline normalizes itself) for registration'],
    [{ transforms: { train: [toTensor()] } }, 'Expected { train: Transform[], eval: Transform[] } for registration.transforms'],
    [{ transforms: { train: [toTensor()], eval: [centerCrop(1)] } }, 'Expected a pipeline with toTensor() (the loader batches float tensors) for registration.transforms.eval'],
    [{ transforms: { train: [toTensor(), centerCrop(1)], eval: [toTensor()] } }, 'Expected center_crop before toTensor() (geometric transforms run on pixels) for registration.transforms.train[1]'],
    [{ transforms: { train: [{ op: 'blur' }], eval: [toTensor()] } }, 'Expected a transform (op one of to_tensor, normalize, random_crop, random_horizontal_flip, random_resized_crop, resize, center_crop) for registration.transforms.train[0]'],
    ['fast', "Expected options object for registration but received 'fast' of type string"],
  ];
  for (const [registration, message] of cases) {
    expect(() => registerDataset('reg_bad', make, registration as never)).toThrow(message);
  }
  expect(() => defaultTransforms('reg_bad', true)).toThrow(/^Unknown dataset 'reg_bad'; valid names: fashion_mnist, .*reg_norm/);
});

test('a built-in cannot be replaced: its file checks, shapes and transforms would stay', () => {
  expect(() => registerDataset('mnist', make)).toThrow("Expected a name other than the built-ins' (fashion_mnist, mnist, cifar10, cifar100, imagenet) for name but received 'mnist' of type string");
});

test('info: checked, and what datasetInfo answers for the name (as DATASET_INFO for the built-ins)', () => {
  registerDataset('reg_info', make, { info: { numClasses: 2, inChannels: 2, inputSize: 2 } });
  expect(datasetInfo('reg_info')).toEqual({ numClasses: 2, inChannels: 2, inputSize: 2 });
  expect(datasetInfo('reg_norm')).toBeUndefined();
  registerDataset('reg_info', make);
  expect(datasetInfo('reg_info')).toBeUndefined();
  expect(() => registerDataset('reg_bad', make, { info: { numClasses: 2, inChannels: 0, inputSize: 2 } })).toThrow('Expected positive integer for registration.info.inChannels but received 0 of type number');
  expect(() => registerDataset('reg_bad', make, { info: { numClasses: 2, inChannels: 1, inputSize: 2, height: 3 } as never })).toThrow(
    "Unknown option 'height' in registration.info; valid options: numClasses, inChannels, inputSize",
  );
  expect(() => registerDataset('reg_bad', make, { info: [2, 1, 2] as never })).toThrow('Expected options object for registration.info');
});

test("the registration's arrays stay the caller's: editing them after registering changes nothing; what cannot be cloned is no error", () => {
  const mean = [0.5, 0.25];
  const crop = centerCrop(1);
  registerDataset('reg_alias', make, { transforms: { train: [crop, toTensor(), normalize(mean, [1, 1])], eval: [toTensor()] } });
  (crop as { size: number[] }).size[0] = 9;
  registerDataset('reg_alias_ms', make, { mean, std: [1, 1] });
  mean[0] = 9;
  expect(defaultTransforms('reg_alias', true)[0]).toEqual({ op: 'center_crop', size: [1, 1] });
  expect(defaultTransforms('reg_alias_ms', true)[1]).toEqual({ op: 'normalize', mean: [0.5, 0.25], std: [1, 1] });
  const odd = { op: 'random_horizontal_flip', p: 0.5, note: Symbol('mine') } as never;
  registerDataset('reg_odd', make, { transforms: { train: [odd, toTensor()], eval: [toTensor()] } });
  expect(defaultTransforms('reg_odd', true)[0]).toMatchObject({ op: 'random_horizontal_flip', p: 0.5 });
});
