#!/usr/bin/env python3
"""Peer comparison with neural-tangents (docs/performance.md, "Peer: neural-tangents").

The mean-field recursion of the vanilla RNN with untied weights and fresh inputs,

    q^t    = σ_w² Q^{t-1} + σ_v² R   + σ_b²,   Q^t = E[φ(u)²],
    q_ab^t = σ_w² C^{t-1} + σ_v² ρ R + σ_b²,   C^t = E[φ(u_a) φ(u_b)],   h^0 = 0,

is the NNGP kernel recursion of a deep fully connected network in which the input is fed
again to every layer. In neural-tangents (stax) this is, for one step,

    step(h-branch) = FanOut(2) >> parallel(h-branch >> Dense(W_std=σ_w, b_std=0),
                                             Dense(W_std=σ_v, b_std=σ_b))   # on the raw input x
                     >> FanInSum() >> φ

with the first step `Dense(W_std=σ_v, b_std=σ_b) >> φ` (h^0 = 0 removes the σ_w term). The
inputs x_a, x_b have x·x/d = R and x_a·x_b/d = ρR. FanInSum adds the kernels of its (independent)
branches, which is exactly the sum of the σ_w² and σ_v²ρR + σ_b² terms ("reinject" below).

When ρ^t = 1 for t ≥ 2 (the ξ_c schedule `ρ₁x1,1x(T-1)`) the input term is the same constant
σ_v² R + σ_b² on and off the diagonal, and the plain chain

    Dense(W_std=σ_v, b_std=σ_b) >> φ >> [Dense(W_std=σ_w, b_std=b_eff) >> φ] * (T-1),
    b_eff = sqrt(σ_v² R + σ_b²),

is exact ("chain" below). For a constant ρ < 1 the chain is not: b_std² adds the same constant
to every kernel entry, so it cannot give σ_v² R on the diagonal and σ_v² ρ R off it.

φ: `stax.Erf()` (closed-form arcsine kernel, erf unscaled as mfrnn's `--phi erf`) and
`stax.ElementwiseNumerical(jnp.tanh, deg)` (NT has no closed-form tanh kernel: deg × deg
Gauss–Hermite quadrature).

The "reinject" kernel is computed by composing these stax layers' kernel functions step by step
(a single nested stax.serial does not scale to T = 50-100; see docs/performance.md). Variances
Q^T are read from the kernel's `cov1`, correlations C^T from the off-diagonal NNGP entry.

Environment (neural-tangents 0.6.5 does not import with current jax):
    python3 -m venv nt && nt/bin/pip install neural-tangents
    nt/bin/pip install jax==0.4.30 jaxlib==0.4.30 tf2jax==0.3.6 numpy==2.0.2

Run (twice, float32 is jax's default):
    python3 benches/peers/neural_tangents_kernel.py
    python3 benches/peers/neural_tangents_kernel.py --x64
Needs the mfrnn binary (`cargo build --release`; path via --mfrnn) for the reference values.
"""

import argparse
import concurrent.futures as cf
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--x64", action="store_true", help="enable jax_enable_x64 (float64 kernels)")
ap.add_argument("--grid", type=int, default=50, help="grid points per axis (default 50)")
ap.add_argument("--steps", default="10,50,100", help="comma-separated T values")
ap.add_argument("--repeats", type=int, default=5, help="timed repeats after warm-up (median)")
ap.add_argument("--tanh-deg", default="25,50", help="Gauss-Hermite degrees for tanh")
ap.add_argument("--mfrnn", default=os.path.join(os.path.dirname(__file__), "..", "..", "target", "release", "mfrnn"))
ap.add_argument("--no-compare", action="store_true", help="skip the grid comparison with mfrnn")
args = ap.parse_args()

import jax  # noqa: E402

jax.config.update("jax_enable_x64", args.x64)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import neural_tangents as nt  # noqa: E402
from neural_tangents import stax  # noqa: E402

SIGMA_V, R, RHO = 0.5, 1.0, 0.5
SW = np.linspace(0.5, 3.0, args.grid)
SB = np.linspace(0.0, 1.0, args.grid)
STEPS = [int(s) for s in args.steps.split(",")]


