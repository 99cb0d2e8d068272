/** The model registry: names, families, option checks and their messages, configs, masked layers. */
import {
  Conv2d, InvalidArgumentError, Linear, MaskedConv2d, MaskedLinear, UnknownNameError, createModel, modelFamilies,
  modelNames, modelOptions, resolveModelOptions,
} from '../../../src';

const EXPECTED_NAMES = [
  'cifar_resnet', 'cifar_resnet_20', 'cifar_resnet_32', 'cifar_resnet_44', 'cifar_resnet_56', 'cifar_resnet_110',
  'resnet18', 'resnet34', 'resnet50', 'cifar_resnet18', 'cifar_resnet34', 'cifar_resnet50',
  'vgg11_bn', 'vgg13_bn', 'vgg16_bn', 'vgg19_bn',
  'wide_resnet', 'wrn_16_8', 'wrn_28_10', 'wrn_40_4', 'lenet5', 'mlp',
  'vit', 'deit_tiny', 'deit_small',
];

function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a throw');
}

describe('model registry', () => {
  test('modelNames lists every registered model; families are listed apart', () => {
    expect(modelNames()).toEqual(EXPECTED_NAMES);
    expect(modelFamilies()).toEqual(['cifar_resnet_<6n+2>', 'wrn_<6n+4>_<k>']);
  });

  test('an unknown name throws UnknownNameError listing the valid names and families', () => {
    // @ts-expect-error the types reject the name too; this checks the run-time error
    const e = thrown(() => createModel('resnet19'));
    expect(e).toBeInstanceOf(UnknownNameError);
    expect(e.code).toBe('ERR_UNKNOWN_NAME');
    expect(e.message).toBe(`Unknown model 'resnet19' (did you mean 'resnet18'?); valid names: ${EXPECTED_NAMES.join(', ')}, cifar_resnet_<6n+2>, wrn_<6n+4>_<k>`);
  });

  test('unknown option names are named in one InvalidArgumentError', () => {
    // @ts-expect-error the types reject the names too; this checks the run-time error
    const e = thrown(() => createModel('cifar_resnet_20', { numClasses: 10, classes: 10, widht: 32 }));
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect(e.message).toBe(
      "Expected names among numClasses, inChannels, inputSize, depth, width, shortcut, zeroInitResidual, init for the option names of model cifar_resnet_20 but received 'classes, widht' of type string",
    );
  });

  test('bad option values name the option', () => {
    expect(thrown(() => createModel('resnet18', { numClasses: 0 })).message)
      .toBe('Expected positive integer for options.numClasses but received 0 of type number');
    // @ts-expect-error the types reject the value too; this checks the run-time error
    expect(thrown(() => createModel('cifar_resnet_20', { shortcut: 'C' })).message)
      .toBe("Expected one of 'projection', 'padding', 'B', 'A' for options.shortcut but received 'C' of type string");
    expect(thrown(() => createModel('cifar_resnet', { depth: 21 })).message)
      .toBe('Expected an integer 6n + 2 with n >= 1 (the CIFAR ResNet depth) for options.depth but received 21 of type number');
    expect(thrown(() => createModel('vgg16_bn', { inputSize: 16 })).message)
      .toBe('Expected integer >= 32 for options.inputSize but received 16 of type number');
    expect(thrown(() => createModel('mlp', { hidden: [300, -1] })).message)
      .toBe('Expected an array of positive integers for options.hidden but received an array of length 2');
    expect(thrown(() => createModel('resnet18', 'big' as never)).message)
      .toBe("Expected an options object for options but received 'big' of type string");
    expect(thrown(() => createModel(7 as never)).message)
      .toBe('Expected a model name (string) for name but received 7 of type number');
  });

  test('options fixed by the name cannot be overridden', () => {
    // @ts-expect-error the types leave out options a name fixes; this checks the run-time error
    expect(thrown(() => createModel('cifar_resnet_20', { depth: 56 })).message)
      .toBe('Expected 20 (fixed by the model name cifar_resnet_20) or no value for options.depth but received 56 of type number');
    expect(resolveModelOptions('cifar_resnet_20', { depth: 20 }).depth).toBe(20);
  });

  test('families: cifar_resnet_<6n+2> and wrn_<6n+4>_<k> resolve to their base model', () => {
    expect(resolveModelOptions('cifar_resnet_8')).toMatchObject({ depth: 8, width: 16, numClasses: 10 });
    expect(resolveModelOptions('wrn_10_2', { dropRate: 0.3 })).toMatchObject({ depth: 10, widenFactor: 2, dropRate: 0.3 });
    expect(thrown(() => createModel('cifar_resnet_21')).message)
      .toBe('Expected an integer 6n + 2 with n >= 1 (the CIFAR ResNet depth) for options.depth (from the name cifar_resnet_21) but received 21 of type number');
    expect(thrown(() => createModel('wrn_28_0')).message)
      .toBe('Expected positive integer for options.widenFactor (from the name wrn_28_0) but received 0 of type number');
  });

  test('defaults per model family', () => {
    expect(modelOptions('resnet50')).toEqual({ numClasses: 1000, inChannels: 3, inputSize: 224, zeroInitResidual: false, init: 'default' });
    expect(modelOptions('cifar_resnet_20')).toEqual({
      numClasses: 10, inChannels: 3, inputSize: 32, depth: 20, width: 16, shortcut: 'projection', zeroInitResidual: false, init: 'default',
    });
    expect(modelOptions('wrn_28_10')).toMatchObject({ depth: 28, widenFactor: 10, dropRate: 0 });
    expect(modelOptions('lenet5')).toEqual({ numClasses: 10, inChannels: 1, inputSize: 28, batchNorm: false, init: 'default' });
    expect(modelOptions('mlp')).toEqual({ numClasses: 10, inChannels: 1, inputSize: 28, hidden: [300, 100], init: 'default' });
  });

  test('createModel records the resolved config; the model knows its input and classifier', () => {
    const m = createModel('cifar_resnet_20', { numClasses: 100 });
    expect(m.config).toEqual({
      name: 'cifar_resnet_20',
      options: { numClasses: 100, inChannels: 3, inputSize: 32, depth: 20, width: 16, shortcut: 'projection', zeroInitResidual: false, init: 'default' },
    });
    expect(m.inputShape).toEqual([3, 32, 32]);
    expect(m.outputLayerName).toBe('fc');
    m.dispose();
  });

  test.each(EXPECTED_NAMES.filter((n) => !['wrn_28_10', 'wide_resnet', 'resnet50', 'cifar_resnet50', 'cifar_resnet_110', 'deit_small'].includes(n)))(
    '%s: every conv and linear layer is masked; the classifier is one of them',
    (name) => {
      const m = createModel(name);
      const masked = m.maskedLayers().map(([n]) => n);
      for (const [n, mod] of m.namedModules()) {
        if (mod instanceof Conv2d) expect([n, mod instanceof MaskedConv2d]).toEqual([n, true]);
        if (mod instanceof Linear) expect([n, mod instanceof MaskedLinear]).toEqual([n, true]);
      }
      expect(masked).toContain(m.outputLayerName);
      expect(m.prunableParameterNames()).toEqual(masked.map((n) => `${n}.weight`));
      const keys = [...m.stateDict().keys()];
      for (const n of masked) expect(keys).toContain(`${n}.weight_mask`);
      m.dispose();
    },
  );

  test('torchvision names: ResNet-18 and ResNet-50 state-dict keys', () => {
    const r18 = createModel('resnet18');
    const keys = [...r18.stateDict().keys()];
    expect(keys.slice(0, 7)).toEqual([
      'conv1.weight', 'conv1.weight_mask', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked',
    ]);
    expect(keys).toEqual(expect.arrayContaining([
      'layer1.0.conv1.weight', 'layer2.0.downsample.0.weight', 'layer2.0.downsample.1.running_var', 'layer4.1.bn2.bias', 'fc.weight', 'fc.bias',
    ]));
    expect(keys).not.toContain('layer1.0.downsample.0.weight');
    r18.dispose();
    const r50 = createModel('resnet50');
    expect([...r50.stateDict().keys()]).toEqual(expect.arrayContaining(['layer1.0.downsample.0.weight', 'layer3.5.conv3.weight', 'layer4.2.bn3.weight']));
    r50.dispose();
  });
});
