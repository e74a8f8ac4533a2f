"""The performance-target workloads, written once for tapegrad and once for PyTorch.

Each ``make_*`` returns a zero-argument callable that runs one repetition; inputs are built
outside it. Used by the asv suites and by ``asv_benchmarks/table.py`` (the README table).
Data builders must not be changed, only appended (asv compares across commits).
"""

import numpy as np

from .common import rng

SCALAR_CHAIN_OPS = 20_000
NOGRAD_OPS = 20_000
MLP_STEPS = 100
BIG = 2_000_000


def make_scalar_chain(lib):
    """x -> x*0.9999 + sin(x)*0.01, 4 ops per step, forward + backward."""
    n = SCALAR_CHAIN_OPS // 4
    if lib == "torch":
        import torch

        x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
        sin = torch.sin
    else:
        import tapegrad as tg

        x = tg.tensor(0.5, requires_grad=True)
        sin = tg.sin

    def run():
        x.grad = None
        y = x
        for _ in range(n):
            y = y * 0.9999 + sin(y) * 0.01
        y.backward()

    return run


def make_nograd_small(lib):
    """20k elementwise ops on 8-element tensors under no_grad."""
    v = rng(1).standard_normal(8)
    if lib == "torch":
        import torch

        x = torch.tensor(v)
        ctx, sin = torch.no_grad, torch.sin
    else:
        import tapegrad as tg

        x = tg.tensor(v)
        ctx, sin = tg.no_grad, tg.sin
    n = NOGRAD_OPS // 4

    def run():
        with ctx():
            y = x
            for _ in range(n):
                y = y * 0.9999 + sin(y) * 0.01

    return run