def inputs(rho, r=R):
    """Two inputs in d = 2 with x·x/d = r and x_a·x_b/d = rho·r."""
    s = np.sqrt(2 * r)
    return jnp.array([[s, 0.0], [s * rho, s * np.sqrt(1 - rho * rho)]])


def phi_layer(phi, deg):
    return stax.Erf() if phi == "erf" else stax.ElementwiseNumerical(jnp.tanh, deg=deg)


def reinject(sw, sb, T, phi, deg=25, sv=SIGMA_V):
    """T RNN steps, input re-fed to every layer (exact for any constant ρ).

    Composes stax's own layer kernel functions step by step:
    k^1 = φ(k_x), k^t = φ(FanInSum([Dense(σ_w, 0)(k^{t-1}), k_x])), k_x = Dense(σ_v, σ_b)(x).
    (The same network written as one nested stax.serial(FanOut, parallel, FanInSum, φ) gives
    identical values at T = 10 but does not scale: see docs/performance.md.)
    """
    _, _, k_in = stax.Dense(1, W_std=sv, b_std=sb)
    _, _, k_w = stax.Dense(1, W_std=sw, b_std=0.0)
    _, _, k_sum = stax.FanInSum()
    _, _, k_phi = phi_layer(phi, deg)

    def kernel_fn(x, x2=None, get=("nngp", "cov1")):
        kx = k_in(x, x2, None).replace(ntk=None)  # NNGP only
        k = k_phi(kx)
        for _ in range(T - 1):
            k = k_phi(k_sum([k_w(k), kx]))
        return k.nngp, k.cov1

    return kernel_fn


def chain(sw, sb, T, phi, deg=25, sv=SIGMA_V, r=R):
    """Plain deep FC chain (exact for the schedule ρ₁ at t = 1, then ρ = 1)."""
    b_eff = jnp.sqrt(sv * sv * r + sb * sb)
    layers = [stax.Dense(1, W_std=sv, b_std=sb), phi_layer(phi, deg)]
    for _ in range(T - 1):
        layers += [stax.Dense(1, W_std=sw, b_std=b_eff), phi_layer(phi, deg)]
    return stax.serial(*layers)[2]


def grid_fn(builder, T, phi, x, deg=25):
    """jit(vmap) over the flattened (σ_w, σ_b) grid; returns the 2 × 2 NNGP per point."""
    def one(sw, sb):
        return builder(sw, sb, T, phi, deg)(x, None, ("nngp", "cov1"))
    return jax.jit(jax.vmap(one))


def timed(f, *a):
    t0 = time.perf_counter()
    out = jax.block_until_ready(f(*a))
    return time.perf_counter() - t0, out


def mfrnn_traj(phi, sw, sb, T, rho_sched):
    cmd = [args.mfrnn, "trajectory", "--phi", phi, "--sigma-w", repr(float(sw)), "--sigma-v", repr(SIGMA_V),
           "--sigma-b", repr(float(sb)), "--r", repr(R), "--rho-schedule", rho_sched, "--json"]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def mfrnn_grid(phi, T, rho_sched):
    """Q^t and C^t (t = 1..T) from the mfrnn CLI over the grid; shape (n, n, T) each."""
    pts = [(i, j) for i in range(len(SW)) for j in range(len(SB))]
    Q = np.zeros((len(SW), len(SB), T))
    C = np.zeros_like(Q)
    with cf.ThreadPoolExecutor(max_workers=2) as ex:
        for (i, j), d in zip(pts, ex.map(lambda p: mfrnn_traj(phi, SW[p[0]], SB[p[1]], T, rho_sched), pts)):
            Q[i, j] = d["Q"]
            C[i, j] = d["C"]
    return Q, C


def rel_err(a, b):
    """max and median of |a - b| / |b| (b the mfrnn reference)."""
    e = np.abs(np.asarray(a, dtype=np.float64) - b) / np.abs(b)
    return float(e.max()), float(np.median(e))


