#!/usr/bin/python3
"""The PyTorch side of the parity harness between lsq4j and the reference LSQ trainer (lsq_ref.py).

`run` trains the reference step by step on a fixed sequence of batches and writes everything lsq4j's
side (io.github.lsq4j.samples.parity.ReferenceParity) needs to repeat it, and what it must reach:

    RUN/meta.json        the settings (depth, bits, batch, learning rate, weight decay, schedule length)
    RUN/start/*.npy      the full-precision network lsq4j starts from (weights and batch-norm statistics)
    RUN/batches/*.npy    per step: the example indices, crop offsets (0..4 in the 2-pixel padded image)
                         and horizontal flips, so that both sides see the same pixels
    RUN/reference/init/  every parameter and statistic after conversion and step initialization
    RUN/reference/grad1/ the gradient of every parameter in the first step
    RUN/reference/stepK/ every parameter and statistic after step K, for each checkpoint K
    RUN/reference/losses.npy  the loss of every step

Array names are PyTorch's state_dict names (`layers.0.c1.weight`, `stem.aq.s`, ...), in PyTorch's
layouts. `compare` reads RUN/reference and RUN/lsq4j (which ReferenceParity writes in the same form) and
prints, parameter by parameter, the differences: initial steps, first-step gradients and updated values,
the loss trajectory, and at each checkpoint each layer's parameter distance and how many weight codes
flipped since the start on each side.

    /usr/bin/python3 parity.py run /usr/share/datasets/fashion-mnist RUN --bits 2 --steps 1000
    (cd .. && mvn -q exec:java -Dexec.mainClass=io.github.lsq4j.samples.parity.ReferenceParity \\
        -Dexec.args="--run reference/RUN")
    /usr/bin/python3 parity.py compare RUN

Needs Debian's python3-torch (PyTorch 1.13) and numpy; lsq_ref.py beside this file is the reference
trainer itself (a copy of the one that produced LSQ-SPEC.md's numbers).
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lsq_ref  # noqa: E402

PAD = 2


def save_arrays(folder, arrays):
    os.makedirs(folder, exist_ok=True)
    for name, a in arrays.items():
        np.save(os.path.join(folder, name + ".npy"), np.ascontiguousarray(np.atleast_1d(a)))


def load_arrays(folder):
    return {f[:-4]: np.load(os.path.join(folder, f)) for f in sorted(os.listdir(folder)) if f.endswith(".npy")}


def state(model):
    """Every parameter and batch-norm statistic, as numpy arrays of the model's precision."""
    return {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()
            if not k.endswith("num_batches_tracked")}


def crop_flip(x, di, dj, flip):
    """lsq_ref.augment with given offsets: zero padding (after normalization), crop at (di, dj), flip."""
    n = x.shape[0]
    p = F.pad(x, (PAD, PAD, PAD, PAD))
    idx = torch.arange(28)
    rows = di[:, None] + idx[None, :]
    cols = dj[:, None] + idx[None, :]
    b = torch.arange(n)[:, None, None]
    out = p[:, 0][b, rows[:, :, None], cols[:, None, :]].unsqueeze(1)
    out[flip] = out[flip].flip(3)
    return out


def batch_plan(n_examples, steps, bs, seed, augment):
    """Indices, crop offsets and flips of every step: a new permutation each epoch, full batches only."""
    g = torch.Generator().manual_seed(seed)
    per_epoch = n_examples // bs
    idx, di, dj, flip = [], [], [], []
    perm = None
    for k in range(steps):
        if k % per_epoch == 0:
            perm = torch.randperm(n_examples, generator=g)
        idx.append(perm[(k % per_epoch) * bs:(k % per_epoch + 1) * bs])
        if augment:
            di.append(torch.randint(0, 2 * PAD + 1, (bs,), generator=g))
            dj.append(torch.randint(0, 2 * PAD + 1, (bs,), generator=g))
            flip.append(torch.rand(bs, generator=g) < 0.5)
        else:
            di.append(torch.full((bs,), PAD))
            dj.append(torch.full((bs,), PAD))
            flip.append(torch.zeros(bs, dtype=torch.bool))
    return {"index": torch.stack(idx).int(), "row": torch.stack(di).int(), "col": torch.stack(dj).int(),
            "flip": torch.stack(flip).int()}


