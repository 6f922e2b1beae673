#!/usr/bin/python3
"""LSQ quantizer throughput in PyTorch, side by side with the JMH benchmark QuantizerJmh (samples).

The paper's pseudocode (Esser et al., ICLR 2020, Fig. 2 / Appendix): gradscale and roundpass with
detach, clipping with hardtanh (gradient 1 strictly inside the range, as LSQ-SPEC.md requires):

    vhat = roundpass(hardtanh(v / gradscale(s, g), -Qn, Qp)) * gradscale(s, g)

on one float32 vector (default 2^20 elements), 4-bit signed, one step per tensor,
g = 1/sqrt(N * Qp), loss = (vhat * upstream).sum(). Times forward only (under no_grad and with
autograd recording) and forward+backward; for information also PyTorch's fused
torch._fake_quantize_learnable_per_tensor_affine (which decides the clip on the rounded value, so
it is not the paper's gradient at the two ends). Method: warmup, then
timed repetitions one by one with perf_counter; median and best, in million elements per second.

Run with Debian's python3-torch: /usr/bin/python3 samples/bench/quantizer_bench.py [--threads 2]
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F

BITS = 4
QN = 2 ** (BITS - 1)
QP = 2 ** (BITS - 1) - 1


def gradscale(x, scale):
    y_out = x
    y_grad = x * scale
    return (y_out - y_grad).detach() + y_grad


def roundpass(x):
    y_out = x.round()
    y_grad = x
    return (y_out - y_grad).detach() + y_grad


def lsq(v, s, g):
    s = gradscale(s, g)
    v = v / s
    v = F.hardtanh(v, -QN, QP)
    vbar = roundpass(v)
    return vbar * s


def timed(name, n, warmup, reps, body):
    for _ in range(warmup):
        body()
    ms = []
    for _ in range(reps):
        t0 = time.perf_counter()
        body()
        ms.append((time.perf_counter() - t0) * 1e3)
    return name, statistics.median(ms), min(ms)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1 << 20)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    n = args.n
    v0 = torch.randn(n)
    up = torch.randn(n)
    s0 = 2 * v0.abs().mean() / QP ** 0.5
    g = 1.0 / (n * QP) ** 0.5
    v = v0.clone().requires_grad_(True)
    s = s0.clone().reshape(1).requires_grad_(True)
    print(f"PyTorch {torch.__version__}, threads {torch.get_num_threads()}, n={n} float32, "
          f"{BITS}-bit signed, per tensor; warmup {args.warmup}, {args.reps} timed reps")

    def fwd_nograd():
        with torch.no_grad():
            return lsq(v, s, g)

    def fwd_autograd():
        return lsq(v, s, g)

    def fwd_bwd():
        v.grad = None
        s.grad = None
        loss = (lsq(v, s, g) * up).sum()
        loss.backward()

    # Fused op: scale s, zero point 0, integer range [-Qn, Qp], grad_factor g.
    zp = torch.zeros(1)

    def fused_fwd_bwd():
        v.grad = None
        s.grad = None
        vhat = torch._fake_quantize_learnable_per_tensor_affine(v, s, zp, -QN, QP, g)
        (vhat * up).sum().backward()

    def fused_fwd():
        with torch.no_grad():
            return torch._fake_quantize_learnable_per_tensor_affine(v, s, zp, -QN, QP, g)

    # Pre-warm every body first: the first large allocations of a process are slow here (glibc
    # adapts its mmap threshold; fresh pages fault), and that must not land on whichever runs first.
    for _ in range(args.warmup):
        for body in (fwd_nograd, fwd_autograd, fwd_bwd, fused_fwd, fused_fwd_bwd):
            body()
    rows = [
        timed("pseudocode forward (no_grad)", n, args.warmup, args.reps, fwd_nograd),
        timed("pseudocode forward (autograd recording)", n, args.warmup, args.reps, fwd_autograd),
        timed("pseudocode fwd+bwd", n, args.warmup, args.reps, fwd_bwd),
        timed("fused _fake_quantize_learnable forward (no_grad)", n, args.warmup, args.reps, fused_fwd),
        timed("fused _fake_quantize_learnable fwd+bwd", n, args.warmup, args.reps, fused_fwd_bwd),
    ]
    print(f"{'what':55s} {'median ms':>12s} {'best ms':>12s} {'median Mel/s':>12s} {'best Mel/s':>12s}")
    for name, med, best in rows:
        print(f"{name:55s} {med:12.3f} {best:12.3f} {n / med / 1e3:12.1f} {n / best / 1e3:12.1f}")

    # sanity: the pseudocode's step gradient against the closed form of LSQ-SPEC.md
    fwd_bwd()
    x = (v0 / s0)
    inside = (x > -QN) & (x < QP)
    ds = torch.where(inside, x.round() - x, torch.where(x <= -QN, torch.tensor(-float(QN)), torch.tensor(float(QP))))
    ds_ref = g * (up * ds).sum()
    print(f"check: step gradient {s.grad.item():.6g} vs closed form {ds_ref.item():.6g}; "
          f"v gradient max|diff| {(v.grad - up * inside).abs().max().item():.3g}")


if __name__ == "__main__":
    main()
