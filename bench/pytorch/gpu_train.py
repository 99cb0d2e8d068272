"""The PyTorch twin of bench/gpu-train.ts: a masked ResNet-50 (torchvision's architecture, 90%
random layerwise-uniform sparsity) trained the usual PyTorch way on the same batches' shapes:
plain (gradients and weights multiplied by the mask around torch.optim.SGD) and Sign-In
(torch.nn.utils.parametrize, theta = mask * m * w, as in resnet20.py); fp32, bf16 autocast
(torch.autocast), and bf16 with channels_last (model and inputs, PyTorch's recipe). Reports the
median synchronized step time after warm-up and torch.cuda.max_memory_allocated.

    python3 bench/pytorch/gpu_train.py --out file.json [--tiny]
--tiny: CPU, batch 2, 32 px, 1 + 2 steps, the same two variants as the TS side (a dry run).
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resnet20 import MaskedTrainer  # noqa: E402


class Bottleneck(nn.Module):
    def __init__(self, cin, width, stride):
        super().__init__()
        cout = width * 4
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet50(nn.Module):
    def __init__(self, classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        blocks, cin = [], 64
        for i, (width, n) in enumerate([(64, 3), (128, 4), (256, 6), (512, 3)]):
            layer = []
            for j in range(n):
                layer.append(Bottleneck(cin, width, 2 if (i > 0 and j == 0) else 1))
                cin = width * 4
            blocks.append(nn.Sequential(*layer))
        self.layer1, self.layer2, self.layer3, self.layer4 = blocks
        self.fc = nn.Linear(2048, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


VARIANTS = [dict(signin=s, amp=a, channelsLast=c) for s in (False, True) for a, c in ((False, False), ("bf16", False), ("bf16", True))]


def measure(v, device, batch, size, warmup, steps):
    torch.manual_seed(0)
    model = ResNet50()
    trainer = MaskedTrainer(model, 0.1, v["signin"])
    model.to(device)
    if v["channelsLast"]:
        model.to(memory_format=torch.channels_last)
    # The optimizer was made before the move; torch.optim.SGD holds the same Parameter objects.
    model.train()
    cuda = device.startswith("cuda")
    batches = [(torch.randn(batch, 3, size, size, device=device), torch.randint(0, 1000, (batch,), device=device)) for _ in range(2)]
    if v["channelsLast"]:
        batches = [(x.contiguous(memory_format=torch.channels_last), y) for x, y in batches]
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    step_ms, loss = [], float("nan")
    for i in range(warmup + steps):
        x, y = batches[i % 2]
        t0 = time.perf_counter()
        with torch.autocast(device_type="cuda" if cuda else "cpu", dtype=torch.bfloat16, enabled=v["amp"] is not False):
            out = model(x)
            l = F.cross_entropy(out, y)
        trainer.opt.zero_grad(set_to_none=True)
        l.backward()
        for p, m in trainer.masks.values():
            p.grad.mul_(m)
        trainer.opt.step()
        with torch.no_grad():
            for p, m in trainer.masks.values():
                p.mul_(m)
        if i == warmup + steps - 1:
            loss = l.item()
        if cuda:
            torch.cuda.synchronize()
        if i >= warmup:
            step_ms.append((time.perf_counter() - t0) * 1000)
    med = statistics.median(step_ms)
    peak = torch.cuda.max_memory_allocated() if cuda else None
    return dict(v, stepMs=step_ms, medianStepMs=med, imagesPerSec=batch / (med / 1000), peakAllocatedBytes=peak, finalLoss=loss)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--tiny", action="store_true")
    a = ap.parse_args()
    p = dict(device="cpu", batch=2, size=32, warmup=1, steps=2) if a.tiny else dict(device="cuda", batch=256, size=224, warmup=3, steps=10)
    results = []
    for v in ([VARIANTS[0], VARIANTS[-1]] if a.tiny else VARIANTS):
        results.append(measure(v, **p))
        # Rewritten (whole, by a rename) after every variant: a run stopped by gpu-check's time box
        # keeps what it measured.
        with open(a.out + ".tmp", "w") as f:
            json.dump(dict(impl="pytorch", torch=torch.__version__, model="resnet50", sparsity=0.9, results=results, **p), f, indent=2)
        os.replace(a.out + ".tmp", a.out)
        print("gpu_train.py:", json.dumps({k: x for k, x in results[-1].items() if k != "stepMs"}), file=sys.stderr, flush=True)
        if p["device"] == "cuda":
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
