"""Step time of the masked ResNet-20 by phase, the PyTorch side of bench/step-time.ts. One
process is one round: warm-up steps, then timed steps on a pool of random batches.

Parameters (JSON argv[1]): threads, steps, warmup, batch, density, signin, channelsLast (optional).
Prints {"params", "forward", "backward", "optimizer", "total"}: per-step times in ms.
"""
import time

import torch

from resnet20 import CifarResNet, MaskedTrainer, emit, num_params, params


def main():
    p = params()
    torch.set_num_threads(p["threads"])
    torch.manual_seed(0)
    model = CifarResNet()
    trainer = MaskedTrainer(model, p["density"], p["signin"], channels_last=p.get("channelsLast", False))
    # A pool of batches: one repeated batch lets the loss collapse towards denormal numbers.
    pool = [(torch.randn(p["batch"], 3, 32, 32), torch.randint(0, 10, (p["batch"],))) for _ in range(4)]
    out = {"forward": [], "backward": [], "optimizer": [], "total": []}
    for i in range(p["warmup"] + p["steps"]):
        x, y = pool[i % len(pool)]
        t0 = time.perf_counter()
        _, _, phases = trainer.step(x, y, time.perf_counter)
        total = time.perf_counter() - t0
        if i >= p["warmup"]:
            for k, v in zip(("forward", "backward", "optimizer"), phases):
                out[k].append(1000 * v)
            out["total"].append(1000 * total)
    out["params"] = num_params(model)
    emit(out)


if __name__ == "__main__":
    main()
