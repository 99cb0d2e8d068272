"""Training-step time of a masked CIFAR ResNet-20 (option B shortcuts, torchvision names) in
PyTorch on the same libtorch, the reference side of bench/step-time.ts.

Masking is the usual PaI recipe in PyTorch: gradients and weights are multiplied by the mask
around torch.optim.SGD's step. Prints one JSON line: {"median_ms", "params", "threads"}.
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


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
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet20(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, cin = [], 16
        for i, c in enumerate([16, 32, 64]):
            blocks = []
            for j in range(3):
                blocks.append(Block(cin, c, 2 if (i > 0 and j == 0) else 1))
                cin = c
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def main():
    threads, steps, batch, density = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = ResNet20()
    masks = {}
    for name, p in model.named_parameters():
        if p.dim() in (2, 4):
            masks[name] = (torch.rand_like(p) < density).float()
            with torch.no_grad():
                p.mul_(masks[name])
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    x = torch.randn(batch, 3, 32, 32)
    y = torch.randint(0, 10, (batch,))
    params = dict(model.named_parameters())
    times = []
    for i in range(steps + 3):
        t0 = time.perf_counter()
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        for name, m in masks.items():
            params[name].grad.mul_(m)
        opt.step()
        with torch.no_grad():
            for name, m in masks.items():
                params[name].mul_(m)
        if i >= 3:
            times.append(time.perf_counter() - t0)
    times.sort()
    print(json.dumps({"median_ms": 1000 * times[len(times) // 2], "params": sum(p.numel() for p in model.parameters()), "threads": threads}))


if __name__ == "__main__":
    main()
