#!/usr/bin/env python3
"""A small fixed subset of Fashion-MNIST for the tests, so that they need no download and no package.

Run from the repository root (Debian: apt-get install dataset-fashion-mnist):

    python3 src/test/resources/fashion-mnist-subset/make_subset.py [/usr/share/datasets/fashion-mnist]

From each split it takes the first PER_CLASS[split] images of every class, in their order in the full
file, and writes them as gzipped IDX files with the full data set's names into this folder. The output
is byte-for-byte deterministic (gzip with mtime 0), so running it again must leave git clean; it prints
each file's size and SHA-256. Only the Python standard library is used.

Fashion-MNIST is Copyright (c) 2017 Zalando SE, under the MIT license: see LICENSE beside this script.
"""
import gzip
import hashlib
import os
import struct
import sys

PER_CLASS = {"train": 60, "t10k": 20}   # 600 training and 200 test images
CLASSES = 10
HERE = os.path.dirname(os.path.abspath(__file__))


def read_idx(path, rank):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    if magic != 0x0800 | rank:
        sys.exit(f"{path}: not an unsigned-byte IDX file of rank {rank} (magic {magic:#010x})")
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return dims, data[4 + 4 * rank:]


def find(src, name):
    for candidate in (name, name + ".gz"):
        if os.path.isfile(os.path.join(src, candidate)):
            return os.path.join(src, candidate)
    sys.exit(f"{name}(.gz) not found in {src}; on Debian: apt-get install dataset-fashion-mnist")


def write_idx(path, rank, dims, body):
    raw = struct.pack(">I", 0x0800 | rank) + struct.pack(">" + "I" * rank, *dims) + body
    packed = gzip.compress(raw, compresslevel=9, mtime=0)
    with open(path, "wb") as f:
        f.write(packed)
    print(f"{os.path.relpath(path)}: {len(packed)} bytes, sha256 {hashlib.sha256(packed).hexdigest()}")


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
    for split, per_class in PER_CLASS.items():
        (n, rows, cols), pixels = read_idx(find(src, f"{split}-images-idx3-ubyte"), 3)
        (n_labels,), labels = read_idx(find(src, f"{split}-labels-idx1-ubyte"), 1)
        if n != n_labels:
            sys.exit(f"{split}: {n} images but {n_labels} labels")
        taken = [0] * CLASSES
        chosen = []
        for i, label in enumerate(labels):
            if taken[label] < per_class:
                taken[label] += 1
                chosen.append(i)
        if min(taken) < per_class:
            sys.exit(f"{split}: fewer than {per_class} images of some class: {taken}")
        size = rows * cols
        body = b"".join(pixels[i * size:(i + 1) * size] for i in chosen)
        write_idx(os.path.join(HERE, f"{split}-images-idx3-ubyte.gz"), 3, (len(chosen), rows, cols), body)
        write_idx(os.path.join(HERE, f"{split}-labels-idx1-ubyte.gz"), 1, (len(chosen),),
                  bytes(labels[i] for i in chosen))


if __name__ == "__main__":
    main()
