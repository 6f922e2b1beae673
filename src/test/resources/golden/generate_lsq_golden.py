#!/usr/bin/env python3
"""Golden numbers for the LSQ quantizer (Esser et al., ICLR 2020), computed with PyTorch autograd.

Run from the repository root:

    /usr/bin/python3 src/test/resources/golden/generate_lsq_golden.py > src/test/resources/golden/lsq_golden.json

Requires Debian's python3-torch (use /usr/bin/python3: other interpreters on PATH may lack torch).
The output is deterministic: every case has its own fixed seed (Python's random.Random).

What is computed (the paper's pseudocode, float64 throughout):

    gradscale(x, g)  = (x - x*g).detach() + x*g
    round(x)         = sign(x) * floor(|x| + 0.5)          # half away from zero, like ND4J; NOT torch.round
    roundpass(x)     = (round(x) - x).detach() + x
    vhat             = roundpass(hardtanh(v / gradscale(s, g), -Qn, Qp)) * gradscale(s, g)
    loss             = sum(vhat * upstream)
    dv = dloss/dv,  ds = dloss/ds,  codes = round(clamp(v / s, -Qn, Qp))

hardtanh has gradient 1 strictly inside (-Qn, Qp) and 0 at and beyond the ends, so v/s == Qp or -Qn
counts as clipped. Signed: Qn = 2^(b-1), Qp = 2^(b-1) - 1; unsigned: Qn = 0, Qp = 2^b - 1.
Per channel, s has one entry per index along `axis` of v (reshaped to broadcast); per tensor, axis = -1
and s has a single entry.

Inputs v, s and upstream are all exactly representable in float32 (they are float32 values written as
float64), so a float32 implementation receives exactly the same inputs. Values are placed so that v/s
is at least 1e-3 away from every rounding tie and every clip end (checked both for the float64 and the
float32 quotient), except for the deliberate boundary kinds, which use power-of-two steps so that they
are exact: at_qp (v/s == Qp), at_qn (v/s == -Qn; v == 0 for unsigned), grid (v/s integer strictly
inside), band_above / band_below (v/s in (Qp, Qp+0.5) / (-Qn-0.5, -Qn), e.g. Qp+0.25).
Outputs have -0.0 normalized to 0.0; codes are written as integers.

Sanity checks against the closed-form gradients run on every generation (failures abort), and a
comparison with PyTorch's fused torch._fake_quantize_learnable_per_tensor_affine is printed to stderr
(informative only: the fused op decides clipping on the rounded value, so it departs from the paper in
the band_* elements, and it also rounds half to even).
"""

import json
import math
import random
import struct
import sys

import torch

DT = torch.float64


