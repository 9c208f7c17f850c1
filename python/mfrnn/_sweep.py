"""Sweeps of any mfrnn call (or any picklable function) over a grid of keyword arguments, on
any ``concurrent.futures.Executor``-like object, with deterministic per-point seeds."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Optional

_MASK = (1 << 64) - 1


def point_seed(seed: int, index: int) -> int:
    """The seed of grid point ``index`` (0-based) of a sweep with base ``seed``: SplitMix64 of
    ``seed + (index + 1)·γ`` (γ = 0x9E3779B97F4A7C15), a whole number in ``[0, 2^64)``.

    Depends only on ``(seed, index)``, so a point gets the same seed whichever process, machine
    or executor runs it, and neighbouring points get unrelated streams.
    """
    if not (isinstance(seed, int) and isinstance(index, int)) or seed < 0 or index < 0:
        raise ValueError(
            f"invalid parameter `seed` / `index` = {seed!r}, {index!r}: expected whole numbers >= 0"
        )
    z = (seed + (index + 1) * 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _points(grid: Any) -> list[dict]:
    if isinstance(grid, Mapping):
        keys = list(grid)
        for k in keys:
            if isinstance(grid[k], (str, bytes)) or not isinstance(grid[k], Iterable):
                raise ValueError(
                    f"invalid parameter `grid`: the values of a dict grid are the sequences to "
                    f"combine; {k!r} is {grid[k]!r} (wrap a single value in a list)"
                )
        return [dict(zip(keys, combo)) for combo in itertools.product(*(list(grid[k]) for k in keys))]
    points = list(grid)
    for p in points:
        if not isinstance(p, Mapping):
            raise ValueError(
                f"invalid parameter `grid`: expected a dict of sequences or a sequence of dicts "
                f"of keyword arguments, got an item {p!r}"
            )
    return [dict(p) for p in points]


def _call(fn: Callable[..., Any], kwargs: dict) -> Any:
    return fn(**kwargs)


def sweep(
    fn: Callable[..., Any],
    grid: Mapping[str, Sequence[Any]] | Iterable[Mapping[str, Any]],
    *,
    executor: Optional[Any] = None,
    seed: Optional[int] = None,
    seed_arg: str = "seed",
    fixed: Optional[Mapping[str, Any]] = None,
) -> list[Any]:
    """``fn(**fixed, **point)`` for every point of ``grid``, in grid order.

    ``grid`` is a dict of sequences (their Cartesian product, the first key varying slowest) or
    a sequence of dicts of keyword arguments. ``fixed`` holds keyword arguments common to all
    points. With ``seed`` given, point ``i`` also gets ``seed_arg=point_seed(seed, i)``, so
    results do not depend on which worker runs which point.

    ``executor`` is anything with ``submit(fn, *args)`` returning a future with ``result()``:
    ``concurrent.futures.ProcessPoolExecutor`` / ``ThreadPoolExecutor``, a Dask
    ``distributed.Client`` or its ``get_executor()``, submitit's ``AutoExecutor`` (Slurm), ...
    Without one, the points run here, one after another. A process pool must not fork a
    process that has already run mfrnn calls (its thread pools do not survive ``fork``): use
    ``ProcessPoolExecutor(mp_context=multiprocessing.get_context("spawn"))`` (or
    ``"forkserver"``; Dask's workers are spawned). ``fn`` must be picklable for process
    and cluster executors (the mfrnn functions are). The first failing point's exception is
    raised (the remaining futures are cancelled where the executor allows it).

    >>> import mfrnn
    >>> rs = mfrnn.sweep(mfrnn.fixed_point, {"sigma_w": [0.5, 1.0, 2.0]},
    ...                  fixed=dict(phi="tanh", sigma_v=0.0, sigma_b=0.1, r=1.0))
    >>> [r.phase for r in rs]
    ['ordered', 'ordered', 'chaotic']
    """
    if not callable(fn):
        raise ValueError(f"invalid parameter `fn`: {fn!r} is not callable")
    points = _points(grid)
    calls = []
    for i, p in enumerate(points):
        kw = dict(fixed or {})
        kw.update(p)
        if seed is not None:
            if seed_arg in kw:
                raise ValueError(
                    f"invalid parameter `seed`: the grid already sets {seed_arg!r} at point {i}"
                )
            kw[seed_arg] = point_seed(seed, i)
        calls.append(kw)
    if executor is None:
        return [fn(**kw) for kw in calls]
    futures = [executor.submit(_call, fn, kw) for kw in calls]
    try:
        return [f.result() for f in futures]
    except BaseException:
        for f in futures:
            cancel = getattr(f, "cancel", None)
            if cancel is not None:
                try:
                    cancel()
                except Exception:
                    pass
        raise
