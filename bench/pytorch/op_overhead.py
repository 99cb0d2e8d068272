"""Per-op overhead in PyTorch eager on the same libtorch, the reference side of
bench/op-overhead.ts (1 libtorch thread):
- add: torch.add of two 16-element float32 tensors, `calls` calls (the result is freed by
  reference counting when the next call replaces it);
- mlp: one SGD step (momentum 0.9) of a 3-layer MLP (32-64-64-10, ReLU) at batch 1 with
  cross-entropy: zero_grad, forward, loss, backward, step; median over `steps` after `warmup`.

Parameters (JSON argv[1]): calls, steps, warmup. Prints {"addUs", "addCpuUs", "mlpStepUs"}
(addCpuUs: the add's CPU time of the process, as the TS side measures it; mlpStepUs is null when
steps is 0, as bench/op-overhead-floor.ts asks for the add alone).
"""
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from resnet20 import emit, params


def main():
    p = params()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    a, b = torch.randn(16), torch.randn(16)
    for _ in range(1000):
        c = torch.add(a, b)
    t0 = time.perf_counter()
    c0 = time.process_time()
    for _ in range(p["calls"]):
        c = torch.add(a, b)
    add_us = 1e6 * (time.perf_counter() - t0) / p["calls"]
    add_cpu_us = 1e6 * (time.process_time() - c0) / p["calls"]
    if p["steps"] == 0:
        emit({"addUs": add_us, "addCpuUs": add_cpu_us, "mlpStepUs": None})
        return

    model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = torch.randn(1, 32), torch.randint(0, 10, (1,))
    times = []
    for i in range(p["warmup"] + p["steps"]):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if i >= p["warmup"]:
            times.append(time.perf_counter() - t0)
    times.sort()
    emit({"addUs": add_us, "addCpuUs": add_cpu_us, "mlpStepUs": 1e6 * times[len(times) // 2]})


if __name__ == "__main__":
    main()
