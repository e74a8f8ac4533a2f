"""Fit a small tanh MLP to a sine curve on the GPU when there is one, else on the CPU.

The same PyTorch-style training loop runs on both: the model is moved with ``.to(device)``,
the data is created with ``device=``, and everything downstream stays there (forward kernels,
the backward sweep, ``.grad``, ``clip_grad_norm_`` and the Adam step with its state all on the
GPU).

Run: python examples/cuda_example.py
(numba-cuda's simulator also works, slowly: NUMBA_ENABLE_CUDASIM=1)
"""

import time

import numpy as np

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F


def main(steps=200, lr=0.02, seed=0):
    if tg.cuda.is_available():
        device = "cuda"
        print("CUDA is available: training on the GPU")
    else:
        device = "cpu"
        print("CUDA is not available (no GPU, or numba-cuda not installed: "
              "pip install 'tapegrad[cuda]'): training on the CPU")
    tg.manual_seed(seed)
    X = np.linspace(-3, 3, 64).reshape(-1, 1)
    x, y = tg.tensor(X, device=device), tg.tensor(np.sin(X), device=device)
    model = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1)).to(device)
    opt = tg.optim.Adam(model.parameters(), lr=lr)

    t0 = time.perf_counter()
    first = None
    for step in range(steps):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        if first is None:
            first = loss.item()
        if step % 50 == 0 or step == steps - 1:
            print(f"step {step:4d}  loss {loss.item():.5f}  (on {loss.device})")
    if device == "cuda":
        tg.cuda.synchronize()
    print(f"{steps} steps in {time.perf_counter() - t0:.2f} s; loss {first:.4f} -> "
          f"{loss.item():.4f}")
    assert loss.item() < first
    return loss.item()


if __name__ == "__main__":
    main()
