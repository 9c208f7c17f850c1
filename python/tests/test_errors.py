"""Bad input raises mfrnn.Error (a ValueError) naming the parameter, with the CLI's message;
no Rust panic reaches Python."""

import math

import pytest

import mfrnn
from conftest import cli_error, flags

BASE = dict(phi="tanh", sigma_w=1.0, sigma_v=0.5, sigma_b=0.1, r=1.0)


@pytest.mark.parametrize("bad,name", [
    (dict(sigma_w=-1.0), "sigma_w"), (dict(sigma_b=math.nan), "sigma_b"),
    (dict(r=math.inf), "r"), (dict(rho=2.0), "rho"), (dict(phi="tanhh"), "tanhh"),
    (dict(cell="lstm"), "lstm"), (dict(paths=8), "--paths"),
])
def test_fixed_point_bad_input_names_the_parameter(bad, name):
    kw = dict(BASE, **bad)
    with pytest.raises(ValueError, match=name.replace("_", "[-_]")) as e:
        mfrnn.fixed_point(**kw)
    assert isinstance(e.value, mfrnn.Error)
    if "cell" not in bad:  # the CLI parses --cell in clap, with clap's wording
        assert str(e.value) == cli_error("fixed-point", *flags(**kw))


@pytest.mark.parametrize("bad,name", [(dict(paths=-1), "paths"), (dict(horizon=2.5), "horizon"),
                                      (dict(seed=-3), "seed"), (dict(replicas=1e30), "replicas")])
def test_counts_are_checked(bad, name):
    with pytest.raises(ValueError, match=name):
        mfrnn.fixed_point(**dict(BASE, theory="exact", **bad))


def test_stubs_list_the_same_arguments_as_the_functions():
    """The .pyi signatures have the keyword names and defaults of the functions (defaults
    shown as None in the stub are None in the function too)."""
    import ast
    import inspect
    import pathlib

    stub = ast.parse((pathlib.Path(mfrnn.__file__).parent / "__init__.pyi").read_text())
    funcs = {n.name: n for n in stub.body if isinstance(n, ast.FunctionDef)}
    for name in ["expect", "fixed_point", "trajectory", "simulate", "phase", "spectrum",
                 "init", "train", "trainability_grid", "set_limits"]:
        sig = inspect.signature(getattr(mfrnn, name))
        node = funcs[name]
        names = [a.arg for a in node.args.kwonlyargs]
        assert names == list(sig.parameters), name
        for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults):
            want = sig.parameters[a.arg].default
            got = inspect.Parameter.empty if d is None else ast.literal_eval(d)
            assert got == want, f"{name}({a.arg}): stub {got!r} != {want!r}"
