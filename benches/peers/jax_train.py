"""Independent JAX peer of mfrnn's training engine (not a CI dependency).

Two uses:

  check DIR   Rebuild the network of an `mfrnn train --save DIR` run from manifest.json and the
              .npy files, in float64 with jax.grad (automatic differentiation, no code shared
              with mfrnn), and compare: the loss at the initial parameters and its gradient
              (grad_*.npy), and the test loss and accuracy at the final parameters.
  bench       Time one SGD training step (forward + backward + update; jit, lax.scan,
              float32) for the vanilla tanh cell and the minimalRNN at N, B, T = 128, 64, 100
              and 64, 32, 500 on the benchmark task of benches/training.rs (first-input recall:
              input dimension 32, 10 classes, cross-entropy at the last step).

Setup (a virtual environment outside the repository):
    python3 -m venv /work/wt/venvs/train-peers
    /work/wt/venvs/train-peers/bin/pip install numpy jax
    /work/wt/venvs/train-peers/bin/python benches/peers/jax_train.py check DIR
    /work/wt/venvs/train-peers/bin/python benches/peers/jax_train.py bench [--threads 1|2] [--tanh-gate]
    (for one thread, also pin the process: taskset -c 0 python ... bench --threads 1)

The forward pass is written from the manifest's equations (theory/09-training.md):
vanilla h_t = phi(W h_{t-1} + V x_t + b); minimalRNN z_t = U x_t + b_z,
u_t = sigmoid(W h_{t-1} + V z_t + b), h_t = u_t h_{t-1} + (1 - u_t) z_t; h_0 = 0;
readout y_t = W_out h_t + b_out at the readout steps; mean cross-entropy or squared error.
"""
import json
import os
import sys
import time


def setup(threads=None, x64=False):
    if threads is not None:
        # XLA's CPU backend: intra-op threads via the Eigen pool size.
        os.environ["XLA_FLAGS"] = (
            f"--xla_cpu_multi_thread_eigen={'true' if threads > 1 else 'false'} "
            f"intra_op_parallelism_threads={threads}"
        )
    import jax

    if x64:
        jax.config.update("jax_enable_x64", True)
    return jax


ACTS = {
    "tanh": lambda jnp, jax: jnp.tanh,
    "erf": lambda jnp, jax: jax.scipy.special.erf,
    "relu": lambda jnp, jax: (lambda a: jnp.where(a > 0, a, 0.0)),
    "linear": lambda jnp, jax: (lambda a: a),
    "hard_tanh": lambda jnp, jax: (lambda a: jnp.clip(a, -1.0, 1.0)),
    "sigmoid": lambda jnp, jax: jax.nn.sigmoid,
    "softplus": lambda jnp, jax: jax.nn.softplus,
}


def make_loss(jax, cell, act, readout, loss_kind, gate=None):
    jnp = jax.numpy
    phi = ACTS[act](jnp, jax)
    # The gate: jax.nn.sigmoid, or (bench --tanh-gate) the same function as 0.5 (1 + tanh(x/2)),
    # which XLA's CPU backend vectorises better.
    gate = gate or jax.nn.sigmoid
    readout_idx = jnp.array([s - 1 for s in readout])

    def states(p, x):
        # x: (L, B, d); hidden states as rows (B, N): h @ W.T is (W h) per sequence.
        n = p["W"].shape[0]
        h0 = jnp.zeros((x.shape[1], n), x.dtype)
        if cell == "vanilla":
            pre = x @ p["V"].T + p["b"]

            def step(h, a_in):
                h = phi(h @ p["W"].T + a_in)
                return h, h
        else:
            z = x @ p["U"].T + p["b_z"]
            pz = z @ p["V"].T + p["b"]

            def step(h, inp):
                zt, pt = inp
                u = gate(h @ p["W"].T + pt)
                h = u * h + (1.0 - u) * zt
                return h, h

            pre = (z, pz)
        _, hs = jax.lax.scan(step, h0, pre)
        return hs  # (L, B, N)

    def outputs(p, x):
        hs = states(p, x)[readout_idx]
        return hs @ p["W_out"].T + p["b_out"]  # (|S|, B, K)

    def loss(p, x, targets):
        y = outputs(p, x)
        if loss_kind == "ce":
            logp = jax.nn.log_softmax(y, axis=-1)
            return -jnp.mean(jnp.take_along_axis(logp, targets[..., None], axis=-1))
        return jnp.mean(jnp.sum((y - targets) ** 2, axis=-1))

    return loss, outputs


