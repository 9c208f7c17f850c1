"""No input reaches Python as a Rust panic: every call, with each argument replaced in turn
by a bad value, returns or raises mfrnn.Error / TypeError — never RuntimeError or pyo3's
PanicException (a BaseException)."""

import math

import pytest

import mfrnn

SMALL = dict(phi="tanh", sigma_w=1.1, sigma_v=0.4, sigma_b=0.1, r=1.0)
CALLS = [
    (mfrnn.fixed_point, SMALL),
    (mfrnn.fixed_point, dict(cell="minimal", sigma_w=1.1, sigma_v=0.4, sigma_b=0.1, r=1.0,
                             theory="exact", paths=64, replicas=2, curve_paths=16, horizon=16)),
    (mfrnn.trajectory, dict(SMALL, steps=5)),
    (mfrnn.simulate, dict(SMALL, width=8, steps=3, seeds=2, batch=2)),
    (mfrnn.spectrum, dict(SMALL, steps=2, points=20)),
    (mfrnn.phase, dict(phi="tanh", x="sigma-w=0.5:1.5:2", y="sigma-b=0:0.5:2")),
    (mfrnn.init, dict(phi="tanh", q_star=0.5, r=1.0)),
    (mfrnn.expect, dict(phi="tanh", f="phi", q=1.0)),
]
BAD = [math.nan, math.inf, -math.inf, -1.0, 0.0, 1e300, -5, 10**15, "x", None]


def cases():
    for fn, base in CALLS:
        for key in base:
            for bad in BAD:
                yield pytest.param(fn, base, key, bad, id=f"{fn.__name__}-{key}-{bad!r}")


@pytest.mark.parametrize("fn,base,key,bad", list(cases()))
def test_bad_values_raise_typed_errors(fn, base, key, bad):
    kw = dict(base, **{key: bad})
    try:
        fn(**kw)
    except (ValueError, TypeError):
        pass
    except BaseException as e:  # noqa: BLE001 -- the point of the test
        pytest.fail(f"{fn.__name__}({key}={bad!r}) raised {type(e).__name__}: {e}")
