"""PyTorch peer of mfrnn's training-step benchmark (not a CI dependency).

Times one SGD training step (forward + backward + update, float32, CPU) on the benchmark task
of benches/training.rs (first-input recall: input dimension 32, 10 classes, cross-entropy at
the last step) at N, B, T = 128, 64, 100 and 64, 32, 500:

- the vanilla tanh cell as `torch.nn.RNN` (PyTorch's fused CPU implementation; it has two
  bias vectors, b_ih + b_hh, where mfrnn has one — the same cost to within N·B·T additions);
- the minimalRNN as a Python-level loop over steps (z = U x + b_z and V z + b for all steps
  at once, then u_t = sigmoid(W h + ...), h = u h + (1 - u) z per step), the way a researcher
  writes a new cell in PyTorch.

Usage:
    /work/wt/venvs/train-peers/bin/pip install torch
    /work/wt/venvs/train-peers/bin/python benches/peers/torch_train.py [--threads 2]
"""
import sys
import time

import torch


def main(threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    d, k = 32, 10
    for (n, b, steps) in [(128, 64, 100), (64, 32, 500)]:
        x = torch.randn(steps, b, d)
        t = torch.randint(0, k, (b,))
        for cell in ["vanilla", "minimal"]:
            if cell == "vanilla":
                rnn = torch.nn.RNN(d, n, nonlinearity="tanh")
                out = torch.nn.Linear(n, k)
                params = list(rnn.parameters()) + list(out.parameters())

                def loss_fn():
                    hs, _ = rnn(x)
                    return torch.nn.functional.cross_entropy(out(hs[-1]), t)
            else:
                W = torch.nn.Parameter(torch.randn(n, n) / n**0.5)
                V = torch.nn.Parameter(torch.randn(n, n) / n**0.5)
                bb = torch.nn.Parameter(torch.zeros(n))
                U = torch.nn.Parameter(torch.randn(n, d) / d**0.5)
                bz = torch.nn.Parameter(torch.zeros(n))
                out = torch.nn.Linear(n, k)
                params = [W, V, bb, U, bz] + list(out.parameters())

                def loss_fn():
                    z = x @ U.T + bz
                    pz = z @ V.T + bb
                    h = torch.zeros(b, n)
                    for s in range(steps):
                        u = torch.sigmoid(h @ W.T + pz[s])
                        h = u * h + (1 - u) * z[s]
                    return torch.nn.functional.cross_entropy(out(h), t)

            opt = torch.optim.SGD(params, lr=1e-3)

            def step():
                opt.zero_grad(set_to_none=True)
                loss = loss_fn()
                loss.backward()
                opt.step()

            for _ in range(3):
                step()
            times = []
            for _ in range(30):
                s = time.perf_counter()
                step()
                times.append(time.perf_counter() - s)
            times.sort()
            med = times[len(times) // 2]
            flops = (6 if cell == "vanilla" else 10) * n * n * b * steps + 4 * n * d * b * steps
            print(f"torch {torch.__version__} threads={threads} {cell:8} N={n} B={b} T={steps}: "
                  f"median {med*1e3:.2f} ms, best {times[0]*1e3:.2f} ms, {flops/med/1e9:.1f} GFLOP/s (median)")


if __name__ == "__main__":
    main(int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 2)