def f32(x):
    """Nearest float32 value, as a Python float."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def f32_div(a, b):
    """a / b evaluated in float32 arithmetic."""
    return float(torch.tensor(a, dtype=torch.float32) / torch.tensor(b, dtype=torch.float32))


# ---- the paper's pseudocode -------------------------------------------------------------------
def gradscale(x, g):
    return (x - x * g).detach() + x * g


def round_half_away(x):
    return torch.sign(x) * torch.floor(torch.abs(x) + 0.5)


def roundpass(x):
    return (round_half_away(x) - x).detach() + x


def quantize(v, s, g, qn, qp):
    s = gradscale(s, g)
    return roundpass(torch.nn.functional.hardtanh(v / s, -qn, qp)) * s


def qrange(bits, signed):
    if signed:
        return 2 ** (bits - 1), 2 ** (bits - 1) - 1
    return 0, 2 ** bits - 1


# ---- value generation ---------------------------------------------------------------------------
MARGIN = 1e-3
SPECIAL_FULL = ["above", "below", "at_qp", "at_qn", "grid", "band_above", "band_below"]
SPECIAL_RANDOM = ["above", "below"]
BAND_FRACTIONS = [0.25, 0.125, 0.375]


def margin_ok(r, qn, qp, kind):
    """Distance of the quotient r = v/s from ties and ends, as required for the kind."""
    ties = abs(r - math.floor(r) - 0.5)
    if kind == "interior":
        return -qn + MARGIN <= r <= qp - MARGIN and ties >= MARGIN
    if kind == "above":
        return qp + 0.5 + MARGIN <= r <= qp + 3
    if kind == "below":
        return -qn - 3 <= r <= -qn - 0.5 - MARGIN
    raise ValueError(kind)


def make_value(rng, kind, s, qn, qp, pow2):
    """One float32-exact value v of the given kind for step s."""
    if kind in ("interior", "above", "below"):
        lo, hi = {"interior": (-qn, qp), "above": (qp + 0.5, qp + 3), "below": (-qn - 3, -qn - 0.5)}[kind]
        for _ in range(10000):
            r = lo + (hi - lo) * rng.random()
            v = f32(r * s)
            if margin_ok(v / s, qn, qp, kind) and margin_ok(f32_div(v, s), qn, qp, kind):
                return v
        raise RuntimeError("could not place value")
    assert pow2, kind
    if kind == "at_qp":
        q = qp
    elif kind == "at_qn":
        q = -qn
    elif kind == "grid":
        q = rng.randrange(-qn + 1, qp)  # integer strictly inside (-Qn, Qp)
    elif kind == "band_above":
        q = qp + rng.choice(BAND_FRACTIONS)
    elif kind == "band_below":
        q = -qn - rng.choice(BAND_FRACTIONS)
    else:
        raise ValueError(kind)
    v = q * s
    assert f32(v) == v and v / s == q and f32_div(v, s) == q, (kind, v, s)
    return v


def channel_kinds(rng, m, channel, pow2):
    """Kinds for the m elements sharing one step: a rotating set of special kinds, the rest interior."""
    special = SPECIAL_FULL if pow2 else SPECIAL_RANDOM
    if pow2:
        if m >= 2 * len(special) + 8:
            reps = max(1, m // 16)
            kinds = [k for k in special for _ in range(reps)]
        else:  # few elements per step: rotate the special kinds over the channels
            n = m // 2
            start = (channel * n) % len(special)
            kinds = [special[(start + i) % len(special)] for i in range(n)]
    else:
        reps = max(1, m // 8)
        kinds = [k for k in special for _ in range(reps)]
    kinds += ["interior"] * (m - len(kinds))
    rng.shuffle(kinds)
    return kinds


def to_out(t):
    return [float(x) + 0.0 for x in t.reshape(-1).tolist()]  # + 0.0 turns -0.0 into 0.0


def build_case(idx, name, bits, signed, shape, axis, steps, g_mode, pow2):
    rng = random.Random(1000 + idx)
    qn, qp = qrange(bits, signed)
    steps = [f32(s) for s in steps]
    if pow2:
        for s in steps:
            assert math.frexp(s)[0] == 0.5, s
    numel = math.prod(shape)
    c = 1 if axis == -1 else shape[axis]
    assert len(steps) == c
    m = numel // c
    if g_mode == "paper":
        g = 1.0 / math.sqrt(m * qp)
    else:
        g = float(g_mode)

    # Build [C, M] data (channel-major), then move the channel dimension to `axis`.
    vals, kinds = [], []
    for ch in range(c):
        ks = channel_kinds(rng, m, ch, pow2)
        kinds.append(ks)
        vals.append([make_value(rng, k, steps[ch], qn, qp, pow2) for k in ks])
    upstream_vals = [[f32(rng.gauss(0.0, 1.0)) for _ in range(m)] for _ in range(c)]

    if axis == -1:
        v = torch.tensor(vals[0], dtype=DT).reshape(shape)
        up = torch.tensor(upstream_vals[0], dtype=DT).reshape(shape)
        kind_flat = kinds[0]
    else:
        front = [shape[axis]] + [d for i, d in enumerate(shape) if i != axis]
        v = torch.tensor(vals, dtype=DT).reshape(front).movedim(0, axis).contiguous()
        up = torch.tensor(upstream_vals, dtype=DT).reshape(front).movedim(0, axis).contiguous()
        kidx = torch.arange(numel).reshape(front).movedim(0, axis).contiguous().reshape(-1).tolist()
        flat_kinds = [k for ks in kinds for k in ks]
        kind_flat = [flat_kinds[i] for i in kidx]
    assert list(v.shape) == list(shape)

    bshape = [1] * len(shape)
    if axis != -1:
        bshape[axis] = c

    v.requires_grad_(True)
    s = torch.tensor(steps, dtype=DT, requires_grad=True)
    vhat = quantize(v, s.reshape(bshape), g, qn, qp)
    (vhat * up).sum().backward()
    sb = s.detach().reshape(bshape)
    codes = round_half_away(torch.clamp(v.detach() / sb, -qn, qp))

    case = {
        "name": name, "bits": bits, "signed": signed, "shape": list(shape), "axis": axis, "g": g,
        "qn": qn, "qp": qp,
        "v": to_out(v.detach()), "s": list(steps), "upstream": to_out(up), "kind": kind_flat,
        "codes": [int(x) for x in codes.reshape(-1).tolist()],
        "vhat": to_out(vhat.detach()), "dv": to_out(v.grad), "ds": to_out(s.grad),
    }
    check_case(case, v.detach(), sb, up, g, qn, qp, bshape)
    return case


# ---- sanity checks (not in the output) ------------------------------------------------------------
def check_case(case, v, sb, up, g, qn, qp, bshape):
    name = case["name"]
    r = v / sb
    # per-element step-gradient contributions via autograd with one step per element
    se = sb.expand(v.shape).clone().requires_grad_(True)
    (quantize(v, se, g, qn, qp) * up).sum().backward()
    contrib = se.grad.reshape(-1).tolist()
    rf, uf, kinds = r.reshape(-1).tolist(), up.reshape(-1).tolist(), case["kind"]
    dv, codes, vhat = case["dv"], case["codes"], case["vhat"]
    sfl = sb.expand(v.shape).reshape(-1).tolist()
    for i, k in enumerate(kinds):
        rq = rf[i]
        code = max(-qn, min(qp, rq))
        code = math.copysign(math.floor(abs(code) + 0.5), code)
        assert codes[i] == code, (name, i, k)
        assert vhat[i] == code * sfl[i], (name, i, k)
        assert abs(codes[i]) <= max(qn, qp)
        if k in ("interior", "grid"):
            assert -qn < rq < qp, (name, i, k, rq)
            assert math.isclose(dv[i], uf[i], rel_tol=1e-14, abs_tol=0), (name, i, k, dv[i], uf[i])
            want = (code - rq) * uf[i] * g
            assert abs(contrib[i] - want) <= 1e-12 * max(1.0, abs(uf[i])), (name, i, k, contrib[i], want)
            if k == "grid":
                assert rq == round(rq) and contrib[i] == 0.0
        else:
            hi = k in ("at_qp", "above", "band_above")
            if k.startswith("at_"):
                assert rq == (qp if hi else -qn), (name, i, k, rq)
            elif k.startswith("band_"):
                assert (qp < rq < qp + 0.5) if hi else (-qn - 0.5 < rq < -qn), (name, i, k, rq)
            else:
                assert (rq > qp + 0.5) if hi else (rq < -qn - 0.5), (name, i, k, rq)
            assert dv[i] == 0.0, (name, i, k, dv[i])
            want = (qp if hi else -qn) * uf[i] * g
            assert abs(contrib[i] - want) <= 1e-14 * max(1.0, abs(want)), (name, i, k, contrib[i], want)
            assert codes[i] == (qp if hi else -qn)
    # ds == sum of the contributions over each step's elements
    want_ds = se.grad.sum(dim=[d for d in range(v.dim()) if bshape[d] == 1] or None, keepdim=True)
    assert torch.allclose(want_ds.reshape(-1), torch.tensor(case["ds"], dtype=DT), rtol=1e-12, atol=1e-12), name


def compare_fused(case, out):
    """Informative: PyTorch's fused learnable fake-quant (float32 only) vs the paper, per kind."""
    v = torch.tensor(case["v"], dtype=torch.float32, requires_grad=True)
    s = torch.tensor(case["s"], dtype=torch.float32, requires_grad=True)
    zp = torch.tensor([0.0], dtype=torch.float32)
    up = torch.tensor(case["upstream"], dtype=torch.float32)
    y = torch._fake_quantize_learnable_per_tensor_affine(v, s, zp, -case["qn"], case["qp"], case["g"])
    y.backward(up)
    qn, qp, g = case["qn"], case["qp"], case["g"]
    sv = case["s"][0]
    print(f"fused _fake_quantize_learnable_per_tensor_affine vs paper, case {case['name']} "
          f"(qn={qn}, qp={qp}, s={sv}); the fused op clips on the ROUNDED value with inclusive ends, so it "
          f"passes the gradient at v/s == Qp, -Qn and in the half-step bands beyond them:", file=out)
    by_kind = {}
    for i, k in enumerate(case["kind"]):
        diff_dv = abs(float(v.grad[i]) - case["dv"][i]) > 1e-5 * max(1.0, abs(case["upstream"][i]))
        by_kind.setdefault(k, [0, 0])
        by_kind[k][0] += 1
        by_kind[k][1] += diff_dv
    for k in sorted(by_kind):
        n, d = by_kind[k]
        print(f"  {k:11s}: {n:3d} elements, dv differs in {d}", file=out)
    for i, k in enumerate(case["kind"]):
        if k.startswith("band_"):
            r = case["v"][i] / sv
            if qp < r:
                paper_c = qp
            else:
                paper_c = -qn
            print(f"  {k}: v/s={r:+.4f} paper dv={case['dv'][i]:+.6f} fused dv={float(v.grad[i]):+.6f}; "
                  f"paper ds-term/g={paper_c * case['upstream'][i]:+.6f} "
                  f"(fused treats it as inside: ds-term/g={(round(r) - r) * case['upstream'][i]:+.6f})",
                  file=out)
    print(f"  total ds: paper {case['ds'][0]:+.9f}  fused {float(s.grad[0]):+.9f}", file=out)


