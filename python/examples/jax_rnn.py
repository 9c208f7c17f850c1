"""A critical tanh RNN in JAX, initialised by mfrnn (docs/user-guide.md, "Python").

mfrnn samples W, V, b at the critical scales (chi_1 = 1 at q* = 0.5); JAX runs the network
h' = tanh(W h + V x + b) with lax.scan. The pre-activation variance settles at q*, as the
theory says. Needs jax (not a dependency of mfrnn). Run: python python/examples/jax_rnn.py
"""
import jax
import jax.numpy as jnp
import numpy as np

import mfrnn

jax.config.update("jax_enable_x64", True)
width, n_in, steps = 512, 64, 30
init = mfrnn.init(phi="tanh", q_star=0.5, r=1.0, sigma_b=0.1, sample=True, width=width,
                  input_dim=n_in, seed=7)
params = {"W": jnp.asarray(init.W), "V": jnp.asarray(init.V), "b": jnp.asarray(init.b)}


def step(h, x, p):
    u = p["W"] @ h + p["V"] @ x + p["b"]
    return jnp.tanh(u), u


def run(p, xs):
    _, us = jax.lax.scan(lambda h, x: step(h, x, p), jnp.zeros(width), xs)
    return us


xs = jax.random.normal(jax.random.PRNGKey(0), (steps, n_in))  # R = E[x_i^2] = 1
us = jax.jit(run)(params, xs)
q = np.asarray(jnp.mean(us**2, axis=1))
print(f"sigma_w = {init.sigma_w:.4f}, sigma_v = {init.sigma_v:.4f}, chi_1 = {init.chi_1:.12f}")
print(f"pre-activation variance over the last 10 steps: {q[-10:].mean():.3f} (q* = 0.5)")
# One network of width 512: the finite-width spread of q is a few per cent.
assert abs(q[-10:].mean() - 0.5) < 0.1
