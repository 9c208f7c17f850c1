"""Helpers for deep-learning frameworks, importing them lazily (no hard dependency)."""

from __future__ import annotations

from typing import Any, Optional


def init_torch_rnn(
    rnn: Any,
    *,
    q_star: float,
    r: float = 1.0,
    sigma_b: Optional[float] = None,
    sigma_v: Optional[float] = None,
    mu_b: Optional[float] = None,
    weights: str = "orthogonal",
    seed: int = 1,
):
    """Writes a critical initialization (χ₁ = 1 at the target pre-activation variance
    ``q_star``) into a single-layer, unidirectional ``torch.nn.RNN`` and returns the
    :func:`mfrnn.init` result it used (scales and the sampled ``W``, ``V``, ``b``).

    PyTorch's cell is ``h' = φ(W_ih x + b_ih + W_hh h + b_hh)``, mfrnn's vanilla cell
    ``h' = φ(W h + V x + b)``: ``weight_hh_l0 ← W`` (``hidden × hidden``), ``weight_ih_l0 ← V``
    (``hidden × input``), ``bias_ih_l0 ← b`` and ``bias_hh_l0 ← 0``. The activation is the RNN's
    ``nonlinearity`` (``tanh`` or ``relu``). ``r`` is the second moment per coordinate of the
    inputs the network will see (``‖x‖²/input_size``); ``sigma_b`` (default 0) or ``sigma_v`` is
    given, the other solved for. The weights are ``mfrnn init --sample`` 's for the same
    ``seed`` (float64, cast to the module's dtype). Imports torch only when called.
    """
    import torch  # noqa: F401  (lazily: mfrnn does not depend on torch)

    from . import init

    if type(rnn).__name__ != "RNN" or not hasattr(rnn, "weight_hh_l0"):
        raise ValueError(f"invalid parameter `rnn`: expected a torch.nn.RNN, got {type(rnn).__name__}")
    if rnn.num_layers != 1 or rnn.bidirectional:
        raise ValueError(
            "invalid parameter `rnn`: the initialization is for a single-layer, unidirectional "
            f"torch.nn.RNN (num_layers = {rnn.num_layers}, bidirectional = {rnn.bidirectional})"
        )
    if getattr(rnn, "proj_size", 0):
        raise ValueError("invalid parameter `rnn`: proj_size must be 0")
    kw = dict(phi=rnn.nonlinearity, q_star=q_star, r=r, weights=weights, sample=True,
              width=rnn.hidden_size, input_dim=rnn.input_size, seed=seed)
    for k, v in (("sigma_b", sigma_b), ("sigma_v", sigma_v), ("mu_b", mu_b)):
        if v is not None:
            kw[k] = v
    res = init(**kw)
    import torch as _t

    with _t.no_grad():
        w = rnn.weight_hh_l0
        rnn.weight_hh_l0.copy_(_t.from_numpy(res.W).to(dtype=w.dtype, device=w.device))
        rnn.weight_ih_l0.copy_(_t.from_numpy(res.V).to(dtype=w.dtype, device=w.device))
        if rnn.bias:
            rnn.bias_ih_l0.copy_(_t.from_numpy(res.b).to(dtype=w.dtype, device=w.device))
            rnn.bias_hh_l0.zero_()
        elif res.sigma_b != 0.0 or res.mu_b != 0.0:
            raise ValueError(
                "invalid parameter `rnn`: the initialization has a bias (σ_b = "
                f"{res.sigma_b}, μ_b = {res.mu_b}) but the RNN was built with bias=False"
            )
    return res