# ---- the cases --------------------------------------------------------------------------------------
CASES = [
    # name, bits, signed, shape, axis, steps, g, pow2 (boundary kinds)
    ("b2_signed_tensor_64", 2, True, [64], -1, [0.25], "paper", True),
    ("b3_signed_tensor_64", 3, True, [64], -1, [0.125], "paper", True),
    ("b4_signed_tensor_64", 4, True, [64], -1, [0.0625], "paper", True),
    ("b8_signed_tensor_4x16", 8, True, [4, 16], -1, [0.015625], "paper", True),
    ("b2_unsigned_tensor_64", 2, False, [64], -1, [0.5], "paper", True),
    ("b3_unsigned_tensor_4x16", 3, False, [4, 16], -1, [0.25], "paper", True),
    ("b4_unsigned_tensor_64", 4, False, [64], -1, [0.125], "paper", True),
    ("b8_unsigned_tensor_4x16", 8, False, [4, 16], -1, [0.0078125], "paper", True),
    ("b4_signed_tensor_64_g1", 4, True, [64], -1, [0.5], "1.0", True),
    ("b3_unsigned_tensor_64_g0.37", 3, False, [64], -1, [0.0625], "0.37", True),
    ("b4_signed_tensor_64_s0.0371", 4, True, [64], -1, [0.0371], "paper", False),
    ("b8_unsigned_tensor_4x16_s0.213", 8, False, [4, 16], -1, [0.213], "paper", False),
    ("b2_signed_tensor_4x16_s0.213_g1", 2, True, [4, 16], -1, [0.213], "1.0", False),
    ("b4_signed_channel_3x3x4x5_axis3", 4, True, [3, 3, 4, 5], 3, [0.25, 0.125, 0.5, 0.0625, 0.03125], "paper", True),
    ("b8_signed_channel_3x3x4x5_axis3", 8, True, [3, 3, 4, 5], 3, [0.015625, 0.0078125, 0.03125, 0.00390625, 0.0625], "paper", True),
    ("b2_unsigned_channel_3x3x4x5_axis3", 2, False, [3, 3, 4, 5], 3, [0.5, 0.25, 1.0, 0.125, 2.0], "paper", True),
    ("b2_signed_channel_6x7_axis0", 2, True, [6, 7], 0, [0.25, 0.5, 0.125, 1.0, 0.0625, 0.25], "paper", True),
    ("b3_signed_channel_6x7_axis1", 3, True, [6, 7], 1, [0.125, 0.25, 0.5, 0.0625, 0.125, 0.03125, 1.0], "paper", True),
    ("b3_unsigned_channel_6x7_axis1", 3, False, [6, 7], 1, [0.25, 0.125, 0.5, 0.0625, 1.0, 0.25, 0.03125], "paper", True),
    ("b4_unsigned_channel_6x7_axis0_g1", 4, False, [6, 7], 0, [0.125, 0.0625, 0.25, 0.5, 0.03125, 0.125], "1.0", True),
    ("b8_unsigned_channel_6x7_axis1", 8, False, [6, 7], 1, [0.0078125, 0.015625, 0.00390625, 0.03125, 0.0078125, 0.0625, 0.015625], "paper", True),
    ("b3_signed_channel_6x7_axis1_nonpow2", 3, True, [6, 7], 1, [0.0371, 0.213, 0.0917, 0.3333, 0.05, 0.7, 0.1234], "paper", False),
    ("b4_unsigned_channel_6x7_axis0_nonpow2_g0.37", 4, False, [6, 7], 0, [0.213, 0.0371, 0.1, 0.45, 0.0777, 0.3], "0.37", False),
]


