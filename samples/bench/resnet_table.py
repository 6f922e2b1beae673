#!/usr/bin/env python3
"""Prints the table of bench/resnet-bench.sh from the RESULT lines on standard input (no torch needed)."""
import sys


def main():
    rows = []
    for line in sys.stdin:
        if line.startswith("RESULT "):
            rows.append(dict(kv.split("=", 1) for kv in line.split()[1:]))
    for depth in sorted({r["depth"] for r in rows}, key=int):
        by = {(r["impl"], r["variant"]): r for r in rows if r["depth"] == depth}
        print(f"\nResNet-{depth}, batch 128, 28x28x1: images/s (median) and peak memory (MB)\n")
        print("| implementation | variant | training | inference | peak RSS | Java heap | DL4J workspaces (off-heap) |")
        print("|---|---|---|---|---|---|---|")
        for (impl, variant), r in sorted(by.items()):
            print(f"| {impl} | {variant} | {r['train']} | {r['infer']} | {r['rssMB']} | {r.get('heapMB', '-')} "
                  f"| {r.get('workspacesMB', '-')} |")

        def ratio(a, b, what):
            if a in by and b in by:
                return f"{float(by[a][what]) / float(by[b][what]):.2f}"
            return "n/a"
        print()
        print(f"- LSQ 4-bit training time / float (stock layers), lsq4j: "
              f"{ratio(('lsq4j', 'stock'), ('lsq4j', 'lsq4'), 'train')} (target <= 1.15); PyTorch: "
              f"{ratio(('pytorch', 'float'), ('pytorch', 'lsq4'), 'train')}")
        print(f"- LSQ layers with quantization off / stock layers, training speed: "
              f"{ratio(('lsq4j', 'off'), ('lsq4j', 'stock'), 'train')} (target >= 1)")
        print(f"- lsq4j LSQ 4-bit / PyTorch LSQ 4-bit, training speed: "
              f"{ratio(('lsq4j', 'lsq4'), ('pytorch', 'lsq4'), 'train')} (target >= 0.5); float: "
              f"{ratio(('lsq4j', 'stock'), ('pytorch', 'float'), 'train')}")


if __name__ == "__main__":
    main()
