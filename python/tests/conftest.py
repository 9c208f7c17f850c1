"""Shared helpers: the CLI built by `cargo build --release` and an exact comparison of a
Python result with the CLI's JSON."""

import json
import math
import os
import pathlib
import subprocess

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CLI = pathlib.Path(os.environ.get("MFRNN_CLI", ROOT / "target" / "release" / "mfrnn"))


def cli(*args: str) -> dict:
    """Runs `mfrnn ARGS --json` and parses its output."""
    if not CLI.exists():
        pytest.fail(f"the CLI {CLI} is missing: run `cargo build --release` first")
    p = subprocess.run([str(CLI), *args, "--json"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def cli_error(*args: str) -> str:
    """Runs `mfrnn ARGS` expecting a failure; its one-line error message."""
    p = subprocess.run([str(CLI), *args], capture_output=True, text=True)
    assert p.returncode != 0, p.stdout
    return p.stderr.strip().removeprefix("error: ")


def same(py, js, path="result"):
    """Asserts that a Python result equals the CLI's JSON value exactly: same keys in the
    same order, same numbers bit for bit (NaN in an array where JSON has null), arrays as
    NumPy arrays."""
    from collections.abc import Mapping

    if isinstance(js, dict):
        assert isinstance(py, Mapping), f"{path}: {type(py)} is not a mapping"
        assert list(py.keys()) == list(js.keys()), f"{path}: keys {list(py)} != {list(js)}"
        for k in js:
            same(py[k], js[k], f"{path}.{k}")
    elif isinstance(js, np.ndarray):
        assert isinstance(py, np.ndarray) and py.dtype == js.dtype, f"{path}: {py!r}"
        assert np.array_equal(py, js, equal_nan=py.dtype.kind == "f"), f"{path}: differs"
    elif isinstance(js, list) and isinstance(py, np.ndarray):
        want = np.array([[np.nan if x is None else x for x in r] if isinstance(r, list)
                         else (np.nan if r is None else r) for r in js], dtype=float)
        assert py.shape == want.shape, f"{path}: shape {py.shape} != {want.shape}"
        ok = (py.astype(float) == want) | (np.isnan(py.astype(float)) & np.isnan(want))
        assert ok.all(), f"{path}: differs at {np.argwhere(~ok)[:5].tolist()}"
    elif isinstance(js, list):
        assert isinstance(py, list), f"{path}: {type(py)} is not a list"
        assert len(py) == len(js), f"{path}: length {len(py)} != {len(js)}"
        for i, (a, b) in enumerate(zip(py, js)):
            same(a, b, f"{path}[{i}]")
    elif isinstance(js, float):
        assert isinstance(py, float) and (py == js), f"{path}: {py!r} != {js!r}"
    else:
        assert py == js and type(py) is type(js), f"{path}: {py!r} != {js!r}"


def flags(**kw) -> list:
    """Keyword arguments as CLI flags (`sigma_w=1` -> `--sigma-w 1`; True -> a bare flag)."""
    out = []
    for k, v in kw.items():
        flag = "--" + k.replace("_", "-")
        if v is True:
            out.append(flag)
        elif v is False or v is None:
            continue
        else:
            out += [flag, repr(v) if isinstance(v, float) else str(v)]
    return out
