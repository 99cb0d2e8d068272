# The pruning procedures of the codebases the Sign-In paper's PaI baselines come from, restated in
# plain PyTorch (float64) from their code, not from ours; nothing of this toolkit runs here.
# reference-procedures.test.ts prepends this file to a snippet that calls it.
#
# - Synaptic-Flow, github ganguli-lab/Synaptic-Flow @9dfa57a: Layers/layers.py (a masked layer
#   computes with weight_mask * weight), Utils/generator.py masked_parameters (defaults: every
#   Conv2d and Linear weight; no bias, BatchNorm or identity shortcut), Pruners/pruners.py (Mag,
#   SNIP, GraSP, SynFlow scores; Pruner._global_mask), prune.py prune_loop (eval mode unless
#   prune_train_mode; density ** ((epoch + 1) / epochs); the pruners' `sparsity` is the kept fraction).
# - GraSP, github alecwangcq/GraSP @f17d87a: pruner/GraSP.py GraSP() on the net as
#   main_prune_non_imagenet.py leaves it (train mode), its batch split in two halves, T = 200,
#   reinit=False (the authors' default re-initializes every Linear with xavier_normal before
#   scoring; ours does not, docs/pruning-fidelity.md).
# - SNIP, github namhoonlee/snip-public @f028496: snip/model.py get_sparse_mask and
#   create_sparse_mask (weights AND biases are scored; kappa = round(N (1 - s)); tf.nn.top_k keeps
#   the lower index of equal scores), snip/prune.py (one training batch, is_train False).
# - RigL, github google-research/rigl @d39fc7d: rigl/sparse_utils.py get_sparsities_erdos_renyi
#   (ERK / ER densities, the dense-layer loop, custom_sparsity_map) and get_mask_random_numpy
#   (n_zeros = floor(sparsity * n) per layer).
# - Gadhikar et al. 2023, github RelationalML/sparse_to_sparse @56576df: STR/main.py, the
#   'balanced' and 'pyramidal' er_sparse_method densities.
import copy
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from cifar_resnet import CifarResNet


def build(state_dict, depth, in_channels, num_classes):
    model = CifarResNet(depth, in_channels=in_channels, num_classes=num_classes).double()
    model.load_state_dict(state_dict, strict=True)
    return model


