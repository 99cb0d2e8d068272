/**
 * Regression tests for the gaps the public-API fuzz (test/fuzz) found in nn, models, data,
 * pruning, signin and the Tensor class (issue 10): each call below used to throw a TypeError or
 * RangeError, hang on a sparse array, or poison later calls. Expected values are closed forms.
 */
import {
  DatasetError, EmptyLayerError, F, InvalidArgumentError, ResNet, Tensor, UnknownNameError, Vgg, VisionTransformer, WideResNet,
  createModel, fromTypedArray, isNormOrBias, layerDensities, normalize, ones, registerModelFamily, resetDueAtEpoch,
  resolveResetOptions, signinFactors, tidy, topKMask, unsafeCall, unsafeCallInPlace, zeros, zerosLike, randn,
  ImageFolder, RandomSampler, init, maskReport, TensorDisposedError, distributed, unsafeKeyIssues,
} from '../../src';
import { native } from '../../src/native';
import { errorOf } from '../helpers/error-of';

const SPARSE = () => new Array(2 ** 32 - 1);

describe('the Tensor constructor takes only a native handle', () => {
  it('refuses anything else at construction, not at dispose', () => {
    for (const junk of [Infinity, 'cpu', {}, undefined]) {
      const e = errorOf(() => new Tensor(junk as never));
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect(e.message).toMatch(/^Expected a native tensor handle \(make Tensors with tensor\(\), zeros\(\), fromTypedArray\(\), \.\.\.\) for handle but received/);
    }
  });

  it('wraps a native handle', () => {
    const t = new Tensor(native().fromTypedArray(Float32Array.of(1.5, 2.5), [2], true));
    expect(t.sum().item()).toBe(4);
    t.dispose();
  });
});

describe('other entry points check their options object (null threw a TypeError in each)', () => {
  it.each([
    ['init.kaimingUniform_', () => init.kaimingUniform_(zeros([2, 2]), null as never)],
    ['init.kaimingNormal_', () => init.kaimingNormal_(zeros([2, 2]), null as never)],
    ['init.xavierUniform_', () => init.xavierUniform_(zeros([2, 2]), null as never)],
    ['init.xavierNormal_', () => init.xavierNormal_(zeros([2, 2]), null as never)],
    ['maskReport', () => maskReport(createModel('lenet5'), null as never)],
    ['RandomSampler', () => new RandomSampler(4, null as never)],
    ['ImageFolder', () => new ImageFolder(__dirname, null as never)],
  ])('%s', (_, call) => {
    expect(errorOf(call)).toMatchObject({ code: 'ERR_INVALID_ARG', message: 'Expected options object for options but received null' });
  });
});

describe('tensor factories check their options object', () => {
  it('null options are refused, naming them, where they used to throw a TypeError', () => {
    for (const make of [() => zeros([2], null as never), () => randn([2], null as never), () => zerosLike(ones([2]), null as never)]) {
      expect(errorOf(() => tidy(make)).message).toBe('Expected options object for options but received null');
    }
  });

  it('fromTypedArray refuses missing data, and still defaults the shape to the data length', () => {
    expect(errorOf(() => fromTypedArray(undefined as never)).message).toBe('Expected TypedArray for data but received undefined');
    tidy(() => expect(fromTypedArray(Float32Array.of(1, 2, 3)).shape).toEqual([3]));
  });
});

