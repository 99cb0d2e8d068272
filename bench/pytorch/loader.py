"""torchvision's ImageFolder pipeline (PIL decode, RandomResizedCrop(224), flip, ToTensor,
Normalize) through a DataLoader with num_workers w, one libtorch thread per process: images/s
over `epochs` epochs after a warm-up epoch, and the CPU time (user + sys) per image of this
process and its worker processes over those epochs. The twin of bench/loader.ts's sharp pipeline.

  /usr/bin/python3 bench/pytorch/loader.py '{"root": ..., "batch": 50, "epochs": 2, "workers": 1, "mean": [...], "std": [...]}'

With "breakdown": true it instead gives the CPU ms per image of each stage, one image at a time in
this process (median over `rounds` passes over the folder): reading the file, decode (open +
convert('RGB')), RandomResizedCrop, flip, ToTensor, Normalize, the whole transform from the file,
default_collate's stack of a batch, and whole DataLoader epochs with 0 and 1 worker processes
(the difference is what the worker process and the transfer of batches cost).
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


def epoch_cpu(dl):
    """CPU ms per image (this process and its worker processes) of one epoch of a warmed-up loader."""
    for _ in dl:
        pass
    pids = [p.pid for p in multiprocessing.active_children()]
    c0 = own_cpu() + worker_cpu(pids)
    for _ in dl:
        pass
    return (own_cpu() + worker_cpu(pids) - c0) * 1e3 / len(dl.dataset)


def breakdown(cfg):
    from PIL import Image
    from torch.utils.data import default_collate
    ds = ImageFolder(cfg['root'])
    files = [f for f, _ in ds.samples]
    crop, flip, to_tensor, norm = T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize(cfg['mean'], cfg['std'])
    whole = T.Compose([crop, flip, to_tensor, norm])
    batch = cfg.get('batchOf', 50)

    def read(i):
        with open(files[i], 'rb') as f:
            return f.read()

    def load(i):
        with open(files[i], 'rb') as f:
            return Image.open(f).convert('RGB')

    imgs = [load(i) for i in range(len(files))]
    crops = [crop(im) for im in imgs]
    tensors = [to_tensor(c) for c in crops]
    samples = [(norm(t), 0) for t in tensors]

    def collate(i):
        # Charged per image: one batch every `batch` images.
        if i % batch == 0:
            default_collate(samples[i:i + batch])

    stages = {
        'read the file': read,
        'decode (open + convert RGB)': load,
        'RandomResizedCrop(224)': lambda i: crop(imgs[i]),
        'flip': lambda i: flip(crops[i]),
        'ToTensor': lambda i: to_tensor(crops[i]),
        'Normalize': lambda i: norm(tensors[i]),
        'all, from the file': lambda i: whole(load(i)),
        f'collate (torch.stack of {batch} samples)': collate,
    }
    runs = {k: [] for k in stages}
    rounds = cfg.get('rounds', 3)
    for _ in range(rounds):
        for k, fn in stages.items():
            c0 = time.process_time()
            for i in range(len(files)):
                fn(i)
            runs[k].append((time.process_time() - c0) * 1e3 / len(files))
    full = ImageFolder(cfg['root'], transform=whole)
    for w in (0, 1):
        dl = DataLoader(full, batch_size=batch, shuffle=True, num_workers=w, persistent_workers=w > 0)
        runs[f'DataLoader, batch {batch}, {w} worker(s): every process, per image'] = [epoch_cpu(dl) for _ in range(rounds)]
        del dl
    return {k: sorted(v)[len(v) // 2] for k, v in runs.items()}


cfg = json.loads(sys.argv[1])
torch.set_num_threads(1)
if cfg.get('breakdown'):
    print(json.dumps({'cpuMsPerImage': breakdown(cfg)}))
    sys.exit(0)
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
