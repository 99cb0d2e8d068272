"""torchvision's ImageFolder pipeline (PIL decode, RandomResizedCrop(224), flip, ToTensor,
Normalize) through a DataLoader with num_workers w, one libtorch thread per process: images/s
over `epochs` epochs after a warm-up epoch, and the CPU time (user + sys) per image of this
process and its worker processes over those epochs. The twin of bench/loader.ts's sharp pipeline.

  /usr/bin/python3 bench/pytorch/loader.py '{"root": ..., "batch": 50, "epochs": 2, "workers": 1, "mean": [...], "std": [...]}'
"""
import json
import multiprocessing
import os
import resource
import sys
import time

import torch
import torchvision.transforms as T
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder

TICK = os.sysconf('SC_CLK_TCK')


def worker_cpu(pids):
    """utime + stime (seconds) of the given live processes, from /proc/<pid>/stat."""
    total = 0.0
    for pid in pids:
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def own_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


cfg = json.loads(sys.argv[1])
torch.set_num_threads(1)
tf = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize(cfg['mean'], cfg['std'])])
ds = ImageFolder(cfg['root'], transform=tf)
w = cfg['workers']
dl = DataLoader(ds, batch_size=cfg['batch'], shuffle=True, num_workers=w, persistent_workers=w > 0)
for _ in dl:
    pass
# persistent_workers: the same worker processes serve every later epoch.
pids = [p.pid for p in multiprocessing.active_children()]
c0 = own_cpu() + worker_cpu(pids)
t0 = time.perf_counter()
for _ in range(cfg['epochs']):
    for _ in dl:
        pass
seconds = time.perf_counter() - t0
cpu = own_cpu() + worker_cpu(pids) - c0
n = cfg['epochs'] * len(ds)
print(json.dumps({'imagesPerSecond': n / seconds, 'cpuMsPerImage': cpu * 1e3 / n, 'workerProcesses': len(pids)}))
