/**
 * Sign-In as a PyTorch user's own script reaches it, where it used to go wrong without a word:
 * `new SGD(model.parameters())` (or an optimizer made before applySignIn) updated θ as a plain
 * weight, leaving m and w behind, so the invariant θ = m ⊙ w broke and a state-dict load (θ from
 * m and w) changed the model's outputs; option typos were ignored; a model without masked layers
 * was left dense; Module.to left θ the rounded product of the old dtype.
 */
import {
  AdamW, F, Linear, MaskedLinear, ReLU, SGD, Sequential, SignInResetSchedule, applySignIn, mergeSignIn, randn,
  resetSignIn, signinFactors, tensor, tidy,
} from '../../../src';
import { errorOf } from '../../helpers/error-of';

function model(): Sequential {
  const m = new Sequential(new MaskedLinear(4, 8), new ReLU(), new MaskedLinear(8, 3));
  tidy(() => { (m.at(0) as MaskedLinear).setMask(randn([8, 4]).gt(0)); });
  return m;
}

function snapshot(m: Sequential): number[] {
  return m.parameters().flatMap((p) => p.toArray());
}

function backward(m: Sequential): void {
  tidy(() => F.crossEntropy(m.forward(randn([6, 4])), tensor([0, 1, 2, 0, 1, 2], { dtype: 'int64' })).backward());
}

const REFUSED = /^Parameter \S+ cannot be updated as a plain parameter: it is the θ of a Sign-In layer .*forModel\(model\)/;

describe('an optimizer that would update a Sign-In θ as a plain parameter', () => {
  it('is refused when made over model.parameters() after applySignIn (SGD, AdamW, named or not)', () => {
    const m = model();
    applySignIn(m);
    for (const make of [
      () => new SGD(m.parameters(), { lr: 0.1, momentum: 0.9 }),
      () => new AdamW(m.namedParameters(), { lr: 0.01 }),
      () => new SGD([{ params: m.parameters() }], { lr: 0.1 }),
    ]) {
      const e = errorOf(make);
      expect(e.code).toBe('ERR_INVALID_ARG');
      expect(e.message).toMatch(REFUSED);
    }
    m.dispose();
  });

  it.each([
    ['SGD', (m: Sequential) => SGD.forModel(m, { lr: 0.1, momentum: 0.9 })],
    ['AdamW', (m: Sequential) => AdamW.forModel(m, { lr: 0.01 })],
  ] as const)('%s made before applySignIn refuses to step, writing nothing', (_name, make) => {
    const m = model();
    const opt = make(m);
    applySignIn(m);
    backward(m);
    const before = snapshot(m);
    const e = errorOf(() => opt.step());
    expect(e.code).toBe('ERR_INVALID_ARG');
    expect(e.message).toMatch(REFUSED);
    expect(snapshot(m)).toEqual(before);
    opt.dispose();
    m.dispose();
  });

  it('still refuses after Module.to replaced θ; merged layers and forModel after applySignIn train', () => {
    const m = model();
    applySignIn(m);
    m.to('float64');
    expect(errorOf(() => new SGD(m.parameters(), { lr: 0.1 })).message).toMatch(REFUSED);
    const opt = SGD.forModel(m, { lr: 0.1 });
    expect(opt.paramGroups[0].numEntries.signin).toBe(2);
    opt.dispose();
    mergeSignIn(m);
    const plain = new SGD(m.parameters(), { lr: 0.1 });
    plain.dispose();
    m.dispose();
  });
});

describe('Module.to on a Sign-In model', () => {
  it('re-establishes θ = m ⊙ w exactly in the new dtype (not the old dtype product, rounded)', () => {
    const m = model();
    applySignIn(m);
    m.to('float64');
    for (const l of [m.at(0), m.at(2)] as MaskedLinear[]) {
      const f = signinFactors(l)!;
      expect(l.weight.dtype).toBe('float64');
      // A product of two float64 numbers, computed in JS: the reference for the elementwise product.
      const mv = f.m.toArray();
      const wv = f.w.toArray();
      expect(l.weight.toArray()).toEqual(mv.map((v, i) => v * wv[i]));
    }
    m.dispose();
  });
});

describe('Sign-In entry points name bad arguments', () => {
  it('option typos, a model without masked layers, an optimizer without entryBuffers', () => {
    const m = model();
    const cases: [() => unknown, RegExp][] = [
      [() => applySignIn(m, { betta: 2 } as never), /Unknown option 'betta'.*beta, layers/],
      [() => applySignIn(new Sequential(new Linear(2, 2))), /masked layers .* for model/],
      [() => resetSignIn(m, { zeroMomentum: true, optimiser: {} } as never), /Unknown option 'optimiser'/],
      [() => resetSignIn(m, { optimizer: {} as never }), /for optimizer/],
      [() => new SignInResetSchedule(m, { every: 2 } as never), /Unknown option 'every'.*period/],
      [() => new SignInResetSchedule({ period: 2 } as never), /Expected Module for model/],
      [() => new SignInResetSchedule(m, { optimizer: 5 as never }), /for optimizer/],
    ];
    for (const [fn, re] of cases) {
      const e = errorOf(fn);
      expect(e.code).toBe('ERR_INVALID_ARG');
      expect(e.message).toMatch(re);
    }
    // The typo left the model as it was.
    expect((m.at(0) as MaskedLinear).parametrization).toBe('dense');
    m.dispose();
  });
});
