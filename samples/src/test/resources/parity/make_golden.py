#!/usr/bin/python3
"""Writes the golden values of ReferenceParityTest: the PyTorch reference (samples/reference/lsq_ref.py,
through parity.py) trains ResNet-8 at 2 bits for 20 steps on the committed Fashion-MNIST subset.

    /usr/bin/python3 samples/src/test/resources/parity/make_golden.py

Needs Debian's python3-torch (PyTorch 1.13). What it keeps, in resnet8-2bit/:
    meta.json, batches/   the settings and the 20 batches (indices, crop offsets, flips)
    start/                the full-precision network both sides start from (3 epochs on the subset, float32)
    reference/init/       the steps after initialization (the rest of the state equals start/)
    reference/grad1/      the gradient of every parameter in the first step, as float32
    reference/losses.npy  the loss of each of the 20 steps
The LSQ network runs in float64 on both sides: in float32, rounding noise of 1e-6 flips a few 2-bit
codes and the first-step gradients then differ by about 1 % for reasons that are not the method's.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "..", "..", ".."))
SUBSET = os.path.join(ROOT, "src", "test", "resources", "fashion-mnist-subset")
PARITY = os.path.join(ROOT, "samples", "reference", "parity.py")
OUT = os.path.join(HERE, "resnet8-2bit")
SETTINGS = ["--depth", "8", "--bits", "2", "--batch", "32", "--steps", "20", "--total-steps", "54",
            "--fp-epochs", "3", "--seed", "1", "--augment", "--checkpoints", "20", "--dtype", "float64"]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        run = os.path.join(tmp, "run")
        subprocess.run([sys.executable, PARITY, "run", SUBSET, run] + SETTINGS, check=True)
        shutil.rmtree(OUT, ignore_errors=True)
        for keep in ("meta.json", "batches", "start", os.path.join("reference", "losses.npy")):
            src, dst = os.path.join(run, keep), os.path.join(OUT, keep)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, dst)
        for folder, keep, dtype in (("init", lambda f: f.endswith(".s.npy"), np.float64),
                                    ("grad1", lambda f: True, np.float32)):
            src, dst = os.path.join(run, "reference", folder), os.path.join(OUT, "reference", folder)
            os.makedirs(dst)
            for f in sorted(filter(keep, os.listdir(src))):
                np.save(os.path.join(dst, f), np.load(os.path.join(src, f)).astype(dtype))
    print("wrote", OUT)


if __name__ == "__main__":
    main()