describe('model constructors check their options before building', () => {
  it('ResNet bounds its stages and blocks, so junk cannot build millions of blocks', () => {
    expect(errorOf(() => new ResNet(undefined as never)).message).toMatch(/^Expected ResNet options .* for options but received undefined$/);
    expect(errorOf(() => new ResNet({ block: 'basic', layers: [1001], numClasses: 10 })).message)
      .toBe('Expected array of 1 to 8 block counts, integers in [1, 1000] for layers but received an array of length 1');
    expect(errorOf(() => new ResNet({ block: 'basic', layers: SPARSE(), numClasses: 10 })).code).toBe('ERR_INVALID_ARG');
    expect(errorOf(() => new ResNet({ block: 'wide' as never, layers: [1], numClasses: 10 })).message)
      .toBe("Expected one of 'basic', 'bottleneck' for block but received 'wide' of type string");
  });

  it('a valid small ResNet still builds, with the parameter count of its closed form', () => {
    const m = new ResNet({ block: 'basic', layers: [1, 1], numClasses: 3, width: 4, stem: 'cifar', inputSize: 8 });
    // conv1 3·4·9 + bn1 2·4; layer1 (4→4): 2 convs 4·4·9 + 2 bns 2·4; layer2 (4→8, stride 2): convs
    // 4·8·9 + 8·8·9, 2 bns 2·8, downsample conv 4·8 + bn 2·8; fc 8·3 + 3.
    const expected = 108 + 8 + (2 * 144 + 16) + (288 + 576 + 32 + 32 + 16) + 27;
    expect(m.numParameters()).toBe(expected);
  });

  it('Vgg, WideResNet and VisionTransformer refuse a bad depth, naming it', () => {
    expect(errorOf(() => new Vgg({ depth: 12 as never, numClasses: 10 })).message).toBe('Expected one of 11, 13, 16, 19 for depth but received 12 of type number');
    expect(errorOf(() => new WideResNet({ depth: 6 * 10 ** 6 + 4, widenFactor: 1, numClasses: 10 })).message)
      .toBe('Expected integer in [10, 6004] for depth but received 6000004 of type number');
    expect(errorOf(() => new VisionTransformer({
      imgSize: 8, patchSize: 4, inChannels: 1, numClasses: 2, embedDim: 8, depth: 10 ** 6, numHeads: 2,
    })).message).toBe('Expected integer in [1, 1000] for depth but received 1000000 of type number');
  });
});

describe('the model registry', () => {
  it('a refused model family is not registered, so later lookups still name the valid models', () => {
    expect(errorOf(() => registerModelFamily(undefined as never)).code).toBe('ERR_INVALID_ARG');
    expect(errorOf(() => createModel('no_such_model' as never)).constructor).toBe(UnknownNameError);
  });

  it('a family that resolves to an unregistered model is an UnknownNameError, not a TypeError', () => {
    registerModelFamily({ pattern: /^zz_(\d+)$/, display: 'zz_<n>', resolve: () => ({ base: 'zz_base', fixed: {} }) });
    expect(errorOf(() => createModel('zz_1' as never)).message).toMatch(/^Unknown base model of the family zz_<n> 'zz_base'; valid names: /);
  });
});

describe('lists are bounded before they are walked', () => {
  it('layerDensities and normalize refuse a sparse array of 2^32-1 at once', () => {
    expect(errorOf(() => layerDensities('erk', SPARSE(), 0.5)).message)
      .toBe('Expected non-empty array of { name, shape } with positive integer dimensions for layers but received an array of length 4294967295');
    expect(errorOf(() => normalize(SPARSE(), 1)).message).toBe('Expected number or non-empty array of numbers for mean but received an array of length 4294967295');
  });

  it('layerDensities takes dense names as an array or a Set, and only names', () => {
    const layers = [{ name: 'a', shape: [10, 10] }, { name: 'b', shape: [10, 10] }];
    // Budget 0.75·200 = 150 weights; a is dense (100), so b keeps 50 of its 100.
    expect(layerDensities('uniform', layers, 0.75, { dense: new Set(['a']) })).toEqual([1, 0.5]);
    expect(layerDensities('uniform', layers, 0.75, { dense: ['a'] })).toEqual([1, 0.5]);
    expect(errorOf(() => layerDensities('uniform', layers, 0.75, { dense: 'a' as never })).message)
      .toBe("Expected array or Set of layer names for dense but received 'a' of type string");
  });
});

describe('unsafeCall checks the form of the call only', () => {
  it('a name that is not a string and args that are not an array are coded errors', () => {
    expect(errorOf(() => unsafeCall(undefined as never, [])).message).toBe('Expected string for qualified but received undefined');
    expect(errorOf(() => unsafeCall('aten::add.Tensor', SPARSE())).message)
      .toBe("Expected array of the operator's positional arguments for args but received an array of length 4294967295");
    expect(errorOf(() => unsafeCallInPlace('aten::zero_', [], 3 as never)).message).toBe('Expected record of keyword arguments for kwargs but received 3 of type number');
  });

  it('a well-formed call still reaches the operator', () => {
    tidy(() => {
      const x = ones([3]);
      unsafeCallInPlace('aten::mul_.Scalar', [x, 2.5]);
      expect(x.sum().item()).toBe(7.5);
    });
  });
});

