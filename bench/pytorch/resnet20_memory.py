"""Memory over a long run of the masked ResNet-20 training step, the PyTorch side of
bench/memory.ts: the process's RSS and page-fault counters every `every` steps, and its peak RSS.

Parameters (JSON argv[1]): threads, steps, every, batch, density, signin.
Prints {"samples": [{"step", "rssMb", "minflt", "majflt"}], "hwmMb", "msPerStep", "params"}.
"""
import time

import torch

from resnet20 import CifarResNet, MaskedTrainer, emit, num_params, params, proc_counters


def main():
    p = params()
    torch.set_num_threads(p["threads"])
    torch.manual_seed(0)
    model = CifarResNet()
    trainer = MaskedTrainer(model, p["density"], p["signin"])
    pool = [(torch.randn(p["batch"], 3, 32, 32), torch.randint(0, 10, (p["batch"],))) for _ in range(4)]
    samples = [dict(step=0, **proc_counters())]
    t0 = time.perf_counter()
    for i in range(1, p["steps"] + 1):
        x, y = pool[i % len(pool)]
        trainer.step(x, y)
        if i % p["every"] == 0 or i == p["steps"]:
            samples.append(dict(step=i, **proc_counters()))
    ms = 1000 * (time.perf_counter() - t0) / p["steps"]
    emit({"samples": samples, "hwmMb": proc_counters()["hwmMb"], "msPerStep": ms, "params": num_params(model)})


if __name__ == "__main__":
    main()
