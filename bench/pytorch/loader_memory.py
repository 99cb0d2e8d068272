"""The PyTorch side of bench/loader-memory.ts: torchvision ImageFolder (PIL) + RandomResizedCrop(224)
+ flip + ToTensor + Normalize through a torch DataLoader (num_workers w, prefetch_factor 2),
`batches` batches with x.mean().item() per batch, one libtorch thread per process.

Parameters (JSON argv[1]): root, batch, workers, batches, mean, std. Prints {"start", "held",
"samples", "hwm"}: samples after each batch's consumer (held: x still alive; samples: after it was
dropped) of Pss_Anon + Pss_File and RSS (MiB) summed over this process and its worker processes
(/proc/<pid>/smaps_rollup, status), the machine's Shmem (/proc/meminfo; the workers' batches travel
in shared memory, mapped by nobody while queued) and the tree's page faults so far (a worker's
count starts with the worker, after `start`); start
before the first batch is asked for (no worker started yet); hwm this process's VmHWM (MiB).
"""
import multiprocessing

import torch
import torchvision.transforms as T
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder

from resnet20 import emit, params


def field(path, key):
    with open(path) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(key)


def faults(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[7]), int(fields[9])


def sample():
    pids = ["self"] + [str(p.pid) for p in multiprocessing.active_children()]
    pss = rss = 0.0
    minflt = majflt = 0
    for pid in pids:
        try:
            pss += field(f"/proc/{pid}/smaps_rollup", "Pss_Anon") + field(f"/proc/{pid}/smaps_rollup", "Pss_File")
            rss += field(f"/proc/{pid}/status", "VmRSS")
            minor, major = faults(pid)
            minflt += minor
            majflt += major
        except FileNotFoundError:  # a worker that exited between the listing and the read
            pass
    return {"pss": pss, "shmem": field("/proc/meminfo", "Shmem"), "rss": rss, "minflt": minflt, "majflt": majflt}


def main():
    p = params()
    torch.set_num_threads(1)
    tf = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize(p["mean"], p["std"])])
    ds = ImageFolder(p["root"], transform=tf)
    dl = DataLoader(ds, batch_size=p["batch"], shuffle=True, num_workers=p["workers"], drop_last=True)
    start = sample()
    held = []
    samples = []
    for x, _ in dl:
        x.mean().item()
        held.append(sample())
        del x
        samples.append(sample())
        if len(samples) == p["batches"]:
            break
    emit({"start": start, "held": held, "samples": samples, "hwm": field("/proc/self/status", "VmHWM")})


if __name__ == "__main__":
    main()
