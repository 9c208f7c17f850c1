"""mfrnn: mean-field and random-matrix theory of signal propagation in RNNs, from Python.

A thin layer over the Rust library mfrnn (see the repository's README). Each
function mirrors one command of the ``mfrnn`` CLI: the keyword arguments are the CLI's flags
with ``-`` written ``_`` (``--sigma-w`` is ``sigma_w``), the defaults are the CLI's, and the
result holds the keys of the CLI's ``--json`` output, with arrays of numbers as NumPy arrays
(float64, or int64 for step indices and counts; 2-D for grids; ``null`` inside a float array
becomes NaN). Results are read-only :class:`Result` mappings whose keys are also attributes::

    >>> import mfrnn
    >>> fp = mfrnn.fixed_point(phi="tanh", sigma_w=1.0, sigma_v=0.5, sigma_b=0.1, r=1.0)
    >>> fp.phase
    'ordered'

Bad input raises :class:`Error` (a ``ValueError``) with the library's message, which names
the parameter. Long calls release the GIL and can be interrupted with Ctrl-C.

Units: variances (``q``, ``Q``, ``R``) are per unit (per coordinate); timescales ``xi_*`` are
in steps; ``chi_*`` are slopes per step (dimensionless).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import Any

from . import _native
from ._native import Error

__all__ = [
    "Error",
    "Result",
    "expect",
    "fixed_point",
    "init",
    "phase",
    "simulate",
    "spectrum",
    "trajectory",
    "train",
    "trainability_grid",
    "sweep",
    "set_limits",
    "point_seed",
    "init_torch_rnn",
    "__version__",
]

__version__: str = _native.__version__


class Result(Mapping):
    """A read-only mapping of a result's fields (the keys of the CLI's JSON).

    Fields are reachable as items (``r["q_star"]``) and as attributes (``r.q_star``). Nested
    objects are :class:`Result` too; arrays of numbers are NumPy arrays. ``to_dict()`` gives
    plain nested dicts.
    """

    __slots__ = ("_d",)

    def __init__(self, fields: Mapping[str, Any]):
        object.__setattr__(self, "_d", dict(fields))

    def __getitem__(self, key: str) -> Any:
        return self._d[key]

    def __getattr__(self, key: str) -> Any:
        try:
            return self._d[key]
        except KeyError:
            raise AttributeError(
                f"this result has no field {key!r}; fields: {', '.join(self._d)}"
            ) from None

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("mfrnn results are read-only")

    def __delattr__(self, key: str) -> None:
        raise AttributeError("mfrnn results are read-only")

    def __iter__(self):
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __dir__(self):
        return list(self._d) + ["to_dict"]

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={_short(v)}" for k, v in self._d.items())
        return f"Result({inner})"

    def __reduce__(self):
        return (Result, (self._d,))

    def to_dict(self) -> dict:
        """The fields as plain nested dicts (arrays stay NumPy arrays)."""
        return {k: _plain(v) for k, v in self._d.items()}


def _short(v: Any) -> str:
    shape = getattr(v, "shape", None)
    if shape is not None:
        return f"array(shape={shape}, dtype={v.dtype})"
    if isinstance(v, list) and len(v) > 3:
        return f"[... {len(v)} items]"
    return repr(v)


def _plain(v: Any) -> Any:
    if isinstance(v, Result):
        return v.to_dict()
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def _wrap(v: Any) -> Any:
    if isinstance(v, dict):
        return Result({k: _wrap(x) for k, x in v.items()})
    if isinstance(v, list):
        return [_wrap(x) for x in v]
    return v


# The library's thread pools do not survive fork(): a process forked after mfrnn ran a call
# would hang in its next call. Such a child gets a clear error instead.
_state = {"used": False, "forked_after_use": False}


def _after_fork_in_child() -> None:
    if _state["used"]:
        _state["forked_after_use"] = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _result(native):
    """A wrapper of a native function returning a :class:`Result` (same signature and doc)."""

    @functools.wraps(native)
    def call(**kwargs):
        if _state["forked_after_use"]:
            raise Error(
                "mfrnn cannot run in a process forked after it ran (its thread pools do not "
                "survive fork); use the 'spawn' or 'forkserver' start method, e.g. "
                "ProcessPoolExecutor(mp_context=multiprocessing.get_context('spawn'))"
            )
        _state["used"] = True
        return _wrap(native(**kwargs))

    call.__module__ = __name__
    return call


expect = _result(_native.expect)
fixed_point = _result(_native.fixed_point)
trajectory = _result(_native.trajectory)
simulate = _result(_native.simulate)
phase = _result(_native.phase)
spectrum = _result(_native.spectrum)
init = _result(_native.init)
train = _result(_native.train)
set_limits = _result(_native.set_limits)
trainability_grid = _result(_native.trainability_grid)

from ._sweep import point_seed, sweep  # noqa: E402
from ._frameworks import init_torch_rnn  # noqa: E402
