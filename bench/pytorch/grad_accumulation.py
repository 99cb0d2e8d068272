"""The PyTorch side of bench/grad-accumulation.ts: torchvision's ResNet-50 in channels_last, SGD
with momentum, a batch of 3x224x224 images split into `accum` micro-batches, each loss scaled by
its share and backpropagated, then one optimizer step (the usual accumulation loop).

Parameters (JSON argv[1]): batch, accum, steps. Prints {"peakMiB", "stepMs"}: the resident set's
peak (VmHWM) over the one after the model and optimizer were built, and the last step's time.
"""
import time

import torch
import torch.nn.functional as F
import torchvision

from resnet20 import emit, params, proc_counters


def main():
    p = params()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    model = torchvision.models.resnet50(num_classes=1000).to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    base = proc_counters()["rssMb"]
    x = torch.randn(p["batch"], 3, 224, 224).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (p["batch"],))
    step_ms = 0.0
    for _ in range(p["steps"]):
        t0 = time.perf_counter()
        for xi, yi in zip(x.chunk(p["accum"]), y.chunk(p["accum"])):
            (F.cross_entropy(model(xi), yi) * (len(yi) / len(y))).backward()
        opt.step()
        opt.zero_grad()
        step_ms = (time.perf_counter() - t0) * 1000
    emit({"peakMiB": proc_counters()["hwmMb"] - base, "stepMs": step_ms})


main()
