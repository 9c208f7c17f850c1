#!/usr/bin/env python3
"""Reference values for mfrnn::expect::logistic::logistic_moment (G.15).

Writes tests/reference/logistic_moments.json: for x ~ N(mu, q) and small integers
(a, b, k), the expectation E[(x - mu)^k sigma(x)^a sigma(-x)^b] as the natural
logarithm of its absolute value with its sign, and the logarithm of
E[|(x - mu)^k| sigma(x)^a sigma(-x)^b] (the scale the Rust routine's accuracy is
stated against).  Values range down to exp(-60000), far below the double range:
that is the point of the routine.

Each value is computed twice with mpmath, with different working precision,
quadrature rule and piece layout, on finite intervals in z = (x - mu)/sqrt(q)
around the maximiser of the integrand's logarithm (mpmath's quadrature on
infinite intervals is unreliable for integrands concentrated far from 0: it was
off by 8e-6 for E[exp(-2x)] at mu = 50).  The two must agree to 1e-18 relative
to the absolute integral, or nothing is written.

Usage:  python3 tests/reference/logistic.py
"""

import json
import os

import mpmath
from mpmath import mp, mpf

CASES_MU = ["-300", "-50", "-8", "0", "3", "8", "20", "50", "300", "30000"]
CASES_Q = ["0.001", "0.46", "5", "100", "10000"]
CASES_ABK = [(0, 2, 0), (1, 1, 0), (2, 2, 0), (1, 2, 1), (2, 1, 1), (0, 1, 0), (2, 0, 0)]
AGREE = mpf("1e-18")


def log_sigmoid(x):
    # ln sigma(x) = -softplus(-x)
    if x >= 0:
        return -mpmath.log1p(mpmath.exp(-x))
    return x - mpmath.log1p(mpmath.exp(x))


def moment(mu, q, a, b, k, dps, pieces, method):
    with mp.workdps(dps):
        mu, q = mpf(mu), mpf(q)
        sd = mpmath.sqrt(q)

        def big_l(z):
            x = mu + sd * z
            return a * log_sigmoid(x) + b * log_sigmoid(-x) - z * z / 2

        def dl(z):
            x = mu + sd * z
            s = 1 / (1 + mpmath.exp(-x))
            t = 1 - s if x < 0 else mpmath.exp(-x) / (1 + mpmath.exp(-x))
            return sd * (a * t - b * s) - z

        lo, hi = -b * sd - 1, a * sd + 1
        for _ in range(400):
            mid = (lo + hi) / 2
            if dl(mid) > 0:
                lo = mid
            else:
                hi = mid
        zs = (lo + hi) / 2
        m = big_l(zs)
        width = mpf(16)
        pts = set(mpmath.linspace(zs - width, zs + width, pieces))
        kink = -mu / sd
        for c in (zs, kink):
            if zs - width < c < zs + width:
                pts.add(c)
                d = mpf(1) / max(sd, 1) / 16
                while d < 2 * width:
                    for p in (c - d, c + d):
                        if zs - width < p < zs + width:
                            pts.add(p)
                    d *= 3
        if zs - width < 0 < zs + width:
            pts.add(mpf(0))  # the kink of |z|^k in the absolute integral
        pts = sorted(pts)

        def f(z, absolute):
            poly = (sd * z) ** k
            if absolute:
                poly = abs(poly)
            return poly * mpmath.exp(big_l(z) - m) / mpmath.sqrt(2 * mpmath.pi)

        val = mpmath.quad(lambda z: f(z, False), pts, method=method)
        l1 = val if k == 0 else mpmath.quad(lambda z: f(z, True), pts, method=method)
        return m, val, l1


def main():
    out = []
    for mu in CASES_MU:
        for q in CASES_Q:
            for (a, b, k) in CASES_ABK:
                m1, v1, l1 = moment(mu, q, a, b, k, 40, 25, "gauss-legendre")
                m2, v2, l2 = moment(mu, q, a, b, k, 48, 37, "tanh-sinh")
                with mp.workdps(55):
                    # Both on the scale of set-up 2.
                    v1s = v1 * mpmath.exp(m1 - m2)
                    l1s = l1 * mpmath.exp(m1 - m2)
                    if abs(v1s - v2) > AGREE * l2 or abs(l1s - l2) > AGREE * l2:
                        raise SystemExit(f"disagreement at mu={mu} q={q} abk={(a, b, k)}: "
                                         f"{v1s} vs {v2}, {l1s} vs {l2}")
                    sign = 0 if v2 == 0 else (1 if v2 > 0 else -1)
                    ln_abs = m2 + mpmath.log(abs(v2)) if v2 != 0 else None
                    ln_l1 = m2 + mpmath.log(l2)
                out.append({
                    "mean": float(mu), "q": float(q), "a": a, "b": b, "k": k,
                    "sign": sign,
                    "ln_abs": None if ln_abs is None else mpmath.nstr(ln_abs, 30),
                    "ln_l1": mpmath.nstr(ln_l1, 30),
                })
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "logistic_moments.json")
    with open(path, "w") as fh:
        json.dump({"generator": "tests/reference/logistic.py", "cases": out}, fh, indent=1)
        fh.write("\n")
    print(f"wrote {len(out)} cases to {path}")


if __name__ == "__main__":
    main()
