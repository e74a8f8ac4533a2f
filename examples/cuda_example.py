"""Fit a small tanh MLP to a sine curve on the GPU when there is one, else on the CPU.

The same code runs on both: tensors are created with ``device=``, everything downstream
stays there (forward kernels and the backward sweep run on the GPU; gradients land in
``.grad`` as CUDA tensors). Parameters are updated out of place: ``tg.optim``'s steps work
on NumPy arrays and do not run on CUDA tensors yet.

Run: python examples/cuda_example.py
(numba-cuda's simulator also works, slowly: NUMBA_ENABLE_CUDASIM=1)
"""

import time

import numpy as np

import tapegrad as tg


def main(steps=200, lr=0.1, seed=0):
    if tg.cuda.is_available():
        device = "cuda"
        print("CUDA is available: training on the GPU")
    else:
        device = "cpu"
        print("CUDA is not available (no GPU, or numba-cuda not installed: "
              "pip install 'tapegrad[cuda]'): training on the CPU")
    rng = np.random.default_rng(seed)
    X = np.linspace(-3, 3, 64).reshape(-1, 1)
    Y = np.sin(X)
    x, y = tg.tensor(X, device=device), tg.tensor(Y, device=device)
    sizes = [1, 16, 1]
    params = []
    for m, n in zip(sizes[:-1], sizes[1:]):
        params += [tg.tensor(rng.standard_normal((m, n)) / np.sqrt(m), device=device,
                             requires_grad=True),
                   tg.zeros(n, device=device, requires_grad=True)]

    def forward(h):
        h = tg.tanh(h @ params[0] + params[1])
        return h @ params[2] + params[3]

    t0 = time.perf_counter()
    first = None
    for step in range(steps):
        loss = ((forward(x) - y) ** 2).mean()
        loss.backward()
        params = [(p - lr * p.grad).detach().requires_grad_() for p in params]
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
