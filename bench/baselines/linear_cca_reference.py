#!/usr/bin/env python3
"""numpy reference for cmhash's closed-form baselines `linear` and `cca` (src/methods/linear.ts, cca.ts).

Computed independently of the TypeScript (numpy's solve / eigh / svd instead of cmhash's Cholesky and
tred2/tql2 eigen-solver; CCA through inverse-square-root whitening as in cca_wikipedia.py instead of
Cholesky factors), with the same conventions:
  - features standardised per column with training statistics, as cmhash's columnStats/standardize do
    it (mean and 1/std stored as float32, population std, standardised values rounded to float32; a
    constant column is scaled by the median std of the others);
  - linear: ridge with intercept on the standardised features, (Z_cᵀZ_c/n + λI)W = Z_cᵀL_c/n; the
    pre-rotation values are the predicted labels centred by their training mean, (z − z̄)W;
  - cca: C_xx + r·(d_x/n)·(tr C_xx/d_x)·I (likewise C_yy), the top k canonical pairs, each pair's sign
    fixed so the largest-magnitude entry of the image direction is positive; pre-rotation values are
    the projections of the centred features (z − z̄)W_x, (y − ȳ)W_y.
The random parts (linear's rotation, cca's padding and ITQ) use cmhash's own seeded generator and are
not reproduced here: the test multiplies these pre-rotation values by the model's rotation.

    python3 bench/baselines/linear_cca_reference.py            # fixture values for test/methods/baselines.test.ts
    python3 bench/baselines/linear_cca_reference.py --wikipedia [--data ../shared/data/wikipedia]
                                                                  # mAP@all of both on Wikipedia (numpy rotations)
"""
import argparse
import json
import os
import sys

import numpy as np