describe('helpers named in the issue check their arguments', () => {
  it('F.invalidTensorArg describes a disposed tensor or a non-tensor instead of failing', () => {
    const t = zeros([2]);
    t.dispose();
    expect(F.invalidTensorArg('input', 'a 2-D Tensor', t).message).toBe('Expected a 2-D Tensor for input but received a disposed Tensor');
    expect(F.invalidTensorArg('input', 'a 2-D Tensor', 7 as never).message).toBe('Expected a 2-D Tensor for input but received 7 of type number');
    tidy(() => expect(F.invalidTensorArg('w', 'a 1-D Tensor', zeros([2, 3])).message).toBe('Expected a 1-D Tensor for w but received a Tensor of shape [2, 3]'));
  });

  it('isNormOrBias, topKMask and signinFactors name a non-tensor argument', () => {
    expect(errorOf(() => isNormOrBias('b', undefined as never)).message).toBe('Expected Tensor for param but received undefined');
    tidy(() => {
      expect([isNormOrBias('b', zeros([4])), isNormOrBias('w', zeros([4, 4]))]).toEqual([true, false]);
      expect(Array.from(topKMask(fromTypedArray(Float32Array.of(0.1, 0.9, 0.5)), 2).data() as Float32Array)).toEqual([0, 1, 1]);
    });
    expect(errorOf(() => topKMask(undefined as never, 1)).message).toBe('Expected Tensor for scores but received undefined');
    expect(errorOf(() => signinFactors({} as never)).message).toBe('Expected a masked layer (MaskedConv2d, MaskedLinear) for layer but received an object');
  });

  it('resetDueAtEpoch checks the options and the epoch', () => {
    const o = resolveResetOptions({ unit: 'epochs', period: 2 });
    expect([1, 2, 3, 4].map((e) => resetDueAtEpoch(o, e))).toEqual([false, true, false, true]);
    expect(errorOf(() => resetDueAtEpoch(o, Symbol('e') as never)).message).toBe('Expected integer for epoch but received Symbol(e) of type symbol');
    expect(errorOf(() => resetDueAtEpoch(undefined as never, 1)).code).toBe('ERR_INVALID_ARG');
  });

  it('EmptyLayerError and DatasetError check the fields they keep', () => {
    const e = new EmptyLayerError([{ name: 'fc.weight', total: 10 }], 0.99);
    expect(e.layers).toEqual(['fc.weight']);
    expect(e.message).toMatch(/^Pruning to sparsity 0\.99 would remove every weight of fc\.weight \(10 weights\); /);
    expect(errorOf(() => new EmptyLayerError(SPARSE(), 0.5)).code).toBe('ERR_INVALID_ARG');
    expect(errorOf(() => new DatasetError('m', 3 as never)).message).toBe('Expected the path of the offending file (string) or undefined for file but received 3 of type number');
  });

  it('TensorDisposedError describes a reason that is not a string instead of failing to build its message', () => {
    expect(new TensorDisposedError(Symbol('s') as never).message).toBe('Tensor is disposed: it was Symbol(s) of type symbol');
    expect(new TensorDisposedError(SPARSE() as never).message).toBe(`Tensor is disposed: it was an array of length ${2 ** 32 - 1}`);
    expect(new TensorDisposedError('freed by hand').message).toBe('Tensor is disposed: it was freed by hand');
  });
});

describe('entry points the full-step API fuzz found (a TypeError or RangeError before)', () => {
  it('expandHostList names a label that is not a string; slurmPlacement an environment that is not an object', () => {
    expect(errorOf(() => distributed.expandHostList('n[1-2]', Symbol('x') as never)).message).toBe('Expected a string (what the list is, for errors) for name but received Symbol(x) of type symbol');
    expect(distributed.expandHostList('n[1-2],m')).toEqual(['n1', 'n2', 'm']);
    expect(errorOf(() => distributed.slurmPlacement(null as never)).message).toBe('Expected an environment object (process.env) for env but received null');
  });

  it('unsafeKeyIssues checks its path prefix and depth before building paths from them', () => {
    expect(errorOf(() => unsafeKeyIssues({ a: 1 }, SPARSE() as never)).message).toBe(`Expected string for prefix but received an array of length ${2 ** 32 - 1}`);
    expect(errorOf(() => unsafeKeyIssues({}, '', -1)).code).toBe('ERR_INVALID_ARG');
    expect(unsafeKeyIssues(JSON.parse('{"a":{"__proto__":1}}'), 'x').map((i) => i.path)).toEqual(['x.a.__proto__']);
  });
});
