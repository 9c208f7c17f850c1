#!/usr/bin/env python3
"""The cost of calling mfrnn from Python (docs/performance.md, "Python package").

1. 10^4 mean-field fixed_point calls (tanh, the three regimes of `cargo bench --bench
   vanilla`) through the package (`mfrnn.fixed_point`: argument parsing, the library call, its
   JSON object as Python dicts and NumPy arrays, the read-only Result), through the extension
   alone (`mfrnn._native.fixed_point`, plain dicts), and the same library work in a Rust loop in
   the same process (`mfrnn._native._rust_fixed_point_loop`). The difference is the overhead.
2. The 200 x 200 xi_c phase diagram of the tanh RNN (sigma_w x sigma_b, as
   benches/peers/numpy_phase_diagram.py and `cargo bench --bench vanilla`): `mfrnn.phase`
   against the CLI writing the same diagram as JSON (median of --repeats runs each).

Needs the package installed (`pip install ./python`) and the CLI built (`cargo build
--release`). Usage: python benches/peers/python_overhead.py [--calls 10000] [--repeats 3]
"""
import argparse
import os
import pathlib
import statistics
import subprocess
import tempfile
import time

import mfrnn
from mfrnn import _native

ap = argparse.ArgumentParser()
ap.add_argument("--calls", type=int, default=10_000)
ap.add_argument("--repeats", type=int, default=3)
args = ap.parse_args()
n = args.calls

print(f"fixed_point, {n} calls each, µs per call (median of {args.repeats} runs)")
print("| regime | Rust loop | _native.fixed_point | mfrnn.fixed_point | overhead (package − Rust) |")
print("|---|---|---|---|---|")
for label, sw, sb in [("ordered", 0.9, 0.3), ("near-critical", 1.2, 0.1), ("chaotic", 2.5, 0.3)]:
    kw = dict(phi="tanh", sigma_w=sw, sigma_v=0.0, sigma_b=sb, r=1.0, rho=1.0)
    rust, native, pkg = [], [], []
    for _ in range(args.repeats):
        rust.append(_native._rust_fixed_point_loop(n, **kw) / n)
        t = time.perf_counter()
        for _ in range(n):
            _native.fixed_point(**kw)
        native.append((time.perf_counter() - t) / n)
        t = time.perf_counter()
        for _ in range(n):
            mfrnn.fixed_point(**kw)
        pkg.append((time.perf_counter() - t) / n)
    r, a, b = (statistics.median(x) * 1e6 for x in (rust, native, pkg))
    print(f"| {label} | {r:.1f} | {a:.1f} | {b:.1f} | {b - r:.1f} µs ({(b - r) / r:.0%}) |")

root = pathlib.Path(__file__).resolve().parents[2]
cli = os.environ.get("MFRNN_CLI", str(root / "target" / "release" / "mfrnn"))
grid = dict(phi="tanh", x="sigma-w=0.5:3:200", y="sigma-b=0:1:200", quantity="xi_c")
py_t, cli_t = [], []
for _ in range(args.repeats):
    t = time.perf_counter()
    d = mfrnn.phase(**grid)
    py_t.append(time.perf_counter() - t)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        subprocess.run([cli, "phase", "--phi", "tanh", "--x", grid["x"], "--y", grid["y"],
                        "--quantity", "xi_c", "--out", f"{tmp}/p.json"], check=True,
                       capture_output=True)
        cli_t.append(time.perf_counter() - t)
assert d["values"].shape == (200, 200)
print(f"\nphase diagram 200 x 200 (tanh xi_c): mfrnn.phase {statistics.median(py_t):.3f} s, "
      f"CLI (incl. process start and writing JSON) {statistics.median(cli_t):.3f} s")
