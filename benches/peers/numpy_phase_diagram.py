#!/usr/bin/env python3
"""Peer comparison for docs/performance.md: the xi_c phase diagram of the vanilla tanh RNN
(sigma_w x sigma_b, 200 x 200, no inputs, identical inputs rho = 1) written the way a
researcher would in vectorised numpy: Gauss-Hermite quadrature, the variance map and the
correlation map iterated to their fixed points, all grid points at once.

Not part of CI (needs numpy). Usage:

    python3 benches/peers/numpy_phase_diagram.py [--nodes 50] [--iters 300]
    cargo run --release -- phase --phi tanh --x sigma-w=0.5:3:200 --y sigma-b=0:1:200 \
        --quantity xi_c --out /tmp/mfrnn.json

then the script compares its values with /tmp/mfrnn.json if present.
"""
import argparse
import json
import math
import time

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

ap = argparse.ArgumentParser()
ap.add_argument("--nodes", type=int, default=50)
ap.add_argument("--iters", type=int, default=300)
ap.add_argument("--n", type=int, default=200)
args = ap.parse_args()

z, w = hermegauss(args.nodes)
w = w / math.sqrt(2 * math.pi)
sw = np.linspace(0.5, 3.0, args.n)
sb = np.linspace(0.0, 1.0, args.n)
SW, SB = np.meshgrid(sw, sb)  # rows: sigma_b, columns: sigma_w

t0 = time.perf_counter()
# Variance map q = sw^2 E[tanh(sqrt(q) z)^2] + sb^2, iterated.
q = np.ones_like(SW)
for _ in range(args.iters):
    q = SW**2 * (np.tanh(np.sqrt(q)[..., None] * z) ** 2 @ w) + SB**2
s = np.sqrt(q)[..., None, None]
chi1 = SW**2 * ((1 - np.tanh(np.sqrt(q)[..., None] * z) ** 2) ** 2 @ w)
# Correlation map c -> (sw^2 E[tanh(u1) tanh(u2)] + sb^2)/q with a tensor rule.
Z1, Z2 = np.meshgrid(z, z, indexing="ij")
W2 = np.outer(w, w)
u1 = np.tanh(s * Z1)
c = np.full_like(SW, 0.5)
for _ in range(args.iters):
    cc = c[..., None, None]
    u2 = np.tanh(s * (cc * Z1 + np.sqrt(np.clip(1 - cc**2, 0, None)) * Z2))
    c = (SW**2 * np.einsum("...ij,ij->...", u1 * u2, W2) + SB**2) / q
    c = np.minimum(c, 1.0)
cc = c[..., None, None]
d1 = 1 - u1**2
d2 = 1 - np.tanh(s * (cc * Z1 + np.sqrt(np.clip(1 - cc**2, 0, None)) * Z2)) ** 2
chic = SW**2 * np.einsum("...ij,ij->...", d1 * d2, W2)
with np.errstate(divide="ignore", invalid="ignore"):
    xi = np.where(chic < 1, -1 / np.log(chic), np.inf)
elapsed = time.perf_counter() - t0
print(f"numpy: {args.n}x{args.n} grid, {args.nodes} Gauss-Hermite nodes, {args.iters} iterations: {elapsed:.1f} s")

try:
    ref = json.load(open("/tmp/mfrnn.json"))
except OSError:
    raise SystemExit(0)
vals = ref["values"]
rel = []
for j in range(args.n):
    for i in range(args.n):
        r = vals[j][i]
        if r is None or not math.isfinite(xi[j, i]):
            continue
        rel.append(abs(xi[j, i] - r) / r)
rel = np.array(rel)
print(f"relative difference of xi_c vs mfrnn over {rel.size} finite points: "
      f"median {np.median(rel):.1e}, 90% {np.quantile(rel, 0.9):.1e}, max {rel.max():.1e}")