def run(a):
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    data = lsq_ref.load_fmnist(a.data, "cpu")
    xtr, ytr = data[0], data[1]
    if a.limit:
        xtr, ytr = xtr[:a.limit], ytr[:a.limit]
    nb = lsq_ref.BLOCKS_PER_STAGE[a.depth]
    fp = lsq_ref.ResNet(nb)
    if a.fp_epochs:
        acc, _, _ = lsq_ref.train(fp, (xtr, ytr) + data[2:], a.fp_epochs, 0.1, 1e-4, a.batch, a.seed)
        print(f"full precision: {a.fp_epochs} epochs on {xtr.shape[0]} images, test top-1 {acc:.4f}", flush=True)
    save_arrays(os.path.join(a.out, "start"), state(fp))

    dtype = {"float32": torch.float32, "float64": torch.float64}[a.dtype]
    torch.manual_seed(a.seed)
    q = lsq_ref.ResNet(nb, a.bits).to(dtype)
    q.load_state_dict(fp.state_dict(), strict=False)
    with torch.no_grad():  # as lsq_ref.main: one training-mode pass over the first 128 training images
        q(data[0][:128].to(dtype))
    ref = os.path.join(a.out, "reference")
    save_arrays(os.path.join(ref, "init"), state(q))

    plan = batch_plan(xtr.shape[0], a.steps, a.batch, a.seed + 1, a.augment)
    save_arrays(os.path.join(a.out, "batches"), {k: v.numpy() for k, v in plan.items()})
    lr = 0.001 if a.bits == 8 else 0.01
    wd = lsq_ref.WD[a.bits]
    total = a.total_steps or a.steps
    meta = dict(depth=a.depth, bits=a.bits, batch=a.batch, steps=a.steps, total_steps=total, lr=lr,
                weight_decay=wd, momentum=0.9, seed=a.seed, limit=a.limit or 0, augment=a.augment, dtype=a.dtype,
                checkpoints=a.checkpoints, fp_epochs=a.fp_epochs)
    with open(os.path.join(a.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)

    # lsq_ref.train's optimizer and schedule, stepped on the planned batches
    decay, no_decay = [], []
    for n, p in q.named_parameters():
        (no_decay if n.endswith(".s") else decay).append(p)
    opt = torch.optim.SGD([{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0}],
                          lr=lr, momentum=0.9)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 0.5 * (1 + math.cos(math.pi * t / total)))
    q.train()
    losses = []
    for k in range(a.steps):
        x = crop_flip(xtr[plan["index"][k].long()], plan["row"][k], plan["col"][k], plan["flip"][k].bool()).to(dtype)
        loss = F.cross_entropy(q(x), ytr[plan["index"][k].long()])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if k == 0:
            save_arrays(os.path.join(ref, "grad1"),
                        {n: p.grad.numpy() for n, p in q.named_parameters() if p.grad is not None})
        opt.step()
        sched.step()
        losses.append(loss.item())
        if k + 1 in a.checkpoints:
            save_arrays(os.path.join(ref, f"step{k + 1}"), state(q))
            print(f"step {k + 1}: loss {loss.item():.4f}", flush=True)
    np.save(os.path.join(ref, "losses.npy"), np.array(losses))


def dl4j_vertex(module_name, depth):
    """SmallResNet's vertex name for a module of lsq_ref.ResNet (None if it has no counterpart)."""
    per_stage = (depth - 2) // 6
    parts = module_name.split(".")
    if parts[0] in ("stem", "fc"):
        return parts[0] if len(parts) == 1 else None
    if parts[0] == "bn":
        return "stem_bn"
    if parts[0] != "layers" or len(parts) < 2:
        return None
    k = int(parts[1])
    block = f"s{k // per_stage + 1}b{k % per_stage + 1}"
    rest = ".".join(parts[2:])
    suffix = {"": "_relu", "c1": "_a", "b1": "_a_bn", "c2": "_b", "b2": "_b_bn", "sc.0": "_proj",
              "sc.1": "_proj_bn"}.get(rest)
    return None if suffix is None else block + suffix


