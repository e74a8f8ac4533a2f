"""The ``tg.compile`` workloads, each written for tapegrad (eager and compiled), PyTorch eager
and JAX ``jit`` (when JAX is installed).

``make(name, lib)`` returns a zero-argument callable that runs one repetition, or None when the
library cannot run the workload (JAX is absent; JAX does not compile the scalar chain in
minutes). The first call of a ``compiled`` or ``jax`` callable includes tracing/compiling.
Data builders must not be changed, only appended (asv compares across commits).
"""

import numpy as np

from .common import rng
from .workloads import BIG, MLP_STEPS, SCALAR_CHAIN_OPS, gmm_data

LIBRARIES = ("compiled", "tapegrad", "torch", "jax")


def has_jax():
    try:
        import jax  # noqa: F401
    except Exception:  # ImportError, or a broken install
        return False
    return True


def _jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
    return jax, jax.numpy


def _mlp_data():
    r = rng(2)
    X = r.standard_normal((32, 64))
    Y = r.standard_normal((32, 10))
    shapes = [(64, 64), (64,), (64, 64), (64,), (64, 10), (10,)]
    init = [r.standard_normal(s) * (0.1 if len(s) == 2 else 0.0) for s in shapes]
    return X, Y, init


def make_mlp(lib):
    """100 SGD steps (forward, backward, update) of the 64-64-64-10 tanh MLP, batch 32."""
    X, Y, init = _mlp_data()
    if lib == "jax":
        jax, jnp = _jax()

        def loss_fn(ps, x, y):
            h = x
            for i in range(0, 4, 2):
                h = jnp.tanh(h @ ps[i] + ps[i + 1])
            return jnp.mean((h @ ps[4] + ps[5] - y) ** 2)

        @jax.jit
        def jstep(ps, x, y):
            grads = jax.grad(loss_fn)(ps, x, y)
            return [p - 0.01 * g for p, g in zip(ps, grads)]

        state = {"ps": [jnp.asarray(a) for a in init]}
        xj, yj = jnp.asarray(X), jnp.asarray(Y)

        def run():
            ps = state["ps"]
            for _ in range(MLP_STEPS):
                ps = jstep(ps, xj, yj)
            state["ps"] = jax.block_until_ready(ps)

        return run
    if lib == "torch":
        import torch as T

        mk = lambda a, rg=False: T.tensor(a, dtype=T.float64, requires_grad=rg)  # noqa: E731
    else:
        import tapegrad as T

        mk = lambda a, rg=False: T.tensor(a, requires_grad=rg)  # noqa: E731
    Xt, Yt = mk(X), mk(Y)
    params = [mk(a, True) for a in init]
    opt = T.optim.SGD(params, lr=0.01)

    def step(x, y):
        h = x
        for i in range(0, 4, 2):
            h = T.tanh(h @ params[i] + params[i + 1])
        loss = ((h @ params[4] + params[5] - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    if lib == "compiled":
        step = T.compile(step)

    def run():
        for _ in range(MLP_STEPS):
            step(Xt, Yt)

    return run


def make_hvp(lib, n=200):
    """Hessian-vector product by double backward of sum(tanh(A @ x)**2)."""
    r = rng(4)
    A, xv, vv = r.standard_normal((n, n)) / np.sqrt(n), r.standard_normal(n), r.standard_normal(n)
    if lib == "jax":
        jax, jnp = _jax()
        Aj = jnp.asarray(A)
        f = lambda x: jnp.sum(jnp.tanh(Aj @ x) ** 2)  # noqa: E731
        hvp = jax.jit(lambda x, v: jax.grad(lambda y: jnp.vdot(jax.grad(f)(y), v))(x))
        xj, vj = jnp.asarray(xv), jnp.asarray(vv)
        return lambda: jax.block_until_ready(hvp(xj, vj))
    if lib == "torch":
        import torch as T
    else:
        import tapegrad as T
    At, x, v = (T.tensor(a) for a in (A, xv, vv))
    x.requires_grad_()

    def hvp(x, v):
        (g,) = T.autograd.grad((T.tanh(At @ x) ** 2).sum(), x, create_graph=True)
        (h,) = T.autograd.grad(g, x, v)
        return h

    if lib == "compiled":
        hvp = T.compile(hvp)
    return lambda: hvp(x, v)


def make_sin_exp(lib):
    """sum(sin(x) * exp(-x^2)) and its gradient over 2e6 elements."""
    v = rng(3).standard_normal(BIG)
    if lib == "jax":
        jax, jnp = _jax()
        f = jax.jit(jax.value_and_grad(lambda x: jnp.sum(jnp.sin(x) * jnp.exp(-(x * x)))))
        xj = jnp.asarray(v)
        return lambda: jax.block_until_ready(f(xj))
    if lib == "torch":
        import torch as T
    else:
        import tapegrad as T
    x = T.tensor(v, requires_grad=True)

    def f(x):
        x.grad = None
        y = (T.sin(x) * T.exp(-(x * x))).sum()
        y.backward()
        return y.detach()

    if lib == "compiled":
        f = T.compile(f)
    return lambda: f(x)


def make_gmm(lib, n=1000, d=10, k=25):
    """Gradient of the GMM log-likelihood (ADBench sizes), as ``workloads.make_gmm``."""
    alphas, means, icf, x, idx, const = gmm_data(n, d, k)

    def objective(T, lse, pa, pm, pi, xt, zeros, idx_t):
        qdiag = T.exp(pi[:, :d])
        padded = T.concatenate([zeros, pi[:, d:]], 1) if lib == "jax" else T.cat(
            [zeros, pi[:, d:]], 1)
        L = padded[:, idx_t].reshape(k, d, d)
        xc = xt[:, None, :] - pm[None, :, :]
        lx = T.einsum("kij,nkj->nki", L, xc)
        qx = qdiag[None, :, :] * xc + lx
        inner = pa + pi[:, :d].sum(1) - 0.5 * (qx * qx).sum(2)
        return const + lse(inner, 1).sum() - n * lse(pa, 0)

    if lib == "jax":
        jax, jnp = _jax()
        from jax.scipy.special import logsumexp

        zeros = jnp.zeros((k, 1))
        f = jax.jit(jax.value_and_grad(
            lambda pa, pm, pi, xt: -objective(jnp, lambda v, a: logsumexp(v, a), pa, pm, pi,
                                              xt, zeros, idx), argnums=(0, 1, 2)))
        args = [jnp.asarray(a) for a in (alphas, means, icf, x)]
        return lambda: jax.block_until_ready(f(*args))
    if lib == "torch":
        import torch as T

        idx_t = T.tensor(idx)
    else:
        import tapegrad as T

        idx_t = idx
    pa, pm, pi = (T.tensor(a, requires_grad=True) for a in (alphas, means, icf))
    xt = T.tensor(x)

    def f(xt):
        for p in (pa, pm, pi):
            p.grad = None
        zeros = T.zeros((k, 1), dtype=pi.dtype)
        loss = objective(T, lambda v, a: T.logsumexp(v, a), pa, pm, pi, xt, zeros, idx_t)
        (-loss).backward()
        return loss.detach()

    if lib == "compiled":
        f = T.compile(f)
    return lambda: f(xt)


def make_scalar_chain(lib):
    """x -> x*0.9999 + sin(x)*0.01, 2e4 ops, forward and backward (JAX: not run, its compile
    of this program did not finish in minutes)."""
    if lib == "jax":
        return None
    n = SCALAR_CHAIN_OPS // 4
    if lib == "torch":
        import torch as T

        x = T.tensor(0.5, dtype=T.float64, requires_grad=True)
    else:
        import tapegrad as T

        x = T.tensor(0.5, requires_grad=True)

    def chain(x):
        x.grad = None
        y = x
        for _ in range(n):
            y = y * 0.9999 + T.sin(y) * 0.01
        y.backward()
        return y.detach()

    if lib == "compiled":
        chain = T.compile(chain)
    return lambda: chain(x)


COMPILED_WORKLOADS = {
    "mlp_sgd_100_steps": make_mlp,
    "hvp_n200": make_hvp,
    "sin_exp_2e6": make_sin_exp,
    "gmm_gradient": make_gmm,
    "scalar_chain_2e4": make_scalar_chain,
}


def make(name, lib):
    if lib == "jax" and not has_jax():
        return None
    return COMPILED_WORKLOADS[name](lib)
