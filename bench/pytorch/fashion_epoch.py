"""One training epoch of a masked ResNet-20 (1 input channel) on Fashion-MNIST in PyTorch on the
same libtorch, the reference side of bench/epoch.ts: the IDX files from
/usr/share/datasets/fashion-mnist, scaled to [0, 1] and normalized (mean 0.286, std 0.353), a
DataLoader over the tensors in memory (batch 128, shuffled, last partial batch dropped, no
workers), masks with the per-layer densities that the toolkit's Random-ERK gave (passed in),
masking around torch.optim.SGD (lr 0.1, momentum 0.9, weight decay 5e-4); loss and accuracy
tracked per step as a training loop does.

Parameters (JSON argv[1]): threads, batch, steps (0 = the whole epoch), densities {name: d}, root,
channelsLast (optional: the model and each batch channels_last, PyTorch's recipe for it).
Prints {"epochS", "steps", "waitS", "loss", "accuracy", "peakRssMiB"}.
"""
import gzip
import os
import resource
import time

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from resnet20 import CifarResNet, MaskedTrainer, emit, params


def idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find(root, name):
    for suffix in ("", ".gz"):
        if os.path.exists(os.path.join(root, name + suffix)):
            return os.path.join(root, name + suffix)
    raise FileNotFoundError(f"{name} under {root}")


def main():
    p = params()
    torch.set_num_threads(p["threads"])
    torch.manual_seed(0)
    images = idx(find(p["root"], "train-images-idx3-ubyte"))
    labels = idx(find(p["root"], "train-labels-idx1-ubyte"))
    x = (torch.from_numpy(images.copy()).float().div_(255).sub_(0.286).div_(0.353)).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    loader = DataLoader(TensorDataset(x, y), batch_size=p["batch"], shuffle=True, drop_last=True)
    model = CifarResNet(in_channels=1)
    densities = p["densities"]
    missing = [n for n, q in model.named_parameters() if q.dim() in (2, 4) and n not in densities]
    if missing:
        raise SystemExit(f"no density for {missing}")
    trainer = MaskedTrainer(model, densities, False, lr=0.1, momentum=0.9, weight_decay=5e-4, channels_last=p.get("channelsLast", False))
    model.train()
    steps, wait, loss_sum, correct, seen = 0, 0.0, 0.0, 0, 0
    t0 = time.perf_counter()
    it = iter(loader)
    while not p["steps"] or steps < p["steps"]:
        tw = time.perf_counter()
        try:
            xb, yb = next(it)
        except StopIteration:
            break
        wait += time.perf_counter() - tw
        loss, out, _ = trainer.step(xb, yb)
        loss_sum += loss.item() * len(yb)
        correct += int((out.argmax(1) == yb).sum())
        seen += len(yb)
        steps += 1
    epoch_s = time.perf_counter() - t0
    # ru_maxrss is in KiB on Linux: the process's VmHWM, as the Node side reports it.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    emit({"epochS": epoch_s, "steps": steps, "waitS": wait, "loss": loss_sum / seen, "accuracy": correct / seen, "peakRssMiB": peak})


if __name__ == "__main__":
    main()