def fixture(n, dx, dy, classes):
    """The deterministic fixture of the test (exact rationals, summed in the same order as the TypeScript)."""
    labels = np.zeros((n, classes), dtype=np.uint8)
    for i in range(n):
        labels[i, i % classes] = 1
        if i % 5 == 0:
            labels[i, (i // 5) % classes] = 1
    image = np.zeros((n, dx), dtype=np.float32)
    text = np.zeros((n, dy), dtype=np.float32)
    for i in range(n):
        for j in range(dx):
            s = 0.0
            for c in range(classes):
                s += float(labels[i, c]) * (((c * 5 + j * 3) % 7) / 7 - 0.5)
            image[i, j] = ((i * 7 + j * 13) % 23) / 23 + 0.5 * s
        for j in range(dy):
            s = 0.0
            for c in range(classes):
                s += float(labels[i, c]) * (((c * 3 + j * 7) % 11) / 11 - 0.5)
            text[i, j] = ((i * 11 + j * 5) % 19) / 19 + 0.5 * s
    return image, text, labels


def standardise(x):
    x64 = x.astype(np.float64)
    mean = x64.mean(0)
    std = np.sqrt(np.maximum(0.0, (x64 ** 2).mean(0) - mean ** 2))
    varying = np.sort(std[std >= 1e-6])
    typical = varying[len(varying) // 2] if len(varying) else 1.0
    m32 = mean.astype(np.float32)
    inv32 = (1.0 / np.where(std >= 1e-6, std, typical)).astype(np.float32)
    return ((x64 - m32.astype(np.float64)) * inv32.astype(np.float64)).astype(np.float32).astype(np.float64)


def ridge(z, labels, lam):
    n, d = z.shape
    zc = z - z.mean(0)
    lc = labels.astype(np.float64) - labels.mean(0)
    return np.linalg.solve(zc.T @ zc / n + lam * np.eye(d), zc.T @ lc / n)


def cca(z, y, reg, k):
    n, dx = z.shape
    dy = y.shape[1]
    zc, yc = z - z.mean(0), y - y.mean(0)
    cxx, cyy, cxy = zc.T @ zc / n, yc.T @ yc / n, zc.T @ yc / n
    cxx = cxx + reg * (dx / n) * (np.trace(cxx) / dx) * np.eye(dx)
    cyy = cyy + reg * (dy / n) * (np.trace(cyy) / dy) * np.eye(dy)

    def inv_sqrt(c):
        w, v = np.linalg.eigh(c)
        return v @ np.diag(w ** -0.5) @ v.T

    wa, wb = inv_sqrt(cxx), inv_sqrt(cyy)
    u, s, vt = np.linalg.svd(wa @ cxy @ wb)
    wx, wy = wa @ u[:, :k], wb @ vt.T[:, :k]
    for j in range(k):
        i = int(np.argmax(np.abs(wx[:, j])))
        if wx[i, j] < 0:
            wx[:, j] *= -1
            wy[:, j] *= -1
    return wx, wy, s[:k]


def rounded(a):
    return [[float(f"{v:.9g}") for v in row] for row in np.atleast_2d(a)]


def fixture_values():
    out = {}
    # A: 40 items, 6-d image, 5-d text, 3 labels (8 bits > 5 canonical pairs: the padded case)
    image, text, labels = fixture(40, 6, 5, 3)
    z, y = standardise(image), standardise(text)
    rows = slice(0, 8)
    for lam in (0.3, 2.0):
        wz, wy = ridge(z, labels, lam), ridge(y, labels, lam)
        out[f"linearA_ridge{lam:g}"] = {
            "image": rounded((z[rows] - z.mean(0)) @ wz), "text": rounded((y[rows] - y.mean(0)) @ wy),
            "labelMean": [float(f"{v:.9g}") for v in labels.mean(0)],
        }
    wx, wyc, rho = cca(z, y, 3.0, 5)
    out["ccaA_reg3"] = {"image": rounded((z[rows] - z.mean(0)) @ wx), "text": rounded((y[rows] - y.mean(0)) @ wyc), "correlations": [float(f"{v:.9g}") for v in rho]}
    # B: 60 items, 12-d image, 10-d text, 4 labels (8 bits ≤ 10 canonical pairs)
    image, text, labels = fixture(60, 12, 10, 4)
    z, y = standardise(image), standardise(text)
    wx, wyc, rho = cca(z, y, 0.5, 8)
    out["ccaB_reg0.5"] = {"image": rounded((z[rows] - z.mean(0)) @ wx), "text": rounded((y[rows] - y.mean(0)) @ wyc), "correlations": [float(f"{v:.9g}") for v in rho]}
    return out


def map_all(q, db, ql, dl):
    """mAP@all with Hamming ties broken by database order (cmhash's definition; single-label relevance)."""
    ham = (q.shape[1] - q @ db.T) / 2
    aps = []
    for i in range(len(q)):
        order = np.argsort(ham[i], kind="stable")
        rel = (dl[order] == ql[i]).astype(float)
        hits = rel.sum()
        aps.append(0.0 if hits == 0 else float((np.cumsum(rel) / np.arange(1, len(rel) + 1) * rel).sum() / hits))
    return float(np.mean(aps))


def sign(a):
    return np.where(a >= 0, 1.0, -1.0)


def wikipedia(data, seeds, bits_list, lam, reg, itq):
    path = lambda f: os.path.join(data, f)
    if not os.path.exists(path("image_sift_bovw128.npy")):
        sys.exit(f"linear_cca_reference: no Wikipedia data at {data}")
    x = np.load(path("image_sift_bovw128.npy")).astype(np.float32)
    t = np.load(path("text_lda10.npy")).astype(np.float32)
    lab = np.load(path("labels_index.npy"))
    te = np.load(path("split_is_test.npy")).astype(bool)
    onehot = np.eye(10)[lab]

    def standardiser(a):
        a64 = a[~te].astype(np.float64)
        mean, std = a64.mean(0), a64.std(0)
        return lambda b: (b.astype(np.float64) - mean) / std

    sx, st = standardiser(x), standardiser(t)
    zx, zt = sx(x), st(t)
    wx, wt = ridge(zx[~te], onehot[~te], lam), ridge(zt[~te], onehot[~te], lam)
    px, pt = (zx - zx[~te].mean(0)) @ wx, (zt - zt[~te].mean(0)) @ wt
    cx, ct, _ = cca(zx[~te], zt[~te], reg, 10)
    qx, qt = (zx - zx[~te].mean(0)) @ cx, (zt - zt[~te].mean(0)) @ ct
    for seed in seeds:
        rng = np.random.default_rng(seed)
        for c in bits_list:
            r = np.linalg.qr(rng.standard_normal((10, c)))[0] if c <= 10 else rng.standard_normal((10, c))
            lin = (px @ r, pt @ r)
            pad = np.hstack([np.eye(10), rng.standard_normal((10, c - 10))]) if c > 10 else np.eye(10)[:, :c]
            v = np.vstack([qx[~te] @ pad, qt[~te] @ pad])
            rot = np.linalg.qr(rng.standard_normal((c, c)))[0]
            for _ in range(itq):
                b = sign(v @ rot)
                u, _, wt_ = np.linalg.svd(v.T @ b)
                rot = u @ wt_
            cc = (qx @ pad @ rot, qt @ pad @ rot)
            for name, (fx, ft) in (("linear", lin), ("cca", cc)):
                bx, bt = sign(fx), sign(ft)
                i2t = map_all(bx[te], bt[~te], lab[te], lab[~te])
                t2i = map_all(bt[te], bx[~te], lab[te], lab[~te])
                print(json.dumps({"name": name, "bits": c, "seed": seed, "map_all": {"i2t": round(i2t, 4), "t2i": round(t2i, 4)}}))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--wikipedia", action="store_true", help="mAP@all of both baselines on Wikipedia (train = database = 2,173 items, 693 queries)")
    p.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data", "wikipedia"))
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--bits", default="16,32,64")
    p.add_argument("--ridge", type=float, default=0.3)
    p.add_argument("--regulariser", type=float, default=3.0)
    p.add_argument("--itq", type=int, default=50)
    o = p.parse_args()
    if o.wikipedia:
        wikipedia(o.data, [int(s) for s in o.seeds.split(",")], [int(b) for b in o.bits.split(",")], o.ridge, o.regulariser, o.itq)
    else:
        values = fixture_values()
        print("{\n" + ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in values.items()) + "\n}")


if __name__ == "__main__":
    main()
