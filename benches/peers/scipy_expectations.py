#!/usr/bin/env python3
"""Peer comparison for docs/performance.md: the same Gaussian expectations as
benches/expectations.rs, computed with scipy.integrate.quad / dblquad on this machine.

Not part of CI (needs numpy + scipy: `pip install numpy scipy`). Prints a Markdown table of
median wall time per call and the error against mpmath (30 digits).

    python3 benches/peers/scipy_expectations.py
"""
import math
import statistics
import time

import mpmath
from scipy import integrate

SQ2PI = math.sqrt(2 * math.pi)


def phi(z):
    return math.exp(-0.5 * z * z) / SQ2PI


def timeit(fn, min_time=0.3):
    times = []
    start = time.perf_counter()
    while time.perf_counter() - start < min_time or len(times) < 5:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def mp_1d(f, q, mean=0.0):
    mpmath.mp.dps = 30
    s = mpmath.sqrt(q)
    g = lambda z: f(mean + s * z) * mpmath.npdf(z)
    pts = [-40, -mpmath.mpf(mean) / s, 40] if mean != 0 else [-40, 0, 40]
    pts = sorted(set(pts))
    return mpmath.quad(g, pts)


def mp_2d(f, q, c):
    mpmath.mp.dps = 20
    s = mpmath.sqrt(q)
    sc = mpmath.sqrt((1 - mpmath.mpf(c)) * (1 + mpmath.mpf(c)))
    def outer(z1):
        inner = lambda z2: f(s * (c * z1 + sc * z2)) * mpmath.npdf(z2)
        z0 = -c * z1 / sc
        return f(s * z1) * mpmath.npdf(z1) * mpmath.quad(inner, [-20, z0, 20])
    return mpmath.quad(outer, [-20, 0, 20])


rows = []
for q in [0.1, 1.0, 4.0, 10.0]:
    s = math.sqrt(q)
    f = lambda z: math.tanh(s * z) ** 2 * phi(z)
    ref = float(mp_1d(lambda x: mpmath.tanh(x) ** 2, q))
    for label, kw in [("default tol", {}), ("epsabs=1e-14, epsrel=1e-13", dict(epsabs=1e-14, epsrel=1e-13, limit=200))]:
        val = integrate.quad(f, -math.inf, math.inf, **kw)[0]
        t = timeit(lambda: integrate.quad(f, -math.inf, math.inf, **kw))
        rows.append(("1-D", f"tanh phi^2 q={q:g}", label, t * 1e6, abs(val - ref) / abs(ref)))

for q, c in [(1.0, 0.3), (1.0, 0.9), (1.0, 0.99), (4.0, 0.9), (10.0, 0.6)]:
    s = math.sqrt(q)
    sc = math.sqrt((1 - c) * (1 + c))
    g = lambda z2, z1: math.tanh(s * z1) * math.tanh(s * (c * z1 + sc * z2)) * phi(z1) * phi(z2)
    ref = float(mp_2d(mpmath.tanh, q, c))
    for label, kw in [("default tol", {}), ("epsabs=1e-13, epsrel=1e-12", dict(epsabs=1e-13, epsrel=1e-12))]:
        val = integrate.dblquad(g, -12, 12, -12, 12, **kw)[0]
        t = timeit(lambda: integrate.dblquad(g, -12, 12, -12, 12, **kw), min_time=0.5)
        rows.append(("2-D", f"tanh phi.phi q={q:g} c={c}", label, t * 1e6, abs(val - ref) / abs(ref)))

print("| dim | case | scipy setting | median time (µs) | relative error vs mpmath |")
print("|---|---|---|---|---|")
for r in rows:
    print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.1f} | {r[4]:.1e} |")
