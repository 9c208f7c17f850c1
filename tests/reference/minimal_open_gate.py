#!/usr/bin/env python3
"""Reference fixed points of the factorised minimalRNN with a nearly open gate.

Writes tests/reference/minimal_open_gate.json.  For a gate bias mu_b >> sqrt(q) every
gate moment is an exponential series: sigma(-x) = sum_{n>=1} (-1)^{n+1} e^{-n x} for x > 0,
and the Gaussian mass below x = 0 (about exp(-mu_b^2 / 2q)) is far below 30 digits here,
so with x, y ~ N(mu_b, q) at correlation c

    E[1 - u]               = sum_n (-1)^{n+1} exp(-n mu_b + n^2 q / 2),
    E[(1 - u)^2]           = sum_{n,m} (-1)^{n+m} exp(-(n+m) mu_b + (n+m)^2 q / 2),
    E[(1 - u_a)(1 - u_b)]  = sum_{n,m} (-1)^{n+m} exp(-(n+m) mu_b + (n^2 + m^2 + 2 n m c) q / 2),

with E[u(1-u)] = E[1-u] - E[(1-u)^2] and 1 - E[u_a u_b] = 2 E[1-u] - E[(1-u_a)(1-u_b)].
The series are asymptotic: the n-th term is exp(-n mu_b + n^2 q / 2), smallest at
n = mu_b / q, where it is exp(-mu_b^2 / 2q); truncating after N < mu_b / q terms leaves an
error of about that size (from the terms left out and from the Gaussian mass at x < 0, where
the series does not converge).  The cases have mu_b^2 / 2q >= 150, i.e. 60 digits or more below
the values.  This is independent of the quadratures in mfrnn: closed-form sums instead of
integrals.

The fixed points solve (M.2), (M.3) of theory/03-minimal-rnn.md:
    Q* = R E[(1-u)^2] / E[1 - u^2]  at  q* = sigma_w^2 Q* + sigma_v^2 R + sigma_b^2,
    C* (1 - E[u_a u_b]) = E[(1-u_a)(1-u_b)] rho R  at  c = (sigma_w^2 C* + sigma_v^2 rho R
                                                           + sigma_b^2) / q*,
and c* = C*/Q*.  Computed at 40 digits with N = 0.6 mu_b/q and N = 0.8 mu_b/q terms, which
must agree to 1e-30.

Usage:  python3 tests/reference/minimal_open_gate.py
"""

import json
import os

import mpmath
from mpmath import mp, mpf

CASES = [
    # sigma_w, sigma_v, sigma_b, mu_b, R, rho
    ("6.89", "1", "0", "12", "0.46", "0.5"),
    ("6.89", "1", "0", "16", "0.46", "0.5"),
    ("3", "0.5", "0.1", "14", "0.5", "0.3"),
]


def moments(mu, q, c, terms):
    et = mpf(0)
    a = mpf(0)
    v = mpf(0)
    for n in range(1, terms + 1):
        et += (-1) ** (n + 1) * mpmath.exp(-n * mu + n * n * q / 2)
        for m in range(1, terms + 1):
            s = (-1) ** (n + m)
            a += s * mpmath.exp(-(n + m) * mu + (n + m) ** 2 * q / 2)
            v += s * mpmath.exp(-(n + m) * mu + (n * n + m * m + 2 * n * m * c) * q / 2)
    return et, a, v


def solve(case, share):
    sw, sv, sb, mu, r, rho = (mpf(x) for x in case)
    drive = sv ** 2 * r + sb ** 2
    # q* is drive plus sigma_w^2 Q*, and Q* is tiny here: the drive sets the truncation.
    terms = int(share * mu / (drive * (1 + mpf("1e-3"))))
    if mu ** 2 / (2 * drive) < 150:
        raise SystemExit(f"case {case}: mu_b^2/2q < 150, the series is not accurate enough")

    def qcond(big_q):
        q = sw ** 2 * big_q + drive
        et, a, _ = moments(mu, q, 0, terms)
        b = et - a
        return r * a / (a + 2 * b) - big_q

    q0 = r * mpmath.exp(-mu)  # the right order of magnitude
    big_q = q0 * mpmath.findroot(lambda y: qcond(y * q0) / q0, 1,
                                 tol=mpf(10) ** (-2 * mp.dps // 3))
    q = sw ** 2 * big_q + drive
    et, _, _ = moments(mu, q, 0, terms)

    # In the hidden correlation x = C/Q* and relative to E[1 − u] Q* (both factors are
    # tiny: an absolute tolerance would be meaningless).
    def ccond(x):
        big_c = x * big_q
        c = (sw ** 2 * big_c + sv ** 2 * rho * r + sb ** 2) / q
        _, _, v = moments(mu, q, c, terms)
        return (v * rho * r - (2 * et - v) * big_c) / (et * big_q)

    x = mpmath.findroot(ccond, rho, tol=mpf(10) ** (-2 * mp.dps // 3))
    return big_q, x


def main():
    out = []
    mp.dps = 40
    for case in CASES:
        q1, c1 = solve(case, mpf("0.6"))
        q2, c2 = solve(case, mpf("0.8"))
        if abs(q1 - q2) > mpf("1e-30") * abs(q2) or abs(c1 - c2) > mpf("1e-30"):
            raise SystemExit(f"truncation not converged for {case}: {q1} {q2} {c1} {c2}")
        out.append({
            "sigma_w": float(case[0]), "sigma_v": float(case[1]), "sigma_b": float(case[2]),
            "mu_b": float(case[3]), "r": float(case[4]), "rho": float(case[5]),
            "Q_star": mpmath.nstr(q2, 25), "c_star": mpmath.nstr(c2, 25),
        })
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "minimal_open_gate.json")
    with open(path, "w") as fh:
        json.dump({"generator": "tests/reference/minimal_open_gate.py", "cases": out}, fh,
                  indent=1)
        fh.write("\n")
    print(f"wrote {len(out)} cases to {path}")


if __name__ == "__main__":
    main()
