"""The reference side of the engine benchmarks: a masked CIFAR ResNet-20 (option B shortcuts,
the toolkit's parameter names) in PyTorch on the same libtorch, trained the usual PyTorch way.

- plain: the PaI recipe, gradients and weights multiplied by the mask around torch.optim.SGD;
- Sign-In: each masked weight is reparameterized as theta = mask * m * w with
  torch.nn.utils.parametrize (m, w initialized by the split m = sqrt((beta + sqrt(beta^2 +
  4 theta^2)) / 2), w = theta / m), and torch.optim.SGD trains m and w.
Also process counters from /proc (page faults, RSS, peak RSS) for the memory benchmark.
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.parametrize as parametrize

# The ResNet is test/helpers/cifar_resnet.py, the model that the parity test checks against ours,
# so both sides of a benchmark train the same network; the benchmark scripts import it from here.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "helpers"))
from cifar_resnet import CifarResNet  # noqa: E402,F401


class SignIn(nn.Module):
    """theta = mask * m * w; right_inverse splits a masked theta into (m, w) with m^2 - w^2 = beta."""

    def __init__(self, mask, beta=1.0):
        super().__init__()
        self.register_buffer("mask", mask)
        self.beta = beta

    def forward(self, m, w):
        return self.mask * m * w

    def right_inverse(self, theta):
        theta = theta * self.mask
        m = torch.sqrt((self.beta + torch.sqrt(self.beta ** 2 + 4 * theta * theta)) / 2)
        return m, theta / m


class MaskedTrainer:
    """One training step of a masked model, timed by phase: forward (+ loss), backward
    (zero_grad + backward), optimizer (mask the gradients, step, mask the weights). With
    channels_last, PyTorch's recipe for it: the model and each input batch in that format."""

    def __init__(self, model, densities, signin, lr=0.1, momentum=0.9, weight_decay=1e-4, channels_last=False):
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.model = model.to(memory_format=self.memory_format)
        self.masks = {}
        for name, p in list(model.named_parameters()):
            if p.dim() not in (2, 4):
                continue
            d = densities[name] if isinstance(densities, dict) else densities
            mask = (torch.rand_like(p) < d).float()
            if signin:
                module = model.get_submodule(name.rsplit(".", 1)[0])
                parametrize.register_parametrization(module, "weight", SignIn(mask))
            else:
                self.masks[name] = (p, mask)
                with torch.no_grad():
                    p.mul_(mask)
        self.opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)

    def step(self, x, y, clock=None):
        t0 = clock() if clock else 0
        out = self.model(x.contiguous(memory_format=self.memory_format))
        loss = F.cross_entropy(out, y)
        t1 = clock() if clock else 0
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        t2 = clock() if clock else 0
        for p, m in self.masks.values():
            p.grad.mul_(m)
        self.opt.step()
        with torch.no_grad():
            for p, m in self.masks.values():
                p.mul_(m)
        t3 = clock() if clock else 0
        return loss, out, (t1 - t0, t2 - t1, t3 - t2)


def num_params(model):
    """Parameters as the plain model counts them (a Sign-In weight counts once, as theta)."""
    n = 0
    for name, p in model.named_parameters():
        n += p.numel() if not name.endswith("original1") else 0
    return n


def proc_counters():
    with open("/proc/self/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split(" ")
    status = {}
    with open("/proc/self/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            status[k] = v.strip()
    kb = lambda k: int(status[k].split()[0])
    return {"minflt": int(fields[7]), "majflt": int(fields[9]), "rssMb": kb("VmRSS") / 1024, "hwmMb": kb("VmHWM") / 1024}


def params():
    return json.loads(sys.argv[1])


def emit(result):
    print(json.dumps(result))
