"""init_torch_rnn writes mfrnn's sampled critical weights into a torch.nn.RNN."""

import numpy as np
import pytest

import mfrnn

KW = dict(q_star=0.5, r=1.0, sigma_b=0.1, seed=4)


def test_torch_rnn_gets_the_sampled_weights():
    torch = pytest.importorskip("torch")
    rnn = torch.nn.RNN(input_size=5, hidden_size=24, nonlinearity="tanh", dtype=torch.float64)
    res = mfrnn.init_torch_rnn(rnn, **KW)
    ref = mfrnn.init(phi="tanh", q_star=0.5, r=1.0, sigma_b=0.1, sample=True, width=24,
                     input_dim=5, seed=4, weights="orthogonal")
    assert np.array_equal(rnn.weight_hh_l0.detach().numpy(), ref.W)
    assert np.array_equal(rnn.weight_ih_l0.detach().numpy(), ref.V)
    assert np.array_equal(rnn.bias_ih_l0.detach().numpy(), ref.b)
    assert not rnn.bias_hh_l0.detach().numpy().any()
    assert res.chi_1 == pytest.approx(1.0, abs=1e-9)
    # One step of the torch cell is mfrnn's vanilla update h' = tanh(W h + V x + b).
    x, h = np.random.default_rng(0).normal(size=(2, 5)), np.random.default_rng(1).normal(size=24)
    _, h1 = rnn(torch.from_numpy(x[:1]), torch.from_numpy(h[None, :]))
    want = np.tanh(ref.W @ h + ref.V @ x[0] + ref.b)
    assert np.allclose(h1.detach().numpy()[0], want, atol=1e-12)
    with pytest.raises(ValueError, match="single-layer"):
        mfrnn.init_torch_rnn(torch.nn.RNN(5, 8, num_layers=2), **KW)


def test_a_non_rnn_is_refused():
    pytest.importorskip("torch")
    import torch
    with pytest.raises(ValueError, match="rnn"):
        mfrnn.init_torch_rnn(torch.nn.Linear(3, 3), **KW)


def test_without_torch_the_package_imports_and_says_what_is_missing(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError
    with pytest.raises(ImportError):
        mfrnn.init_torch_rnn(object(), **KW)