def main():
    dtype = "float64 (jax_enable_x64)" if args.x64 else "float32 (jax default)"
    print(f"neural-tangents {nt.__version__}, jax {jax.__version__}, jaxlib {jax.lib.__version__ if hasattr(jax.lib, '__version__') else '?'}, "
          f"devices {jax.devices()}, dtype {dtype}, python {platform.python_version()}")
    print(f"grid {len(SW)} x {len(SB)}: sigma_w in [0.5, 3], sigma_b in [0, 1]; sigma_v = {SIGMA_V}, R = {R}")
    sw_flat = jnp.asarray(np.repeat(SW, len(SB)))
    sb_flat = jnp.asarray(np.tile(SB, len(SW)))
    n = len(SW)

    cases = [("erf", "reinject", reinject, RHO, None)]
    cases += [("erf", "chain", chain, RHO, None)]
    cases += [("tanh", "reinject", reinject, RHO, int(d)) for d in args.tanh_deg.split(",") if d]
    Tmax = max(STEPS)
    ref = {}
    if not args.no_compare:
        t0 = time.perf_counter()
        for phi in ["erf", "tanh"]:
            ref[(phi, "reinject")] = mfrnn_grid(phi, Tmax, f"{RHO}x{Tmax}")
        ref[("erf", "chain")] = mfrnn_grid("erf", Tmax, f"{RHO}x1,1x{Tmax - 1}")
        print(f"mfrnn reference grids (CLI, {3 * n * n} processes, 2 threads): {time.perf_counter() - t0:.1f} s")

    print()
    print("| phi | architecture (rho) | T | compile + first call (s) | median call (s) | per grid point (us) "
          "| max rel err Q^T | median rel err Q^T | max rel err C^T | median rel err C^T | max rel err nngp[0,0] |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for phi, arch, builder, rho, deg in cases:
        x = inputs(rho)
        for T in STEPS:
            f = grid_fn(builder, T, phi, x, deg if deg else 25)
            t_first, out = timed(f, sw_flat, sb_flat)
            times = [timed(f, sw_flat, sb_flat)[0] for _ in range(args.repeats)]
            med = statistics.median(times)
            # Q^T from cov1 (the variance map); C^T from the off-diagonal NNGP entry. The NNGP
            # diagonal is propagated by the two-point map at c = 1, which is unstable in the
            # chaotic phase: reported separately.
            K = np.asarray(out[0]).reshape(n, n, 2, 2)
            V = np.asarray(out[1]).reshape(n, n, 2)
            errs = ["", "", "", "", ""]
            if (phi, arch) in ref:
                Qr, Cr = ref[(phi, arch)]
                errs = [f"{v:.1e}" for v in rel_err(V[:, :, 0], Qr[:, :, T - 1]) + rel_err(K[:, :, 0, 1], Cr[:, :, T - 1])
                        + rel_err(K[:, :, 0, 0], Qr[:, :, T - 1])[:1]]
            label = f"{arch} (rho = {rho}{', then 1' if arch == 'chain' else ''})" + (f", deg {deg}" if deg else "")
            print(f"| {phi} | {label} | {T} | {t_first:.2f} | {med:.4f} | {1e6 * med / (n * n):.2f} | "
                  + " | ".join(errs) + " |", flush=True)

    # A few settings in full, for reading off against `mfrnn trajectory`.
    print()
    print("Spot values at T = 10 and the last T (reinject, erf, rho = 0.5): NT vs mfrnn")
    for sw, sb in [(0.9, 0.3), (1.2, 0.1), (2.5, 0.3)]:
        for T in sorted({10, Tmax}):
            K, V = (np.asarray(a) for a in reinject(sw, sb, T, "erf")(inputs(RHO)))
            d = mfrnn_traj("erf", sw, sb, T, f"{RHO}x{T}")
            print(f"sigma_w={sw} sigma_b={sb} T={T}: NT Q={V[0]:.16g} C={K[0, 1]:.16g} | "
                  f"mfrnn Q={d['Q'][-1]:.16g} C={d['C'][-1]:.16g} | rel err Q {abs(V[0] / d['Q'][-1] - 1):.1e} "
                  f"C {abs(K[0, 1] / d['C'][-1] - 1):.1e}")


# stax's kernel functions recurse through nested combinators (several Python frames per layer):
# headroom for deep networks.
sys.setrecursionlimit(200_000)
threading.stack_size(512 * 1024 * 1024)
th = threading.Thread(target=main)
th.start()
th.join()
