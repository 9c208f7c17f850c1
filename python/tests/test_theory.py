"""Mean-field and exact theory calls against the CLI's JSON."""

import numpy as np
import pytest

import mfrnn
from conftest import cli, flags, same

VANILLA = dict(phi="tanh", sigma_w=1.3, sigma_v=0.5, sigma_b=0.1, r=1.0)
MINIMAL = dict(cell="minimal", sigma_w=1.2, sigma_v=0.8, sigma_b=0.3, mu_b=0.5, r=1.0)


@pytest.mark.parametrize("kw", [VANILLA, dict(VANILLA, rho=0.5), MINIMAL, dict(MINIMAL, rho=1.0),
                                dict(phi="relu", sigma_w=1.0, sigma_v=0.3, sigma_b=0.2, r=2.0)])
def test_fixed_point_matches_cli(kw):
    same(mfrnn.fixed_point(**kw), cli("fixed-point", *flags(**kw)))


def test_fixed_point_exact_matches_cli():
    kw = dict(MINIMAL, theory="exact", paths=256, replicas=4, curve_paths=32, horizon=40, seed=3)
    same(mfrnn.fixed_point(**kw), cli("fixed-point", *flags(**kw)))


def test_fixed_point_types():
    r = mfrnn.fixed_point(**VANILLA)
    assert isinstance(r, mfrnn.Result) and isinstance(r.q_star, float)
    assert isinstance(r.iterations, int) and r.phase in ("ordered", "chaotic", "critical")
    with pytest.raises(AttributeError):
        r.q_star = 1.0
    assert r.to_dict()["variance_fixed_points"][0]["q"] == r.q_star


@pytest.mark.parametrize("f,g,c", [("phi^2", None, None), ("dphi", "phi", 0.3), ("phi", "phi", -0.5)])
def test_expect_matches_cli(f, g, c):
    kw = dict(phi="erf", f=f, q=1.7, mean=0.2)
    if g is not None:
        kw["g"] = g
    if c is not None:
        kw["c"] = c
    same(mfrnn.expect(**kw), cli("expect", *flags(**kw)))


def test_expect_of_a_python_callable():
    # E[u^4] = 3 q^2 for u ~ N(0, q): a closed form the quadrature of a callable must meet.
    e = mfrnn.expect(f=lambda x: x**4, q=2.0)
    assert abs(e.value - 12.0) <= max(1e-10, 10 * e.error_estimate)
    with pytest.raises(ZeroDivisionError):
        mfrnn.expect(f=lambda x: 1 / 0, q=1.0)
