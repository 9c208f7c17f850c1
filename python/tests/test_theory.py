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


@pytest.mark.parametrize("kw", [
    dict(VANILLA, steps=30, rho=0.4),
    dict(VANILLA, rho_schedule="0.3x1,1x19"),
    dict(MINIMAL, steps=25),
])
def test_trajectory_matches_cli(kw):
    r = mfrnn.trajectory(**kw)
    same(r, cli("trajectory", *flags(**kw)))
    t = len(r.t)
    assert r.t.dtype == np.int64 and r.q.dtype == np.float64 and r.q.shape == (t,)


def test_trajectory_schedule_as_a_sequence():
    a = mfrnn.trajectory(**VANILLA, rho_schedule=[0.3] + [1.0] * 19)
    b = mfrnn.trajectory(**VANILLA, rho_schedule="0.3x1,1x19")
    same(a, b.to_dict())


@pytest.mark.parametrize("kw", [
    dict(MINIMAL, theory="exact", steps=12, units=800, replicas=4, seed=5, sampler="full"),
    dict(MINIMAL, theory="exact", steps=120, units=400, replicas=4, seed=2, sampler="banded"),
    dict(VANILLA, theory="exact", steps=8, units=600, replicas=3, untied=True),
])
def test_exact_trajectory_matches_cli(kw):
    r = mfrnn.trajectory(**kw)
    same(r, cli("trajectory", *flags(**kw)))
    assert r.q_se.shape == r.q.shape


def test_simulate_matches_cli():
    kw = dict(VANILLA, width=48, steps=10, seeds=2, batch=3, seed=7, weights="orthogonal")
    r = mfrnn.simulate(**kw)
    same(r, cli("simulate", *flags(**kw)))
    assert r.q.shape == (10,) and r.q_se.dtype == np.float64


def phase_cli(tmp_path, **kw):
    import json
    out = tmp_path / "phase.json"
    from conftest import CLI
    import subprocess
    p = subprocess.run([str(CLI), "phase", *flags(**kw), "--out", str(out)], capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    d = json.loads(out.read_text())
    d.pop("mfrnn_output")  # the file's signature
    return d


@pytest.mark.parametrize("kw", [
    dict(phi="tanh", x="sigma-w=0.5:2.5:7", y="sigma-b=0:0.6:4", quantity="xi_c", sigma_v=0.3),
    dict(cell="minimal", x="mu-b=-2:2:5", y="sigma-w=0.5:1.5:3", quantity="chi_1", rho=0.0),
    # xi_c is undefined on the whole row sigma_b = 0 (q* = 0 or c* = 1 everywhere there)
    dict(phi="tanh", x="sigma-w=0.5:3:3", y="sigma-b=0:1:3", quantity="xi_c"),
])
def test_phase_matches_cli(tmp_path, kw):
    r = mfrnn.phase(**kw)
    same(r, phase_cli(tmp_path, **kw))
    ny, nx = int(kw["y"].split(":")[-1]), int(kw["x"].split(":")[-1])
    assert r["values"].shape == (ny, nx) and r["values"].dtype == np.float64
    assert r.chi_1.shape == (ny, nx)
    if kw["x"] == "sigma-w=0.5:3:3":
        assert np.isnan(r["values"][0]).all() and not np.isnan(r["values"][1:]).any()


def test_phase_axis_as_a_tuple(tmp_path):
    a = mfrnn.phase(phi="erf", x=("sigma-w", 0.5, 2.0, 4), y=("sigma-b", 0.0, 0.5, 3))
    b = mfrnn.phase(phi="erf", x="sigma-w=0.5:2.0:4", y="sigma-b=0.0:0.5:3")
    same(a, b.to_dict())


def test_exact_phase_matches_cli(tmp_path):
    kw = dict(cell="minimal", x="sigma-w=0.8:1.2:2", y="mu-b=0:1:2", quantity="chi_1",
              theory="exact", paths=64, replicas=2, curve_paths=16, horizon=16, seed=4)
    r = mfrnn.phase(**kw)
    same(r, phase_cli(tmp_path, **kw))
    assert r["values"].shape == (2, 2)


@pytest.mark.parametrize("kw", [
    dict(VANILLA, steps=5, points=60),
    dict(VANILLA, steps=3, points=40, weights="gaussian", simulate=True, width=40, seeds=2,
         seed=3, burn_in=20),
    dict(VANILLA, steps=4, points=40, transient=True, burn_in=3),
    dict(MINIMAL, steps=3, points=40, units=400, burn_in=10, seed=2),
])
def test_spectrum_matches_cli(kw):
    r = mfrnn.spectrum(**kw)
    same(r, cli("spectrum", *flags(**kw)))
    assert r["lambda"].shape == r.density.shape and r.density.dtype == np.float64
    assert r.support.shape == (2,)


@pytest.mark.parametrize("kw", [
    dict(phi="tanh", q_star=0.5, r=1.0, sigma_b=0.1),
    dict(phi="erf", q_star=1.2, r=1.0, sigma_v=0.4, horizon=20),
    dict(cell="minimal", q_star=10.0, mu_b=1.0, r=1.0, seed=3),
    dict(phi="tanh", r=1.0, max_width_ratio=3.0, horizon=10, weights="orthogonal"),
])
def test_init_matches_cli(kw):
    same(mfrnn.init(**kw), cli("init", *flags(**kw)))


def test_init_sampled_weights_are_the_cli_files(tmp_path):
    kw = dict(phi="tanh", q_star=0.5, r=1.0, sigma_b=0.1, width=24, input_dim=5, seed=9,
              weights="orthogonal")
    r = mfrnn.init(**kw, sample=True)
    js = cli("init", *flags(**kw), "--sample", "--out", str(tmp_path / "w"))
    files = js.pop("files")
    assert len(files) == 4
    same({k: v for k, v in r.items() if k not in ("W", "V", "b")}, js)
    for name, shape in [("W", (24, 24)), ("V", (24, 5)), ("b", (24,))]:
        a = r[name]
        assert a.shape == shape and a.dtype == np.float64 and a.flags.c_contiguous
        assert np.array_equal(a, np.load(tmp_path / "w" / f"{name}.npy"))
    # orthogonal W scaled by sigma_w: W Wᵀ = sigma_w² I
    assert np.allclose(r.W @ r.W.T, r.sigma_w**2 * np.eye(24), atol=1e-12)


def test_exact_init_matches_cli():
    kw = dict(cell="minimal", theory="exact", q_star=10.0, mu_b=1.0, r=1.0, paths=128,
              replicas=2, seed=2)
    same(mfrnn.init(**kw), cli("init", *flags(**kw)))
