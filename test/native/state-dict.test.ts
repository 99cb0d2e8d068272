/**
 * State dicts: PyTorch's names for the same architecture (and, for the same seed, PyTorch's very
 * values: both sides draw from libtorch's CPU generator in the same order), loading PyTorch's
 * weights reproduces its outputs, and strict loading reports every problem in one error.
 */
import {
  AdaptiveAvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Flatten, IssuesError, Linear, MaxPool2d, Module, ReLU,
  Sequential, Tensor, keep, manualSeed, noGrad, randn, tidy, zeros, type StateDict,
} from '../../src';
import { createToyModel, TOY_MODEL_PYTHON } from '../helpers/toy-model';
import { describeWithTorch, expectClose, runTorch } from '../helpers/torch-ref';

class Net extends Module {
  readonly features: Sequential;
  readonly pool: AdaptiveAvgPool2d;
  readonly head: Sequential;
  readonly norm: BatchNorm1d;

  constructor() {
    super();
    this.features = this.registerModule('features', new Sequential(
      new Conv2d(3, 8, 3, { padding: 1 }),
      new BatchNorm2d(8),
      new ReLU(),
      new MaxPool2d(2),
      Sequential.named([
        ['conv', new Conv2d(8, 16, 3, { bias: false, stride: 2 })],
        ['bn', new BatchNorm2d(16)],
        ['act', new ReLU()],
      ]),
    ));
    this.pool = this.registerModule('pool', new AdaptiveAvgPool2d(1));
    this.head = this.registerModule('head', new Sequential(new Flatten(), new Dropout(0.3), new Linear(16, 10)));
    this.norm = this.registerModule('norm', new BatchNorm1d(10, { affine: false }));
  }

  forward(x: Tensor): Tensor {
    return this.norm.forward(this.head.forward(this.pool.forward(this.features.forward(x))));
  }
}

const NET_PYTHON = `
from collections import OrderedDict
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Sequential(OrderedDict([('conv', nn.Conv2d(8, 16, 3, bias=False, stride=2)), ('bn', nn.BatchNorm2d(16)), ('act', nn.ReLU())])))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(16, 10))
        self.norm = nn.BatchNorm1d(10, affine=False)
    def forward(self, x):
        return self.norm(self.head(self.pool(self.features(x))))
`;

function describeState(sd: StateDict): [string, number[], string][] {
  return [...sd].map(([k, t]) => [k, t.shape, t.dtype]);
}

describeWithTorch('state dicts match PyTorch (torch-ref python)', () => {
  it('a nested model has PyTorch\'s keys, shapes, dtypes and (same seed) values', () => {
    manualSeed(42);
    const net = new Net();
    const ref = runTorch(`
      ${NET_PYTHON.trim().split('\n').join('\n      ')}
      torch.manual_seed(42)
      net = Net()
      sd = net.state_dict()
      js['keys'] = [[k, list(v.shape), str(v.dtype).replace('torch.', '')] for k, v in sd.items()]
      for k, v in sd.items():
          out[k] = v
    `);
    expect(describeState(net.stateDict())).toEqual(ref.js.keys);
    for (const [k, t] of net.stateDict()) expectClose(t, ref.out[k], 0, 0);
  });

  it('loading PyTorch\'s trained weights reproduces its outputs in eval mode', () => {
    const net = new Net();
    const x = keep(randn([3, 3, 9, 9]));
    const ref = runTorch(`
      ${NET_PYTHON.trim().split('\n').join('\n      ')}
      torch.manual_seed(3)
      net = Net()
      opt = torch.optim.SGD(net.parameters(), lr=0.1)
      for _ in range(3):
          opt.zero_grad(); net(torch.randn(4, 3, 9, 9)).pow(2).mean().backward(); opt.step()
      net.eval()
      for k, v in net.state_dict().items():
          out['sd.' + k] = v
      out['y'] = net(inp['x'])
    `, { x });
    const sd: StateDict = new Map(Object.entries(ref.out).filter(([k]) => k.startsWith('sd.')).map(([k, t]) => [k.slice(3), t]));
    const result = net.loadStateDict(sd);
    expect(result).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(net.features.at(1).getBuffer('num_batches_tracked')!.item()).toBe(3);
    net.eval();
    const y = tidy(() => net.forward(x));
    expectClose(y, ref.out.y);
  });

  it('the toy model matches its PyTorch twin, masks included', () => {
    manualSeed(5);
    const model = createToyModel();
    const x = keep(randn([2, 1, 8, 8]));
    const ref = runTorch(`
      ${TOY_MODEL_PYTHON.trim().split('\n').join('\n      ')}
      torch.manual_seed(5)
      m = ToyNet()
      js['keys'] = [[k, list(v.shape), str(v.dtype).replace('torch.', '')] for k, v in m.state_dict().items()]
      m.eval()
      out['y'] = m(inp['x'])
    `, { x });
    expect(describeState(model.stateDict())).toEqual(ref.js.keys);
    model.eval();
    expectClose(tidy(() => model.forward(x)), ref.out.y);
  });
});

