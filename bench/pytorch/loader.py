"""torchvision's ImageFolder pipeline (PIL decode, RandomResizedCrop(224), flip, ToTensor,
Normalize) through a DataLoader with num_workers w, one libtorch thread per process: images/s
over `epochs` epochs after a warm-up epoch. The twin of bench/loader.ts's sharp pipeline.

  /usr/bin/python3 bench/pytorch/loader.py '{"root": ..., "batch": 50, "epochs": 2, "workers": 1, "mean": [...], "std": [...]}'
"""
import json
import sys
import time

import torch
import torchvision.transforms as T
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder

cfg = json.loads(sys.argv[1])
torch.set_num_threads(1)
tf = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize(cfg['mean'], cfg['std'])])
ds = ImageFolder(cfg['root'], transform=tf)
w = cfg['workers']
dl = DataLoader(ds, batch_size=cfg['batch'], shuffle=True, num_workers=w, persistent_workers=w > 0)
for _ in dl:
    pass
t0 = time.perf_counter()
for _ in range(cfg['epochs']):
    for _ in dl:
        pass
print(json.dumps({'imagesPerSecond': cfg['epochs'] * len(ds) / (time.perf_counter() - t0)}))