def make_mlp_sgd(lib, dtype="float64"):
    """100 SGD steps of a 64-64-64-10 tanh MLP, batch 32, mean squared error."""
    r = rng(2)
    X = r.standard_normal((32, 64)).astype(dtype)
    Y = r.standard_normal((32, 10)).astype(dtype)
    shapes = [(64, 64), (64,), (64, 64), (64,), (64, 10), (10,)]
    init = [(r.standard_normal(s) * (0.1 if len(s) == 2 else 0.0)).astype(dtype) for s in shapes]
    if lib == "torch":
        import torch

        T = torch
        mk = lambda a, rg=False: torch.tensor(a, requires_grad=rg)  # noqa
    else:
        import tapegrad as T

        mk = lambda a, rg=False: T.tensor(a, requires_grad=rg)  # noqa
    Xt, Yt = mk(X), mk(Y)
    params = [mk(a, True) for a in init]
    opt = T.optim.SGD(params, lr=0.01)

    def run():
        for _ in range(MLP_STEPS):
            h = Xt
            for i in range(0, 4, 2):
                h = T.tanh(h @ params[i] + params[i + 1])
            out = h @ params[4] + params[5]
            loss = ((out - Yt) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()

    return run


def make_bandwidth(lib, dtype="float64"):
    """sum(sin(x) * exp(-x^2)) over 2e6 elements, forward + backward."""
    v = rng(3).standard_normal(BIG).astype(dtype)
    if lib == "torch":
        import torch

        x = torch.tensor(v, requires_grad=True)
        sin, exp = torch.sin, torch.exp
    else:
        import tapegrad as tg

        x = tg.tensor(v, requires_grad=True)
        sin, exp = tg.sin, tg.exp

    def run():
        x.grad = None
        (sin(x) * exp(-(x * x))).sum().backward()

    return run


HVPS = 20  # products per run: one takes ~0.2 ms, and a run that short, alternating with
# PyTorch's, measured whose caches were warm more than either library (1.06-1.21 for one
# product; parity in a loop of either)


def make_hvp(lib, n=200):
    """``HVPS`` Hessian-vector products by double backward of sum(tanh(A @ x)**2)."""
    r = rng(4)
    A, xv, vv = r.standard_normal((n, n)) / np.sqrt(n), r.standard_normal(n), r.standard_normal(n)
    if lib == "torch":
        import torch

        At, x, v = (torch.tensor(a) for a in (A, xv, vv))
        x.requires_grad_()
        grad, tanh = torch.autograd.grad, torch.tanh
    else:
        import tapegrad as tg

        At, x, v = (tg.tensor(a) for a in (A, xv, vv))
        x.requires_grad_()
        grad, tanh = tg.autograd.grad, tg.tanh

    def run():
        for _ in range(HVPS):
            (g,) = grad((tanh(At @ x) ** 2).sum(), x, create_graph=True)
            (h,) = grad(g, x, v)
        return h

    return run


SMALL_BACKWARDS = 2000


def make_small_backward(lib):
    """``(a*b).sum().backward()`` on 64 elements, 2000 times: per-op and per-backward costs."""
    r = rng(5)
    av, bv = r.standard_normal(64), r.standard_normal(64)
    if lib == "torch":
        import torch

        a, b = torch.tensor(av, requires_grad=True), torch.tensor(bv, requires_grad=True)
    else:
        import tapegrad as tg

        a, b = tg.tensor(av, requires_grad=True), tg.tensor(bv, requires_grad=True)

    def run():
        for _ in range(SMALL_BACKWARDS):
            (a * b).sum().backward()

    return run


def gmm_data(n, d, k):
    """The GMM workload's inputs: weights, means, inverse-covariance factors, points, the gather
    index of the lower-triangular factor and the likelihood's constant."""
    r = rng(6)
    alphas, means = r.standard_normal(k), r.standard_normal((k, d))
    icf = r.standard_normal((k, d + d * (d - 1) // 2)) * 0.1
    x = r.standard_normal((n, d))
    # lower-triangular L (K, d, d) gathered from [0, icf[:, d:]]: index 0 is the zero
    rows, cols = np.tril_indices(d, -1)
    idx = np.zeros((d, d), np.int64)
    idx[rows, cols] = np.arange(1, len(rows) + 1)
    return alphas, means, icf, x, idx.reshape(-1), -n * d * 0.5 * np.log(2 * np.pi)


def make_gmm(lib, n=1000, d=10, k=25):
    """Gradient of a Gaussian mixture's log-likelihood (ADBench's GMM objective without its
    Wishart prior): broadcasting over (n, K, d), a batched triangular product, logsumexp."""
    alphas, means, icf, x, idx, const = gmm_data(n, d, k)
    if lib == "torch":
        import torch as T

        mk = lambda a, rg=False: T.tensor(a, requires_grad=rg)  # noqa: E731
        lse = lambda v, dim: T.logsumexp(v, dim)  # noqa: E731
        idx_t = T.tensor(idx)
    else:
        import tapegrad as T

        mk = lambda a, rg=False: T.tensor(a, requires_grad=rg)  # noqa: E731
        lse = lambda v, dim: T.logsumexp(v, dim)  # noqa: E731
        idx_t = idx
    pa, pm, pi = mk(alphas, True), mk(means, True), mk(icf, True)
    xt = mk(x)

    def run():
        for p in (pa, pm, pi):
            p.grad = None
        qdiag = T.exp(pi[:, :d])  # (K, d)
        padded = T.cat([T.zeros((k, 1), dtype=pi.dtype), pi[:, d:]], 1)
        L = padded[:, idx_t].reshape(k, d, d)
        xc = xt[:, None, :] - pm[None, :, :]  # (n, K, d)
        lx = T.einsum("kij,nkj->nki", L, xc)
        qx = qdiag[None, :, :] * xc + lx
        inner = pa + pi[:, :d].sum(1) - 0.5 * (qx * qx).sum(2)  # (n, K)
        loss = const + lse(inner, 1).sum() - n * lse(pa, 0)
        (-loss).backward()

    return run


def make_conv_net(lib, steps=5):
    """Training steps of a small CNN on 32 images of 28x28: two 3x3 convolutions (1->16->32
    channels, padding 1) with ReLU, a 2x2 max pool between them, a global average pool and a
    linear layer to 10 classes, cross entropy, SGD."""
    r = rng(6)
    X = r.standard_normal((32, 1, 28, 28))
    labels = r.integers(0, 10, 32)
    shapes = [(16, 1, 3, 3), (16,), (32, 16, 3, 3), (32,), (10, 32), (10,)]
    init = [r.standard_normal(s) * 0.1 for s in shapes]
    if lib == "torch":
        import torch

        T = torch
        mk = lambda a, rg=False: torch.tensor(a, requires_grad=rg)  # noqa
    else:
        import tapegrad as T

        mk = lambda a, rg=False: T.tensor(a, requires_grad=rg)  # noqa
    F = T.nn.functional
    Xt, yt = mk(X), T.tensor(labels)
    p = [mk(a, True) for a in init]
    opt = T.optim.SGD(p, lr=0.01)

    def run():
        for _ in range(steps):
            h = F.max_pool2d(F.relu(F.conv2d(Xt, p[0], p[1], padding=1)), 2)
            h = F.relu(F.conv2d(h, p[2], p[3], padding=1)).mean((2, 3))
            loss = F.cross_entropy(F.linear(h, p[4], p[5]), yt)
            opt.zero_grad()
            loss.backward()
            opt.step()

    return run


WORKLOADS = {
    "scalar_chain_2e4": make_scalar_chain,
    "nograd_8elem_2e4": make_nograd_small,
    "mlp_sgd_100_steps": make_mlp_sgd,
    "hvp_n200": make_hvp,
    "sin_exp_2e6": make_bandwidth,
    "small_backward_2000": make_small_backward,
    "gmm_gradient": make_gmm,
    "mlp_sgd_100_steps_f32": lambda lib: make_mlp_sgd(lib, "float32"),
    "sin_exp_2e6_f32": lambda lib: make_bandwidth(lib, "float32"),
    "conv_net_5_steps": make_conv_net,
}
