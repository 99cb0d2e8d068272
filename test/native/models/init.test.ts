/**
 * The `init` model option: 'default' (torchvision: convs Kaiming-normal fan_out, the classifier
 * PyTorch's Linear default) and 'kaiming_fan_in' (every conv and linear Kaiming-normal fan_in,
 * zero biases). Each layer's sample standard deviation is compared with the one torch.nn.init
 * defines for its shape (fans and gain computed by PyTorch), within sampling error.
 */
import { BatchNorm2d, createModel, manualSeed, maskedLayers, tidy, type Module } from '../../../src';
import { describeWithTorch } from '../../helpers/torch-ref';
import { runPythonJson } from '../../helpers/pytorch';

interface Expected {
  fanIn: number;
  fanOut: number;
  gainRelu: number;
  /** std of nn.Linear's default weight init: kaiming_uniform_(a=√5), bound = gain·√(3 / fan_in). */
  linearDefault: number;
}

const TORCH_STDS = `
import json, math, sys, torch
shapes = json.load(sys.stdin)
out = []
for s in shapes:
    t = torch.empty(s)
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(t)
    bound = torch.nn.init.calculate_gain('leaky_relu', math.sqrt(5)) * math.sqrt(3.0 / fan_in)
    out.append({'fanIn': fan_in, 'fanOut': fan_out, 'gainRelu': torch.nn.init.calculate_gain('relu'), 'linearDefault': bound / math.sqrt(3)})
print(json.dumps(out))
`;

function layerStats(model: Module): { name: string; shape: number[]; std: number; mean: number; n: number; biasAbsMax: number | undefined }[] {
  return maskedLayers(model).map(([name, l]) => tidy(() => {
    const w = l.weight.to('float64');
    const b = l.getParameter('bias');
    return {
      name, shape: l.weight.shape, std: w.std().item(), mean: w.mean().item(), n: l.weight.numel,
      biasAbsMax: b ? b.abs().max().item() : undefined,
    };
  }));
}

describeWithTorch('init schemes against torch.nn.init', () => {
  manualSeed(0);
  const fanIn = createModel('cifar_resnet_20', { init: 'kaiming_fan_in' });
  const dflt = createModel('cifar_resnet_20');
  const a = layerStats(fanIn);
  const b = layerStats(dflt);
  const expected = runPythonJson<Expected[]>(TORCH_STDS, a.map((l) => l.shape));

  /** |sample std − σ| within 5 standard errors (σ/√(2n)), and the mean within 5 σ/√n. */
  function expectStd(l: { std: number; mean: number; n: number; name: string }, sigma: number): void {
    expect({ layer: l.name, ok: Math.abs(l.std - sigma) <= (5 * sigma) / Math.sqrt(2 * l.n) }).toEqual({ layer: l.name, ok: true });
    expect(Math.abs(l.mean)).toBeLessThanOrEqual((5 * sigma) / Math.sqrt(l.n));
  }

  test("'kaiming_fan_in': every conv and linear N(0, 2 / fan_in), biases zero", () => {
    a.forEach((l, i) => {
      const e = expected[i];
      expectStd(l, e.gainRelu / Math.sqrt(e.fanIn));
      if (l.biasAbsMax !== undefined) expect(l.biasAbsMax).toBe(0);
    });
    expect(a.find((l) => l.name === 'fc')!.biasAbsMax).toBe(0);
  });

  test("'default': convs N(0, 2 / fan_out), the classifier PyTorch's Linear default", () => {
    b.forEach((l, i) => {
      const e = expected[i];
      if (l.name === 'fc') {
        expectStd(l, e.linearDefault);
        expect(l.biasAbsMax).toBeGreaterThan(0);
      } else {
        expectStd(l, e.gainRelu / Math.sqrt(e.fanOut));
      }
    });
    // The schemes differ where fan_in ≠ fan_out (e.g. layer2.0.conv1: 16 in, 32 out channels).
    const i = a.findIndex((l) => l.name === 'layer2.0.conv1');
    expect(expected[i].fanIn).not.toBe(expected[i].fanOut);
    expect(Math.abs(a[i].std / b[i].std - Math.sqrt(expected[i].fanOut / expected[i].fanIn))).toBeLessThan(0.1);
  });

  test('BatchNorm stays weight 1, bias 0; the option is recorded and checked', () => {
    for (const [, m] of fanIn.namedModules()) {
      if (!(m instanceof BatchNorm2d)) continue;
      expect(tidy(() => m.getParameter('weight')!.eq(1).all().item())).toBe(1);
      expect(tidy(() => m.getParameter('bias')!.eq(0).all().item())).toBe(1);
    }
    expect(fanIn.config!.options.init).toBe('kaiming_fan_in');
    expect(dflt.config!.options.init).toBe('default');
    // @ts-expect-error the types reject the scheme too; this checks the run-time error
    expect(() => createModel('lenet5', { init: 'xavier' })).toThrow(/^Expected one of 'default', 'kaiming_fan_in' for options\.init but received 'xavier'/);
  });
});
