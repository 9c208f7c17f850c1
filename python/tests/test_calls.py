"""Training and trainability grids against the CLI; GIL release, Ctrl-C, panics, limits."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import mfrnn
from conftest import CLI, cli, flags, same

TRAIN = dict(task="recall", padding=3, width=16, steps=40, batch=8, eval_every=10,
             eval_size=64, seed=3)


def drop_seconds(d):
    d = d.to_dict() if isinstance(d, mfrnn.Result) else d
    d["diagnostics"].pop("seconds")  # wall time: differs between any two runs
    return d


@pytest.mark.parametrize("kw", [TRAIN, dict(TRAIN, cell="minimal", init="theory", sigma_w=1.0,
                                             optimizer="sgd", precision="f64")])
def test_train_matches_cli(kw):
    r = mfrnn.train(**kw)
    assert r.diagnostics.seconds >= 0.0
    same(drop_seconds(r), drop_seconds(cli("train", *flags(**kw))))


def test_trainability_grid_matches_cli(tmp_path):
    kw = dict(values="0.5:1.5:3", horizons="1,4", task="recall", width=8, steps=15, batch=8,
              eval_size=64, seeds=2, threshold=0.1)
    r = mfrnn.trainability_grid(**kw)
    out = tmp_path / "grid.jsonl"
    p = subprocess.run([str(CLI), "trainability", "run", *flags(**kw), "--out", str(out)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    lines = [json.loads(l) for l in out.read_text().splitlines()]
    same(r.grid, lines[0]["grid"])
    cells = sorted(lines[1:], key=lambda c: c["index"])
    for c in cells:
        c.pop("check")  # the file line's checksum (torn-append detection), not a result
    same(r.cells, cells)
    assert r.mean_score.shape == (2, 3) and r.trainable.dtype == np.bool_
    for c in r.cells:
        it, iv = list(r.grid.horizons).index(c.horizon), list(r.grid["values"]).index(c.value)
        assert r.mean_score[it, iv] == c.mean_score and r.trainable[it, iv] == c.trainable


def test_trainability_grid_threads_do_not_change_results():
    kw = dict(values=[0.8, 1.2], horizons=[2], task="recall", width=8, steps=10, batch=8,
              eval_size=32, seeds=2)
    a = mfrnn.trainability_grid(**kw, threads=1)
    b = mfrnn.trainability_grid(**kw, threads=2)
    same(a, b.to_dict())


# A call of about a second on this machine (exact theory at stationarity).
LONG = dict(cell="minimal", sigma_w=1.2, sigma_v=0.8, sigma_b=0.3, mu_b=0.5, r=1.0,
            theory="exact", paths=256, replicas=4, curve_paths=64, horizon=100)


def test_calls_release_the_gil():
    count = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            count[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    time.sleep(0.2)
    c0, t0 = count[0], time.perf_counter()
    mfrnn.fixed_point(**LONG)
    during, secs = count[0] - c0, time.perf_counter() - t0
    stop.set()
    t.join()
    # Alone, the spinning thread counts millions per second; with the GIL held by the call
    # it would not count at all (beyond the 50 ms wake-ups of the signal check).
    assert secs > 0.2 and during > 20_000 * secs, (during, secs)


def test_ctrl_c_interrupts_a_long_call():
    code = (
        "import mfrnn, sys, time\n"
        "print('started', flush=True)\n"
        "t = time.perf_counter()\n"
        "try:\n"
        "    mfrnn.simulate(phi='tanh', sigma_w=1.0, sigma_v=0.5, sigma_b=0.1, r=1.0,\n"
        "                   width=2000, steps=300, seeds=8, batch=16)\n"
        "    print('finished', flush=True)\n"
        "except KeyboardInterrupt:\n"
        "    print(f'interrupted {time.perf_counter() - t:.3f}', flush=True)\n"
    )
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "started"
    time.sleep(0.5)
    sent = time.perf_counter()
    p.send_signal(signal.SIGINT)
    line = p.stdout.readline().strip()
    waited = time.perf_counter() - sent
    p.wait(timeout=30)
    assert line.startswith("interrupted"), line
    assert waited < 5.0, waited


@pytest.mark.parametrize("path", ["quick", "long"])
def test_a_panic_is_a_runtime_error(path):
    with pytest.raises(RuntimeError, match="deliberate test panic"):
        mfrnn._native._panic_for_test(path)


def test_limits_refuse_large_calls():
    try:
        mfrnn.set_limits(max_memory="1M")
        with pytest.raises(ValueError, match="width"):
            mfrnn.simulate(phi="tanh", sigma_w=1.0, sigma_v=0.5, sigma_b=0.1, r=1.0, width=4000)
    finally:
        mfrnn.set_limits(max_memory="1000G")
    with pytest.raises(ValueError, match="max"):
        mfrnn.set_limits(max_memory="lots")
