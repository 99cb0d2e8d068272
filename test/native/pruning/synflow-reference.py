# Synaptic-Flow's SynFlow pruning loop (github ganguli-lab/Synaptic-Flow: prune.py prune_loop,
# Pruners/pruners.py Pruner._global_mask and SynFlow.score), restated in plain PyTorch over a
# model rebuilt from our state dict. Written from the reference's code, not from ours:
# - model.eval() for the whole loop (BatchNorm uses its running statistics);
# - every round: weights *= masks (apply_mask); every state_dict entry (parameters AND buffers)
#   replaced by its absolute value (linearize), an all-ones input of batch 1, R = sum(output),
#   score = |dR/dtheta * theta| of every masked weight, then the signs are restored (nonlinearize);
# - density of round e (1-based) of E: density ** (e / E) (the exponential schedule; the
#   reference's `sparsity` argument is the kept fraction); global threshold: k = int((1 - d) * N),
#   threshold = kthvalue(all scores, k), keep score > threshold.
# - every Conv2d and Linear weight is masked (bias, BatchNorm and identity shortcuts are not), the
#   1x1 downsample convs included, as masked_parameters(model) does with its defaults.
# The reference scores in float32 (its model.double() is commented out); `dtype` picks it.
# Usage: python3 synflow-reference.py <args.json>; prints {"kept": {name: count}} as JSON.
import json, sys
import torch
import torch.nn as nn
import torch.nn.functional as F

SAFETENSORS_DT = {'F32': torch.float32, 'F64': torch.float64, 'I64': torch.int64}


def load(path):
    import numpy as np
    npdt = {'F32': np.float32, 'F64': np.float64, 'I64': np.int64}
    data = open(path, 'rb').read()
    n = int.from_bytes(data[:8], 'little')
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        a, b = e['data_offsets']
        arr = np.frombuffer(data[8 + n + a:8 + n + b], dtype=npdt[e['dtype']])
        out[name] = torch.from_numpy(arr.reshape(e['shape']).copy())
    return out


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        o = F.relu(self.bn1(self.conv1(x)))
        o = self.bn2(self.conv2(o))
        return F.relu(o + (x if self.downsample is None else self.downsample(x)))


class CifarResNet(nn.Module):
    """He et al.'s CIFAR ResNet (6n+2) with 1x1 conv + BN projection shortcuts."""

    def __init__(self, depth, num_classes, in_channels):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        cin = 16
        for s, cout in enumerate([16, 32, 64]):
            blocks = []
            for b in range(n):
                blocks.append(Block(cin, cout, 2 if s > 0 and b == 0 else 1))
                cin = cout
            setattr(self, 'layer%d' % (s + 1), nn.Sequential(*blocks))
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.layer3(self.layer2(self.layer1(y)))
        return self.fc(y.mean((2, 3)))


def build(a):
    if a['arch'].startswith('cifar_resnet_'):
        return CifarResNet(int(a['arch'].split('_')[-1]), a['numClasses'], a['inputShape'][0])
    import torchvision
    return getattr(torchvision.models, a['arch'])(num_classes=a['numClasses'])


def main():
    a = json.load(open(sys.argv[1]))
    dtype = {'float32': torch.float32, 'float64': torch.float64}[a['dtype']]
    model = build(a)
    sd = load(a['stateDict'])
    model.load_state_dict({k: v for k, v in sd.items() if not k.endswith('_mask')}, strict=True)
    model.to(dtype)
    model.eval()
    masked = [(n, m.weight) for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    masks = {n: torch.ones_like(p) for n, p in masked}
    rounds, density = a['rounds'], a['density']
    for e in range(rounds):
        with torch.no_grad():
            for n, p in masked:
                p.mul_(masks[n])
        signs = {}
        with torch.no_grad():
            for k, v in model.state_dict().items():
                signs[k] = torch.sign(v)
                v.abs_()
        model.zero_grad()
        model(torch.ones([1] + a['inputShape'], dtype=dtype)).sum().backward()
        scores = {n: (p.grad * p).detach().abs() for n, p in masked}
        with torch.no_grad():
            for k, v in model.state_dict().items():
                v.mul_(signs[k])
        d = density ** ((e + 1) / rounds)
        flat = torch.cat([s.flatten() for s in scores.values()])
        k = int((1.0 - d) * flat.numel())
        if not k < 1:
            threshold, _ = torch.kthvalue(flat, k)
            for n, _ in masked:
                masks[n] = (scores[n] > threshold).to(dtype)
    print(json.dumps({'kept': {n + '.weight': int(masks[n].sum()) for n, _ in masked}}))


main()