def activations(a):
    """Every module's output on the first planned batch, in training mode, from the reference's initialized
    state: RUN/reference/act1/<SmallResNet vertex>.npy (the fc output as softmax probabilities, as DL4J's)."""
    meta = json.load(open(os.path.join(a.run, "meta.json")))
    torch.set_num_threads(2)
    data = lsq_ref.load_fmnist(a.data, "cpu")
    plan = load_arrays(os.path.join(a.run, "batches"))
    idx = torch.from_numpy(plan["index"][0]).long()
    x = crop_flip(data[0][idx], torch.from_numpy(plan["row"][0]).long(), torch.from_numpy(plan["col"][0]).long(),
                  torch.from_numpy(plan["flip"][0]).bool())
    dtype = {"float32": torch.float32, "float64": torch.float64}[meta.get("dtype", "float32")]
    x = x.to(dtype)
    q = lsq_ref.ResNet(lsq_ref.BLOCKS_PER_STAGE[meta["depth"]], meta["bits"]).to(dtype)
    init = load_arrays(os.path.join(a.run, "reference", "init"))
    q.load_state_dict({k: torch.from_numpy(v.reshape(q.state_dict()[k].shape)) for k, v in init.items()},
                      strict=False)
    for m in q.modules():
        if isinstance(m, lsq_ref.LsqQuantizer):
            m.initialized = True
    out = {}
    for name, m in q.named_modules():
        v = dl4j_vertex(name, meta["depth"])
        if v is not None:
            m.register_forward_hook(lambda mod, inp, o, v=v: out.__setitem__(
                v, (F.softmax(o, 1) if v == "fc" else o).detach().numpy()))
    q.train()
    with torch.no_grad():
        q(x)
    save_arrays(os.path.join(a.run, "reference", "act1"), out)
    j = os.path.join(a.run, "lsq4j", "act1")
    if os.path.isdir(j):
        mine = load_arrays(j)
        for v, r in out.items():
            if v in mine:
                d = np.abs(mine[v].reshape(r.shape) - r)
                print(f"  {v:14s} largest difference / largest value {d.max() / np.abs(r).max():.2e}, "
                      f"elements more than 1e-4 apart: {int((d > 1e-4 * np.abs(r).max()).sum())} of {r.size}")


# ---------------- comparison ----------------

def rel(a, b):
    """Largest difference relative to the reference array's largest magnitude."""
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def layer_of(name):
    return name.rsplit(".", 1)[0].replace(".wq", "").replace(".aq", "")


def codes(state, layer, bits_of):
    w = state[layer + ".weight"]
    s = state[layer + ".wq.s"]
    qn, qp = 2 ** (bits_of(layer) - 1), 2 ** (bits_of(layer) - 1) - 1
    v = np.clip(w / s, -qn, qp)
    return np.sign(v) * np.floor(np.abs(v) + 0.5)  # half away from zero, as lsq4j rounds