describe('loadStateDict', () => {
  it('strict: one error lists every missing, unexpected and mis-shaped key, and nothing is copied', () => {
    const net = new Net();
    const sd: StateDict = new Map(net.stateDict());
    const before = tidy(() => keep(net.head.at(2).getParameter('weight')!.clone()));
    sd.delete('features.0.bias');
    sd.delete('norm.running_var');
    sd.set('features.9.weight', zeros([2]));
    sd.set('head.2.weight', zeros([10, 17]));
    sd.set('features.1.weight', zeros([7]));
    let error: unknown;
    try {
      net.loadStateDict(sd);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IssuesError);
    const e = error as IssuesError;
    expect(e.code).toBe('ERR_STATE_DICT');
    expect(e.issues).toEqual([
      { code: 'size_mismatch', path: 'features.1.weight', message: expect.stringMatching(/shape \[7\], the shape in the current model is \[8\]$/) },
      { code: 'size_mismatch', path: 'head.2.weight', message: expect.stringMatching(/shape \[10, 17\], the shape in the current model is \[10, 16\]$/) },
      { code: 'missing_key', path: 'features.0.bias', message: 'missing key' },
      { code: 'missing_key', path: 'norm.running_var', message: 'missing key' },
      { code: 'unexpected_key', path: 'features.9.weight', message: 'unexpected key' },
    ]);
    expect(e.message.split('\n')[0]).toBe('Error(s) in loading state_dict for Net:');
    expect(e.message.split('\n')).toHaveLength(6);
    expect(net.head.at(2).getParameter('weight')!.toArray()).toEqual(before.toArray());
  });

  it('non-strict: returns missing and unexpected keys and loads the rest', () => {
    const a = new Net();
    const b = new Net();
    const sd: StateDict = new Map(a.stateDict());
    sd.delete('head.2.bias');
    sd.set('extra', zeros([1]));
    const r = b.loadStateDict(sd, { strict: false });
    expect(r).toEqual({ missingKeys: ['head.2.bias'], unexpectedKeys: ['extra'] });
    expect(b.features.at(0).getParameter('weight')!.toArray()).toEqual(a.features.at(0).getParameter('weight')!.toArray());
  });

  it('a loaded mask re-zeroes the weight (afterLoadStateDict); a non-binary mask is rejected', () => {
    const model = createToyModel();
    const sd: StateDict = new Map(model.stateDict());
    const mask = tidy(() => keep(randn(model.conv1.weight.shape).gt(0).float()));
    const ones = tidy(() => keep(noGrad(() => model.conv1.weight.mul(0).add(1))));
    sd.set('conv1.weight', ones);
    sd.set('conv1.weight_mask', mask);
    model.loadStateDict(sd);
    expect(model.conv1.weight.toArray()).toEqual(mask.toArray());
    sd.set('conv1.weight_mask', tidy(() => keep(mask.mul(0.5))));
    expect(() => model.loadStateDict(sd)).toThrow(/weight_mask of MaskedConv2d holds values other than 0 and 1/);
  });

  it('all or nothing: a 0.5 in one mask leaves every tensor of the model as it was', () => {
    const model = createToyModel();
    const before = new Map([...model.stateDict()].map(([k, t]) => [k, Array.from(t.data() as ArrayLike<number>)]));
    // Every key gets a new valid value (x + 1, masks 1 - x); then one mask holds a 0.5.
    const fresh = (k: string, t: Tensor) => tidy(() => keep(noGrad(() => (k.endsWith('weight_mask') ? t.mul(-1).add(1) : t.add(1)))));
    const sd: StateDict = new Map([...model.stateDict()].map(([k, t]) => [k, fresh(k, t)]));
    const masks = [...sd.keys()].filter((k) => k.endsWith('weight_mask'));
    const last = masks[masks.length - 1];
    sd.set(last, tidy(() => keep(zeros(sd.get(last)!.shape).add(0.5))));
    expect(masks.length).toBeGreaterThan(1);
    let err: unknown;
    try {
      model.loadStateDict(sd);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IssuesError);
    expect((err as IssuesError).issues).toEqual([{ code: 'invalid_value', path: last, message: expect.stringMatching(/^weight_mask of Masked\w+ holds values other than 0 and 1$/) }]);
    for (const [k, t] of model.stateDict()) expect([k, Array.from(t.data() as ArrayLike<number>)]).toEqual([k, before.get(k)]);
    expect(() => model.loadStateDict(sd, { strict: false })).toThrow(IssuesError);
    for (const [k, t] of model.stateDict()) expect([k, Array.from(t.data() as ArrayLike<number>)]).toEqual([k, before.get(k)]);
  });
});
