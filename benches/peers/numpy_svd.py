#!/usr/bin/env python3
"""Peer comparison for docs/performance.md: singular values of a Gaussian N x N matrix with
entries N(0, 1/N) (the matrices of benches/jacobian.rs, group `jacobian_svd`), computed with
`np.linalg.svd(a, compute_uv=False)` (LAPACK dgesdd through whatever BLAS/LAPACK numpy was
built with) at N = 200, 400, 800. Prints the median wall time per call over repeats
(`timeit`), and the BLAS/LAPACK numpy uses, so the page can say what was measured.

The thread count is fixed before numpy is imported (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS,
MKL_NUM_THREADS, ...), so run the script once per setting:

Not part of CI (needs numpy: `pip install numpy`). Usage:

    python3 benches/peers/numpy_svd.py --threads 1
    python3 benches/peers/numpy_svd.py --threads 2
"""
import argparse
import os
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=1, help="BLAS/LAPACK threads (default 1)")
ap.add_argument("--sizes", type=int, nargs="+", default=[200, 400, 800])
ap.add_argument("--min-time", type=float, default=2.0, help="seconds of timing per size")
args = ap.parse_args()

# Must happen before numpy (and its BLAS) is loaded.
for var in [
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
]:
    os.environ[var] = str(args.threads)

import statistics  # noqa: E402
import timeit  # noqa: E402

import numpy as np  # noqa: E402


def blas_summary():
    """One line per BLAS/LAPACK library: threadpoolctl if installed, else np.show_config."""
    try:
        from threadpoolctl import threadpool_info

        return [
            f"{d.get('internal_api')} {d.get('version')} ({d.get('architecture')}), "
            f"{d.get('threading_layer')}, {d.get('num_threads')} threads: {d.get('filepath')}"
            for d in threadpool_info()
        ]
    except ImportError:
        pass
    try:
        cfg = np.show_config(mode="dicts")
        deps = cfg.get("Build Dependencies", {})
        return [
            f"{k}: {v.get('name')} {v.get('version')} {v.get('openblas configuration', '')}"
            for k, v in deps.items()
        ]
    except TypeError:  # numpy < 1.26: no mode="dicts"
        np.show_config()
        return []


print(f"python {sys.version.split()[0]}, numpy {np.__version__}, threads requested: {args.threads}")
for line in blas_summary():
    print(f"  {line}")

rng = np.random.default_rng(7)
print()
print("| N | numpy svd(compute_uv=False), median (ms) | repeats |")
print("|---|---|---|")
for n in args.sizes:
    a = rng.standard_normal((n, n)) / np.sqrt(n)
    fn = lambda: np.linalg.svd(a, compute_uv=False)  # noqa: E731
    s = fn()
    # Sanity: the largest singular value of a square Gaussian matrix is about 2.
    assert 1.5 < s[0] < 2.5, s[0]
    one = timeit.timeit(fn, number=1)
    repeat = max(5, min(200, int(args.min_time / max(one, 1e-6))))
    times = timeit.repeat(fn, number=1, repeat=repeat)
    print(f"| {n} | {1e3 * statistics.median(times):.2f} | {repeat} |")