def compare(a):
    meta = json.load(open(os.path.join(a.run, "meta.json")))
    sides = {s: os.path.join(a.run, s) for s in ("reference", "lsq4j")}
    ref_init, j_init = load_arrays(os.path.join(sides["reference"], "init")), load_arrays(
        os.path.join(sides["lsq4j"], "init"))
    print(f"# ResNet-{meta['depth']}, {meta['bits']} bits, batch {meta['batch']}, {meta['steps']} steps")
    print("\n## After conversion and step initialization: steps (reference, lsq4j, relative difference)")
    for n in sorted(k for k in ref_init if k.endswith(".s")):
        r, j = float(ref_init[n]), float(j_init[n].reshape(-1)[0])
        print(f"  {n:28s} {r:.6g}  {j:.6g}  {abs(j - r) / abs(r):.2e}")
    worst_stats = max(rel(j_init[n], ref_init[n]) for n in ref_init if "running" in n)
    print(f"  batch-norm running statistics after initialization: largest relative difference {worst_stats:.2e}")

    g_ref = load_arrays(os.path.join(sides["reference"], "grad1"))
    g_j = load_arrays(os.path.join(sides["lsq4j"], "grad1"))
    print("\n## Step 1: gradient of every parameter, largest difference relative to the reference's largest")
    for n in g_ref:
        print(f"  {n:28s} {rel(g_j[n].reshape(g_ref[n].shape), g_ref[n]):.2e}"
              + ("" if n in g_j else "  (missing on lsq4j's side)"))
    l_ref = np.load(os.path.join(sides["reference"], "losses.npy"))
    l_j = np.load(os.path.join(sides["lsq4j"], "losses.npy"))
    print("\n## Loss trajectory (mean over windows of steps)")
    edges = [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]
    edges = [e for e in edges if e < len(l_ref)] + [len(l_ref)]
    for lo, hi in zip(edges, edges[1:]):
        r, j = l_ref[lo:hi].mean(), l_j[lo:hi].mean()
        print(f"  steps {lo + 1:5d}-{hi:5d}: reference {r:.4f}  lsq4j {j:.4f}  ({100 * (j - r) / r:+.2f} %)")

    bits = meta["bits"]
    first_last = {"stem", "fc"}
    bits_of = lambda layer: 8 if layer in first_last else bits  # noqa: E731
    layers = sorted({layer_of(n) for n in ref_init if n.endswith(".wq.s")})
    for k in meta["checkpoints"]:
        folder = f"step{k}"
        if not os.path.isdir(os.path.join(sides["lsq4j"], folder)):
            continue
        ref_k = load_arrays(os.path.join(sides["reference"], folder))
        j_k = load_arrays(os.path.join(sides["lsq4j"], folder))
        if k == 1:
            print("\n## Step 1: updated values, largest difference relative to the reference's largest")
            for n in ref_k:
                print(f"  {n:28s} {rel(j_k[n].reshape(ref_k[n].shape), ref_k[n]):.2e}")
            continue
        print(f"\n## After {k} steps, per layer: |lsq4j - reference| / |reference| of the weights, the steps "
              f"(weight, input), and the weight codes changed since the start on each side")
        for layer in layers:
            w = layer + ".weight"
            dist = np.linalg.norm(j_k[w] - ref_k[w]) / np.linalg.norm(ref_k[w])
            moved = np.linalg.norm(ref_k[w] - ref_init[w]) / np.linalg.norm(ref_init[w])
            c0r, ckr = codes(ref_init, layer, bits_of), codes(ref_k, layer, bits_of)
            c0j, ckj = codes(j_init, layer, bits_of), codes(j_k, layer, bits_of)
            sw = (float(ref_k[layer + ".wq.s"]), float(j_k[layer + ".wq.s"]))
            sx = (float(ref_k[layer + ".aq.s"]), float(j_k[layer + ".aq.s"]))
            print(f"  {layer:18s} weights {dist:.3f} (moved {moved:.3f}); sw {sw[0]:.4g}/{sw[1]:.4g}; "
                  f"sx {sx[0]:.4g}/{sx[1]:.4g}; codes flipped ref {int((c0r != ckr).sum())}, "
                  f"lsq4j {int((c0j != ckj).sum())} of {c0r.size}; codes differing {int((ckr != ckj).sum())}")
        bn = [n for n in ref_k if n.endswith(".running_var")]
        worst = max(rel(j_k[n], ref_k[n]) for n in bn)
        print(f"  batch-norm running variance: largest relative difference {worst:.3f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="train the reference on a fixed batch sequence and write RUN")
    r.add_argument("data", help="folder with the four Fashion-MNIST IDX files")
    r.add_argument("out", help="the run folder")
    r.add_argument("--depth", type=int, default=8, choices=(8, 20))
    r.add_argument("--bits", type=int, default=2, choices=(2, 3, 4, 8))
    r.add_argument("--steps", type=int, default=1000)
    r.add_argument("--total-steps", type=int, default=0, help="cosine schedule length [steps]")
    r.add_argument("--batch", type=int, default=128)
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--fp-epochs", type=int, default=1, help="reference full-precision epochs before LSQ")
    r.add_argument("--limit", type=int, default=0, help="use only the first N training images")
    r.add_argument("--augment", action=argparse.BooleanOptionalAction, default=True)
    r.add_argument("--checkpoints", type=lambda s: [int(x) for x in s.split(",")], default=[1, 100, 1000])
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--dtype", default="float32", choices=("float32", "float64"),
                   help="precision of the LSQ network (the full-precision training is float32): float64 "
                        "keeps rounding noise from flipping low-bit codes, so both sides stay comparable")
    c = sub.add_parser("compare", help="print the differences between RUN/reference and RUN/lsq4j")
    c.add_argument("run")
    f = sub.add_parser("activations", help="write the reference's activations on the first batch and compare "
                                           "them with RUN/lsq4j/act1 if present")
    f.add_argument("data", help="folder with the four Fashion-MNIST IDX files")
    f.add_argument("run")
    a = ap.parse_args()
    {"run": run, "compare": compare, "activations": activations}[a.command](a)


if __name__ == "__main__":
    main()
