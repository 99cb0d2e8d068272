"""The PyTorch side of bench/gpu-signin-step.ts: the same update without a fused kernel, as a
parametrized model trains (theta = mask * m * w forward, backward for m.grad and w.grad, then
torch.optim.SGD's foreach update on m and w), and a device-to-device copy of the same 44 bytes
per element, both as the median per call of back-to-back calls between synchronizes.

    python3 bench/pytorch/gpu_signin_step.py --out file.json [--tiny]
"""
import argparse
import json
import statistics
import sys
import time

import torch

BYTES_PER_ELEMENT = 11 * 4


def sample_ms(fn, sync, batch, samples, warmup):
    out = []
    for s in range(warmup + samples):
        sync()
        t0 = time.perf_counter()
        for _ in range(batch):
            fn()
        sync()
        if s >= warmup:
            out.append((time.perf_counter() - t0) * 1000 / batch)
    return statistics.median(out)


def bench_size(numel, device, batch, samples, warmup):
    mask = (torch.rand(numel, device=device) < 0.2).float()
    m = (torch.rand(numel, device=device) * 0.4 + 0.8).requires_grad_()
    w = (torch.randn(numel, device=device) * 0.05).requires_grad_()
    g = torch.randn(numel, device=device)
    opt = torch.optim.SGD([m, w], lr=0.05, momentum=0.9, weight_decay=5e-4)
    copy_elems = round(numel * BYTES_PER_ELEMENT / 2 / 4)
    src = torch.randn(copy_elems, device=device)
    dst = torch.randn(copy_elems, device=device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def unfused():
        (mask * m * w).backward(g)
        opt.step()
        opt.zero_grad(set_to_none=True)

    unfused_ms = sample_ms(unfused, sync, batch, samples, warmup)
    copy_ms = sample_ms(lambda: dst.copy_(src), sync, batch, samples, warmup)
    b = numel * BYTES_PER_ELEMENT
    return dict(numel=numel, bytes=b, unfusedMs=unfused_ms, copyMs=copy_ms, copyGBs=b / (copy_ms * 1e6))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--tiny", action="store_true")
    a = ap.parse_args()
    device = "cpu" if a.tiny else "cuda"
    sizes = [100_000] if a.tiny else [25_600_000, 100_000_000]
    p = dict(batch=2, samples=3, warmup=1) if a.tiny else dict(batch=20, samples=15, warmup=3)
    rows = [bench_size(n, device, **p) for n in sizes]
    for r in rows:
        print("gpu_signin_step.py:", json.dumps(r), file=sys.stderr)
    with open(a.out, "w") as f:
        json.dump(dict(impl="pytorch", torch=torch.__version__, device=device, rows=rows, **p), f, indent=2)


if __name__ == "__main__":
    main()