def dump(doc):
    """JSON with one case field per line (arrays on a single line); floats via repr (full precision)."""
    lines = ["{"]
    for key in ("generator", "torch_version", "rounding"):
        lines.append(f"  {json.dumps(key)}: {json.dumps(doc[key])},")
    lines.append('  "cases": [')
    for ci, case in enumerate(doc["cases"]):
        lines.append("    {")
        items = list(case.items())
        for j, (k, val) in enumerate(items):
            sep = "," if j < len(items) - 1 else ""
            lines.append(f"      {json.dumps(k)}: {json.dumps(val)}{sep}")
        lines.append("    }" + ("," if ci < len(doc["cases"]) - 1 else ""))
    lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main():
    torch.set_default_dtype(DT)
    cases = [build_case(i, *spec) for i, spec in enumerate(CASES)]
    names = [c["name"] for c in cases]
    assert len(set(names)) == len(names)
    for c in cases:
        present = sorted(set(c["kind"]))
        print(f"{c['name']}: {len(c['v'])} values, kinds {present}", file=sys.stderr)
    doc = {
        "generator": "generate_lsq_golden.py",
        "torch_version": torch.__version__,
        "rounding": "half away from zero",
        "cases": cases,
    }
    text = dump(doc)
    assert json.loads(text) == json.loads(json.dumps(doc))
    print("all sanity checks passed", file=sys.stderr)
    compare_fused(next(c for c in cases if c["name"] == "b3_signed_tensor_64"), sys.stderr)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
