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
# The CIFAR ResNets are test/helpers/cifar_resnet.py's (runPython puts test/helpers on the path).
# Usage: PYTHONPATH=test/helpers python3 synflow-reference.py <args.json>; prints
# {"kept": {name: count}} as JSON.
import json, sys
import torch
import torch.nn as nn

from cifar_resnet import CifarResNet

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


def build(a):
    if a['arch'].startswith('cifar_resnet_'):
        return CifarResNet(int(a['arch'].split('_')[-1]), in_channels=a['inputShape'][0], num_classes=a['numClasses'])
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
