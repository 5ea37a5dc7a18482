#!/usr/bin/env python3
"""Unsupervised CCA + random-rotation sign baseline on Wikipedia (docs/design.md, "Baselines").

The reference a learned unsupervised hasher should clear: CCA between the 128-d SIFT BoVW images
and the 10-d LDA texts of the 2,173 training pairs (ridge 1e-4 on each covariance), k = 10
canonical directions, then a fixed Gaussian projection of the k-d CCA space to c bits and sign().
Queries are the 693 test items, the database the training items; mAP@50 with ties broken by
database index. Needs numpy only. The projection is random, so numbers move by about ±.01 with
--seed.

    python3 bench/baselines/cca_wikipedia.py [--data ../shared/data/wikipedia] [--seed 0] [--json]
"""
import argparse
import json
import os
import sys

import numpy as np


def map_at_k(q, db, ql, dl, k=50):
    ham = (q.shape[1] - q @ db.T) / 2
    aps = []
    for i in range(len(q)):
        order = np.argsort(ham[i], kind="stable")[:k]
        rel = (dl[order] == ql[i]).astype(float)
        hits = rel.sum()
        aps.append(0.0 if hits == 0 else float((np.cumsum(rel) / np.arange(1, k + 1) * rel).sum() / hits))
    return float(np.mean(aps))


def cca(a, b, k, reg):
    ma, mb = a.mean(0), b.mean(0)
    a, b = a - ma, b - mb
    caa = a.T @ a / len(a) + reg * np.eye(a.shape[1])
    cbb = b.T @ b / len(b) + reg * np.eye(b.shape[1])
    cab = a.T @ b / len(a)

    def inv_sqrt(c):
        w, v = np.linalg.eigh(c)
        return v @ np.diag(w ** -0.5) @ v.T

    wa, wb = inv_sqrt(caa), inv_sqrt(cbb)
    u, _, vt = np.linalg.svd(wa @ cab @ wb)
    return ma, wa @ u[:, :k], mb, wb @ vt.T[:, :k]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data", "wikipedia"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--bits", default="16,32,64,128")
    p.add_argument("--json", action="store_true")
    o = p.parse_args()
    path = lambda f: os.path.join(o.data, f)
    if not os.path.exists(path("image_sift_bovw128.npy")):
        sys.exit(f"cca_wikipedia: no Wikipedia data at {o.data} (expected image_sift_bovw128.npy)")
    x = np.load(path("image_sift_bovw128.npy")).astype(np.float64)
    y = np.load(path("text_lda10.npy")).astype(np.float64)
    lab = np.load(path("labels_index.npy"))
    te = np.load(path("split_is_test.npy")).astype(bool)
    ma, pa, mb, pb = cca(x[~te], y[~te], 10, 1e-4)
    rng = np.random.default_rng(o.seed)
    for c in [int(b) for b in o.bits.split(",")]:
        r = rng.standard_normal((10, c))
        fx = lambda a: np.sign((a - ma) @ pa @ r)
        fy = lambda b: np.sign((b - mb) @ pb @ r)
        i2t = map_at_k(fx(x[te]), fy(y[~te]), lab[te], lab[~te])
        t2i = map_at_k(fy(y[te]), fx(x[~te]), lab[te], lab[~te])
        if o.json:
            print(json.dumps({"name": "cca", "bits": c, "seed": o.seed, "map_50": {"i2t": i2t, "t2i": t2i}}))
        else:
            print(f"{c:4d} bits  mAP@50 I→T {i2t:.3f}  T→I {t2i:.3f}")


if __name__ == "__main__":
    main()
