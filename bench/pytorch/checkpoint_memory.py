"""The PyTorch side of bench/checkpoint-memory.ts: torchvision's ResNet-50, SGD with momentum,
batch 2 of 3x64x64, a number of steps; checkpoints written with torch.save of the model's and
optimizer's state dicts (to a temporary file renamed over the target) or restored with torch.load
and load_state_dict.

Parameters (JSON argv[1]): variant (train, save, resume, write), steps, file. Prints
{"rssMiB", "peakMiB"}: the resident set after the last step and its peak (VmHWM).
"""
import os

import torch
import torch.nn.functional as F
import torchvision

from resnet20 import emit, params, proc_counters


def main():
    p = params()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    model = torchvision.models.resnet50(num_classes=1000)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(2, 3, 64, 64)
    y = torch.randint(0, 1000, (2,))
    if p["variant"] == "resume":
        state = torch.load(p["file"])
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optim"])
        del state
    steps = 1 if p["variant"] == "write" else p["steps"]
    for i in range(steps):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if p["variant"] in ("save", "write"):
            tmp = p["file"] + ".tmp"
            torch.save({"model": model.state_dict(), "optim": opt.state_dict(), "step": i + 1}, tmp)
            os.replace(tmp, p["file"])
    c = proc_counters()
    emit({"rssMiB": c["rssMb"], "peakMiB": c["hwmMb"]})


if __name__ == "__main__":
    main()