def prunable(model):
    return [(n + '.weight', m) for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


# ---- Synaptic-Flow ----

def _masked_forward(m):
    if isinstance(m, nn.Conv2d):
        return lambda x: m._conv_forward(x, m.weight_mask * m.weight, m.bias)
    return lambda x: F.linear(x, m.weight_mask * m.weight, m.bias)


def sf_add_masks(model):
    for _, m in prunable(model):
        m.register_buffer('weight_mask', torch.ones_like(m.weight))
        m.forward = _masked_forward(m)


def sf_scores(method, model, batches, input_shape):
    masked = [(n, m.weight_mask, m.weight) for n, m in prunable(model)]
    scores = {}
    if method == 'mag':
        for n, _, p in masked:
            scores[n] = p.detach().clone().abs()
    elif method == 'snip':
        for _, mk, _ in masked:
            mk.requires_grad = True
        for x, y in batches:
            F.cross_entropy(model(x), y).backward()
        for n, mk, p in masked:
            scores[n] = mk.grad.detach().clone().abs()
            p.grad = None
            mk.grad = None
            mk.requires_grad = False
        norm = torch.cat([s.flatten() for s in scores.values()]).sum()
        scores = {n: s / norm for n, s in scores.items()}
    elif method == 'grasp':
        T, eps = 200.0, 1e-10
        ps = [p for _, _, p in masked]
        stopped = 0
        for x, y in batches:
            g = torch.autograd.grad(F.cross_entropy(model(x) / T, y), ps)
            stopped = stopped + torch.cat([t.reshape(-1) for t in g])
        for x, y in batches:
            g = torch.autograd.grad(F.cross_entropy(model(x) / T, y), ps, create_graph=True)
            (stopped * torch.cat([t.reshape(-1) for t in g])).sum().backward()
        for n, _, p in masked:
            scores[n] = (p.grad * p.data).detach().clone()
            p.grad = None
        norm = torch.cat([s.flatten() for s in scores.values()]).sum().abs() + eps
        scores = {n: s / norm for n, s in scores.items()}
    elif method == 'synflow':
        with torch.no_grad():
            signs = {k: torch.sign(v) for k, v in model.state_dict().items()}
            for v in model.state_dict().values():
                v.abs_()
        model(torch.ones([1] + list(input_shape), dtype=torch.float64)).sum().backward()
        for n, _, p in masked:
            scores[n] = (p.grad * p).detach().abs()
            p.grad = None
        with torch.no_grad():
            for k, v in model.state_dict().items():
                v.mul_(signs[k])
    else:
        raise ValueError(method)
    return scores


def sf_prune_loop(model, method, batches, input_shape, density, epochs=1, train_mode=False):
    """Returns {name: 0/1 mask} of every masked weight after the loop."""
    sf_add_masks(model)
    model.train(train_mode)
    for epoch in range(epochs):
        scores = sf_scores(method, model, batches, input_shape)
        d = density ** ((epoch + 1) / epochs)
        flat = torch.cat([s.flatten() for s in scores.values()])
        k = int((1.0 - d) * flat.numel())
        if not k < 1:
            threshold, _ = torch.kthvalue(flat, k)
            with torch.no_grad():
                for n, m in prunable(model):
                    m.weight_mask.copy_(torch.where(scores[n] <= threshold, torch.zeros_like(m.weight_mask), torch.ones_like(m.weight_mask)))
    return {n: m.weight_mask.detach().clone() for n, m in prunable(model)}


# ---- GraSP, the authors' code ----

def grasp_original(model, x, y, target_ratio, T=200.0):
    ratio = 1 - (1 - target_ratio) ** (1.0 / 1)
    keep_ratio = 1 - ratio
    net = copy.deepcopy(model)
    net.train()
    net.zero_grad()
    layers = prunable(net)
    weights = [m.weight for _, m in layers]
    n = x.shape[0]
    halves = [(x[:n // 2], y[:n // 2]), (x[n // 2:], y[n // 2:])]
    grad_w = None
    for hx, hy in halves:
        g = torch.autograd.grad(F.cross_entropy(net(hx) / T, hy), weights)
        grad_w = list(g) if grad_w is None else [a + b for a, b in zip(grad_w, g)]
    for hx, hy in halves:
        g = torch.autograd.grad(F.cross_entropy(net(hx) / T, hy), weights, create_graph=True)
        z = 0
        for gw, gf in zip(grad_w, g):
            z = z + (gw.data * gf).sum()
        z.backward()
    S = {name: -m.weight.data * m.weight.grad for name, m in layers}
    all_scores = torch.cat([s.flatten() for s in S.values()])
    norm = torch.abs(torch.sum(all_scores)) + 1e-10
    all_scores = all_scores / norm
    n_rm = int(all_scores.numel() * (1 - keep_ratio))
    threshold, _ = torch.topk(all_scores, n_rm, sorted=True)
    acceptable = threshold[-1]
    return {name: ((s / norm) <= acceptable).double() for name, s in S.items()}


# ---- SNIP, the authors' code ----

def snip_original(model, x, y, target_sparsity):
    """Masks of the weights and, under 'bias.', of the biases (all scored together)."""
    model.eval()
    layers = prunable(model)
    keys = [(name, m, 'weight') for name, m in layers] + [(name[:-len('weight')] + 'bias', m, 'bias') for name, m in layers if m.bias is not None]
    c = {k: torch.ones_like(getattr(m, attr), requires_grad=True) for k, m, attr in keys}

    def forward_with(m, name):
        wname = name
        bname = name[:-len('weight')] + 'bias'
        w = c[wname] * m.weight
        b = c[bname] * m.bias if bname in c else m.bias
        if isinstance(m, nn.Conv2d):
            return lambda inp: m._conv_forward(inp, w, b)
        return lambda inp: F.linear(inp, w, b)

    for name, m in layers:
        m.forward = forward_with(m, name)
    loss = F.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, [c[k] for k, _, _ in keys])
    cs = [g.abs().flatten() for g in grads]
    vec = torch.cat(cs)
    vec = vec / vec.sum()
    kappa = int(round(vec.numel() * (1.0 - target_sparsity)))
    order = torch.sort(vec, descending=True, stable=True).indices[:kappa]
    keep = torch.zeros_like(vec)
    keep[order] = 1.0
    out, off = {}, 0
    for k, m, attr in keys:
        t = getattr(m, attr)
        out[k] = keep[off:off + t.numel()].reshape(t.shape)
        off += t.numel()
    return out


# ---- RigL ----

def tf_shape(shape):
    """PyTorch [out, in, kh, kw] / [out, in] as TensorFlow lays the kernel out: [kh, kw, in, out] / [in, out]."""
    if len(shape) == 4:
        return [shape[2], shape[3], shape[1], shape[0]]
    return [shape[1], shape[0]]


def rigl_sparsities(layers, default_sparsity, custom_sparsity_map, include_kernel, erk_power_scale=1.0):
    """layers: [(name, tf_shape)]. Returns {name: sparsity}."""
    dense_layers = set()
    is_eps_valid = False
    while not is_eps_valid:
        divisor = 0
        rhs = 0
        raw = {}
        for name, shape in layers:
            n_param = np.prod(shape)
            n_zeros = int(np.floor(default_sparsity * n_param))
            if name in dense_layers:
                rhs -= n_zeros
            elif name in custom_sparsity_map:
                pass
            else:
                rhs += n_param - n_zeros
                if include_kernel:
                    raw[name] = (np.sum(shape) / np.prod(shape)) ** erk_power_scale
                else:
                    n_in, n_out = shape[-2:]
                    raw[name] = (n_in + n_out) / (n_in * n_out)
                divisor += raw[name] * n_param
        eps = rhs / divisor
        max_prob = np.max(list(raw.values()))
        if max_prob * eps > 1:
            for name, p in raw.items():
                if p == max_prob:
                    dense_layers.add(name)
        else:
            is_eps_valid = True
    out = {}
    for name, shape in layers:
        if name in custom_sparsity_map:
            out[name] = custom_sparsity_map[name]
        elif name in dense_layers:
            out[name] = 0.0
        else:
            out[name] = 1.0 - eps * raw[name]
    return out


def rigl_kept(layers, sparsities):
    return {name: int(np.prod(shape)) - int(np.floor(sparsities[name] * np.prod(shape))) for name, shape in layers}


# ---- Gadhikar et al. ----

def gadhikar_balanced(sizes, density):
    x = density * sum(sizes) / len(sizes)
    return [x / n if x / n < 1.0 else 1 for n in sizes]


def gadhikar_pyramidal(sizes, density):
    coefficients = list(reversed(sizes)) + [-sum(sizes) * density]
    root = None
    for r in np.roots(np.array(coefficients, dtype=np.float64)):
        if 0 < r.real < 1 and r.imag == 0:
            root = r.real
    return [root ** (l + 1) for l in range(len(sizes))]
