"""The PyTorch side of bench/dataset-memory.ts: a dataset's train and test splits loaded into
memory as torchvision holds them, in a fresh process.

- fashion-raw: torchvision.datasets.FashionMNIST(root) over FashionMNIST/raw (uint8 tensors).
- cifar10: the binary version's batches read with numpy and kept as torchvision's CIFAR10 keeps
  its data (one uint8 array, N x 32 x 32 x 3 by a transpose, and a list of int labels).

Parameters (JSON argv[1]): dataset, root. Prints {"dataMiB", "grownMiB", "peakMiB"}: the bytes
held, and the resident set after the load and at its peak over the one before it.
"""
import os

import numpy as np
import torch  # noqa: F401  (imported before the baseline, as the Node side imports the toolkit)
import torchvision

from resnet20 import emit, params

MIB = 2 ** 20


def status_mib(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(key)


def cifar(root, names):
    records = np.vstack([np.fromfile(os.path.join(root, n + ".bin"), dtype=np.uint8).reshape(-1, 3073) for n in names])
    labels = records[:, 0].tolist()
    data = np.ascontiguousarray(records[:, 1:]).reshape(-1, 3, 32, 32).transpose((0, 2, 3, 1))
    return data, labels


def main():
    p = params()
    before = status_mib("VmRSS")
    if p["dataset"] == "cifar10":
        splits = [cifar(p["root"], [f"data_batch_{i}" for i in range(1, 6)]), cifar(p["root"], ["test_batch"])]
        held = sum(d.nbytes + 8 * len(l) for d, l in splits)
    else:
        sets = [torchvision.datasets.FashionMNIST(p["root"], train=t) for t in (True, False)]
        held = sum(t.element_size() * t.nelement() for s in sets for t in (s.data, s.targets))
    emit({"dataMiB": held / MIB, "grownMiB": status_mib("VmRSS") - before, "peakMiB": status_mib("VmHWM") - before})


if __name__ == "__main__":
    main()