def check(directory):
    jax = setup(x64=True)
    import numpy as np

    jnp = jax.numpy
    m = json.load(open(os.path.join(directory, "manifest.json")))
    names = [f["name"][len("final_"):-len(".npy")] for f in m["files"] if f["name"].startswith("final_")]
    load = lambda prefix: {k: jnp.asarray(np.load(os.path.join(directory, f"{prefix}_{k}.npy")).astype(np.float64)) for k in names}
    x = jnp.asarray(np.load(os.path.join(directory, "eval_inputs.npy")).astype(np.float64))
    t = np.load(os.path.join(directory, "eval_targets.npy"))
    kind = "ce" if t.dtype.kind == "i" else "mse"
    loss, outputs = make_loss(jax, m["cell"], m["activation"], m["readout_steps"], kind)
    p0 = load("initial")
    l0, g = jax.value_and_grad(loss)(p0, x, jnp.asarray(t))
    print(f"{m['cell']} {m['activation']}: N={m['sizes']['width']} L={m['sizes']['seq_len']} B={m['sizes']['eval_batch']}")
    print(f"initial loss: jax {float(l0):.17g}  mfrnn {m['initial_loss']:.17g}  rel diff {abs(float(l0) - m['initial_loss']) / abs(m['initial_loss']):.2e}")
    worst = 0.0
    for k in names:
        mine = np.load(os.path.join(directory, f"grad_{k}.npy"))
        theirs = np.asarray(g[k])
        scale = max(np.max(np.abs(theirs)), 1e-300)
        err = np.max(np.abs(mine - theirs)) / scale
        worst = max(worst, err)
        print(f"  grad {k:6} shape {str(mine.shape):12} max |mfrnn - jax| / max |jax| = {err:.2e}")
    print(f"worst gradient disagreement (relative to each tensor's largest entry): {worst:.2e}")
    p1 = load("final")
    l1 = float(loss(p1, x, jnp.asarray(t)))
    print(f"test loss: jax {l1:.17g}  mfrnn {m['test_loss']:.17g}  rel diff {abs(l1 - m['test_loss']) / abs(m['test_loss']):.2e}")
    if kind == "ce":
        y = np.asarray(outputs(p1, x))[m["scored_from"]:]
        acc = float(np.mean(np.argmax(y, axis=-1) == t[m["scored_from"]:]))
        print(f"test accuracy: jax {acc}  mfrnn {m['test_accuracy']}")


def bench(threads, tanh_gate=False):
    jax = setup(threads=threads)
    import numpy as np

    jnp = jax.numpy
    out = []
    for (n, b, steps) in [(128, 64, 100), (64, 32, 500)]:
        for cell in ["vanilla", "minimal"]:
            d, k = 32, 10
            rng = np.random.default_rng(0)
            p = {"W": rng.normal(0, 1 / np.sqrt(n), (n, n)), "V": rng.normal(0, 1 / np.sqrt(d if cell == "vanilla" else n), (n, d if cell == "vanilla" else n)), "b": np.zeros(n)}
            if cell == "minimal":
                p["U"] = rng.normal(0, 1 / np.sqrt(d), (n, d))
                p["b_z"] = np.zeros(n)
            p["W_out"] = rng.normal(0, 1 / np.sqrt(n), (k, n))
            p["b_out"] = np.zeros(k)
            p = {key: jnp.asarray(v, jnp.float32) for key, v in p.items()}
            x = jnp.asarray(rng.normal(size=(steps, b, d)), jnp.float32)
            t = jnp.asarray(rng.integers(0, k, size=(1, b)), jnp.int32)
            gate = (lambda a: 0.5 * (1.0 + jnp.tanh(0.5 * a))) if tanh_gate else None
            loss, _ = make_loss(jax, cell, "tanh", [steps], "ce", gate)

            @jax.jit
            def sgd(p, x, t):
                l, g = jax.value_and_grad(loss)(p, x, t)
                return {key: p[key] - 1e-3 * g[key] for key in p}, l

            p2, l = sgd(p, x, t)
            jax.block_until_ready(p2)
            times = []
            for _ in range(30):
                s = time.perf_counter()
                p2, l = sgd(p2, x, t)
                jax.block_until_ready(p2)
                times.append(time.perf_counter() - s)
            times.sort()
            med, best = times[len(times) // 2], times[0]
            flops = (6 if cell == "vanilla" else 10) * n * n * b * steps + 4 * n * d * b * steps
            print(f"jax {jax.__version__} threads={threads}{' tanh-gate' if tanh_gate else ''} {cell:8} N={n} B={b} T={steps}: median {med*1e3:.2f} ms, best {best*1e3:.2f} ms, {flops/med/1e9:.1f} GFLOP/s (median)")
            out.append((cell, n, b, steps, med))
    return out


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "check":
        check(sys.argv[2])
    elif len(sys.argv) >= 2 and sys.argv[1] == "bench":
        th = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 2
        bench(th, "--tanh-gate" in sys.argv)
    else:
        print(__doc__)
        sys.exit(2)
