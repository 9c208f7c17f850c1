"""mfrnn.sweep: the same grid gives identical results in one process, on a process pool and
on a Dask cluster of two worker processes; per-point seeds depend only on (seed, index)."""

import concurrent.futures as cf
import multiprocessing as mp

import pytest

import mfrnn
from conftest import same

# Exact-theory fixed points (seeded) over σ_w × μ_b: small, but each point samples.
GRID = {"sigma_w": [0.9, 1.3], "mu_b": [0.0, 1.0]}
FIXED = dict(cell="minimal", sigma_v=0.8, sigma_b=0.3, r=1.0, theory="exact", paths=64,
             replicas=2, curve_paths=16, horizon=16)


@pytest.fixture(scope="module")
def serial():
    return mfrnn.sweep(mfrnn.fixed_point, GRID, seed=11, fixed=FIXED)


def test_points_and_seeds(serial):
    assert len(serial) == 4
    # Point 2 is (sigma_w = 1.3, mu_b = 0.0) with seed point_seed(11, 2).
    one = mfrnn.fixed_point(**FIXED, sigma_w=1.3, mu_b=0.0, seed=mfrnn.point_seed(11, 2))
    same(serial[2], one.to_dict())
    seeds = {mfrnn.point_seed(11, i) for i in range(1000)}
    assert len(seeds) == 1000 and all(0 <= s < 2**64 for s in seeds)
    assert mfrnn.point_seed(0, 0) == 0xE220A8397B1DCDAF  # SplitMix64's first output from 0


def test_process_pool_gives_the_same_results(serial):
    # spawn: this process has run mfrnn (its thread pools would not survive a fork).
    with cf.ProcessPoolExecutor(max_workers=2, mp_context=mp.get_context("spawn")) as ex:
        pooled = mfrnn.sweep(mfrnn.fixed_point, GRID, seed=11, fixed=FIXED, executor=ex)
    for a, b in zip(pooled, serial):
        same(a, b.to_dict())


def test_dask_cluster_gives_the_same_results(serial):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        on_client = mfrnn.sweep(mfrnn.fixed_point, GRID, seed=11, fixed=FIXED, executor=client)
        on_executor = mfrnn.sweep(mfrnn.fixed_point, GRID, seed=11, fixed=FIXED,
                                  executor=client.get_executor())
    for a, b, c in zip(on_client, on_executor, serial):
        same(a, c.to_dict())
        same(b, c.to_dict())


def test_a_failing_point_raises_its_error():
    with cf.ThreadPoolExecutor(2) as ex:
        with pytest.raises(ValueError, match="sigma-w"):
            mfrnn.sweep(mfrnn.fixed_point, [dict(sigma_w=1.0), dict(sigma_w=-1.0)],
                        fixed=dict(phi="tanh", sigma_v=0.1, sigma_b=0.1, r=1.0), executor=ex)


def test_bad_grids_are_refused():
    with pytest.raises(ValueError, match="grid"):
        mfrnn.sweep(mfrnn.fixed_point, {"sigma_w": 1.0})
    with pytest.raises(ValueError, match="grid"):
        mfrnn.sweep(mfrnn.fixed_point, [1.0, 2.0])
    with pytest.raises(ValueError, match="seed"):
        mfrnn.sweep(mfrnn.fixed_point, [dict(seed=1)], seed=3)


def test_a_child_forked_after_use_gets_an_error_not_a_hang(serial):
    ctx = mp.get_context("fork")
    with cf.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as ex:
        with pytest.raises(ValueError, match="spawn"):
            ex.submit(mfrnn.fixed_point, **FIXED, sigma_w=1.0).result(timeout=60)
