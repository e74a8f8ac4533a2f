"""Newton's method on the Rosenbrock function with exact Hessians (double backward).

Run: python examples/newton_hessian.py
"""

import numpy as np

import tapegrad as tg


def rosenbrock(x):
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


def grad_and_hessian(f, x):
    """Gradient by reverse mode, Hessian one row per backward through the gradient's tape."""
    x = x.detach().requires_grad_()
    (g,) = tg.autograd.grad(f(x), x, create_graph=True)
    rows = [tg.autograd.grad(g[i], x, retain_graph=True)[0].numpy() for i in range(x.numel())]
    return g.detach().numpy(), np.stack(rows)


def main(n=4, iters=30):
    x = tg.tensor(np.full(n, -1.2))
    for it in range(iters):
        g, H = grad_and_hessian(rosenbrock, x)
        step = np.linalg.solve(H + 1e-9 * np.eye(n), g)
        x = tg.tensor(x.numpy() - step)
        if np.linalg.norm(g) < 1e-10:
            break
    print(f"{it + 1} Newton steps: x = {x}, f(x) = {rosenbrock(x).item():.3e}")
    return x.numpy()


if __name__ == "__main__":
    assert np.allclose(main(), 1.0, atol=1e-6)
