#!/usr/bin/python3
"""PyTorch's side of bench/resnet-bench.sh: ResNet-8/20 of LSQ-SPEC.md, float or LSQ 4-bit.

The same network, data and optimizer as io.github.lsq4j.samples.bench.ResNetBenchmark: conv3x3 1->16
(no bias), BN, ReLU; three stages of basic blocks (widths 16, 32, 64; projection shortcuts where the
shape changes); global average pool; fully connected 64->10. Batch 128 of random 28x28x1 data, SGD
momentum 0.9, cross-entropy. LSQ: the paper's pseudocode quantizer (gradscale, roundpass, hardtanh) on
the weights and the input of every conv and fully connected layer, 4 bits, first and last layer at 8,
inputs unsigned after a ReLU; steps initialized as the paper says.

Prints one line: RESULT impl=pytorch depth=D variant=float|lsq4 train=images/s infer=images/s rssMB=peak.
Run with Debian's python3-torch: /usr/bin/python3 bench/resnet_bench.py --depth 8 --variant lsq4
"""
import argparse
import resource

import torch
import torch.nn as nn
import torch.nn.functional as F

from quantizer_bench import timed


def gradscale(x, scale):
    return (x - x * scale).detach() + x * scale


def roundpass(x):
    return (x.round() - x).detach() + x


class Quantizer(nn.Module):
    """vhat = roundpass(hardtanh(v / s, -Qn, Qp)) * s, s scaled by g in the backward pass."""

    def __init__(self, bits, signed, per_example):
        super().__init__()
        self.qn = 2 ** (bits - 1) if signed else 0
        self.qp = 2 ** (bits - 1) - 1 if signed else 2 ** bits - 1
        self.per_example = per_example
        self.step = nn.Parameter(torch.zeros(()))

    def forward(self, v):
        if self.step.item() == 0:  # the paper's initialization, on the weights or the first batch
            with torch.no_grad():
                self.step.fill_(2 * v.abs().mean().item() / self.qp ** 0.5)
        n = v[0].numel() if self.per_example else v.numel()
        s = gradscale(self.step, 1.0 / (n * self.qp) ** 0.5)
        return roundpass(F.hardtanh(v / s, -self.qn, self.qp)) * s


class QConv(nn.Conv2d):
    def __init__(self, cin, cout, k, stride, bits, input_signed):
        super().__init__(cin, cout, k, stride=stride, padding=k // 2, bias=False)
        self.qw = Quantizer(bits, True, False)
        self.qx = Quantizer(bits, input_signed, True)

    def forward(self, x):
        return self._conv_forward(self.qx(x), self.qw(self.weight), None)


class QLinear(nn.Linear):
    def __init__(self, cin, cout, bits):
        super().__init__(cin, cout)
        self.qw = Quantizer(bits, True, False)
        self.qx = Quantizer(bits, False, True)

    def forward(self, x):
        return F.linear(self.qx(x), self.qw(self.weight), self.bias)


def conv(cin, cout, k, stride, bits, input_signed=False):
    if bits is None:
        return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False)
    return QConv(cin, cout, k, stride, bits, input_signed)


class Block(nn.Module):
    def __init__(self, cin, cout, stride, bits):
        super().__init__()
        self.a = conv(cin, cout, 3, stride, bits)
        self.bn_a = nn.BatchNorm2d(cout)
        self.b = conv(cout, cout, 3, 1, bits)
        self.bn_b = nn.BatchNorm2d(cout)
        self.proj = None
        if stride != 1 or cin != cout:
            self.proj = nn.Sequential(conv(cin, cout, 1, stride, bits), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn_b(self.b(F.relu(self.bn_a(self.a(x)))))
        return F.relu(y + (x if self.proj is None else self.proj(x)))


class ResNet(nn.Module):
    def __init__(self, depth, bits):
        super().__init__()
        first_last = None if bits is None else 8
        self.stem = conv(1, 16, 3, 1, first_last, input_signed=True)
        self.bn = nn.BatchNorm2d(16)
        blocks, cin = [], 16
        for stage, width in enumerate([16, 32, 64]):
            for block in range((depth - 2) // 6):
                stride = 2 if stage > 0 and block == 0 else 1
                blocks.append(Block(cin, width, stride, bits))
                cin = width
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, 10) if bits is None else QLinear(64, 10, first_last)

    def forward(self, x):
        x = self.blocks(F.relu(self.bn(self.stem(x))))
        return self.fc(x.mean(dim=(2, 3)))


def images_per_second(body, warmup, reps, batch):
    """Median throughput, timed as the quantizer benchmark times (its timed() gives milliseconds)."""
    _, median_ms, _ = timed("", batch, warmup, reps, body)
    return batch / (median_ms / 1e3)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--depth", type=int, default=8, choices=[8, 20])
    ap.add_argument("--variant", default="lsq4", choices=["float", "lsq4"])
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.randn(args.batch, 1, 28, 28)
    y = torch.arange(args.batch) % 10
    net = ResNet(args.depth, None if args.variant == "float" else 4)
    steps = [p for n, p in net.named_parameters() if n.endswith("step")]
    others = [p for n, p in net.named_parameters() if not n.endswith("step")]
    lr = 0.1 if args.variant == "float" else 0.01
    opt = torch.optim.SGD([{"params": others, "weight_decay": 1e-4}, {"params": steps, "weight_decay": 0}],
                          lr=lr, momentum=0.9)

    def train_step():
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()

    net.train()
    train = images_per_second(train_step, args.warmup, args.reps, args.batch)
    net.eval()
    with torch.no_grad():
        infer = images_per_second(lambda: net(x), args.warmup, args.reps, args.batch)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    print(f"RESULT impl=pytorch depth={args.depth} variant={args.variant} train={train:.0f} infer={infer:.0f} "
          f"rssMB={rss_mb:.0f}")


if __name__ == "__main__":
    main()
