"""The performance-target workloads: tapegrad and PyTorch timed in the same process (ratios)."""

import numpy as np

from .common import torch_or_skip
from .workloads import WORKLOADS


class Workloads:
    params = [list(WORKLOADS), ["tapegrad", "torch"]]
    param_names = ["workload", "library"]
    timeout = 300
    number = 1
    repeat = (3, 7, 60.0)

    def setup(self, workload, library):
        if library == "torch":
            torch_or_skip().set_num_threads(1)
        self.run = WORKLOADS[workload](library)
        self.run()  # compile / warm caches outside the timing

    def time_workload(self, workload, library):
        self.run()


# ---- one op of a model's head or loss, forward and backward, on a small batch -----------------
# Ops the target workloads above do not use, timed the way a user's own model calls them: the
# fixed cost per call of a composition recorded op by op shows here (logsigmoid was twelve
# records, ~125 µs against PyTorch's ~5), where the large-array benchmarks see only kernels.

def _small_cases():
    r = np.random.default_rng(7)
    x, w = r.standard_normal(256) * 3, r.standard_normal(256)
    logits, labels = r.standard_normal((32, 10)), r.integers(0, 10, 32)
    bits = (r.random(256) > 0.5).astype(np.float64)
    return x, w, logits, labels, bits


SMALL_OPS = {
    "logsigmoid": lambda L, F, t: (F.logsigmoid(t["x"]) * t["w"]).sum(),
    "softplus": lambda L, F, t: (F.softplus(t["x"]) * t["w"]).sum(),
    "silu": lambda L, F, t: (F.silu(t["x"]) * t["w"]).sum(),
    "gelu": lambda L, F, t: (F.gelu(t["x"]) * t["w"]).sum(),
    "gelu_tanh": lambda L, F, t: (F.gelu(t["x"], approximate="tanh") * t["w"]).sum(),
    "bce_with_logits": lambda L, F, t: F.binary_cross_entropy_with_logits(t["x"], t["bits"]),
    "cross_entropy": lambda L, F, t: F.cross_entropy(t["logits"], t["labels"]),
    "softmax": lambda L, F, t: (F.softmax(t["logits"], 1) * t["logits"]).sum(),
    "stack": lambda L, F, t: (L.stack([t["x"], t["w"]], 1) * t["x"].reshape(256, 1)).sum(),
    # (32, 8) through a linear layer with a bias; layer_norm of (32, 8) rows
    "linear": lambda L, F, t: (F.linear(t["x"].reshape(32, 8), t["w"].reshape(32, 8), t["w"][:32])
                               ** 2).sum(),
    "layer_norm": lambda L, F, t: (F.layer_norm(t["x"].reshape(32, 8), (8,), t["w"][:8],
                                                t["w"][8:16]) * t["w"].reshape(32, 8)).sum(),
    # regression losses of 256 predictions; batch_norm of a (32, 8) batch in training
    "mse_loss": lambda L, F, t: F.mse_loss(t["x"], t["w"]),
    "huber_loss": lambda L, F, t: F.huber_loss(t["x"], t["w"]),
    "smooth_l1_loss": lambda L, F, t: F.smooth_l1_loss(t["x"], t["w"], beta=0.5),
    "batch_norm": lambda L, F, t: (F.batch_norm(t["x"].reshape(32, 8), None, None, t["w"][:8],
                                                t["w"][8:16], True) * t["w"].reshape(32, 8)).sum(),
    "avg_pool2d": lambda L, F, t: (F.avg_pool2d(t["x"].reshape(1, 4, 8, 8), 2) *
                                   t["w"][:64].reshape(1, 4, 4, 4)).sum(),
}


def _library(name):
    """The module to time: ``tapegrad``, or ``torch`` on one thread (skipped without it)."""
    if name == "torch":
        torch = torch_or_skip()
        torch.set_num_threads(1)
        return torch
    import tapegrad

    return tapegrad


class SmallOpGrads:
    """One op on 256 elements (or (32, 10) logits) with its backward, tapegrad and PyTorch."""

    params = [list(SMALL_OPS), ["tapegrad", "torch"]]
    param_names = ["op", "library"]

    def setup(self, op, library):
        L = _library(library)
        x, w, logits, labels, bits = _small_cases()
        t = dict(x=L.tensor(x, requires_grad=True), w=L.tensor(w),
                 logits=L.tensor(logits, requires_grad=True), labels=L.tensor(labels),
                 bits=L.tensor(bits))
        f, F = SMALL_OPS[op], L.nn.functional

        def run():
            t["x"].grad = t["logits"].grad = None
            f(L, F, t).backward()

        self.run = run
        run()  # compile outside the timing

    def time_forward_backward(self, op, library):
        self.run()


# ---- one op on a (64, 128) array, forward and backward ------------------------------------------
# Records of 4096 elements or more are swept by NumPy or compiled formula loops, not the
# compiled switch: the per-record cost of that path shows here.

LARGE_OPS = {
    "cumsum_rows": lambda L, F, x: (x.cumsum(1) * x).sum(),
    "cumsum_columns": lambda L, F, x: (x.cumsum(0) * x).sum(),
    "where": lambda L, F, x: L.where(x > 0, x, x * 0.5).sum(),
    "abs": lambda L, F, x: x.abs().sum(),
    "square_mean": lambda L, F, x: (x ** 2).mean(),
    "tanh": lambda L, F, x: L.tanh(x).sum(),
    "gelu": lambda L, F, x: F.gelu(x).sum(),
}


class LargeOpGrads:
    """One op on a (64, 128) float64 array with its backward, tapegrad and PyTorch."""

    params = [list(LARGE_OPS), ["tapegrad", "torch"]]
    param_names = ["op", "library"]

    def setup(self, op, library):
        L = _library(library)
        x = L.tensor(np.random.default_rng(8).standard_normal((64, 128)), requires_grad=True)
        f, F = LARGE_OPS[op], L.nn.functional

        def run():
            x.grad = None
            f(L, F, x).backward()

        self.run = run
        run()

    def time_forward_backward(self, op, library):
        self.run()


# (input, weight, padding): MNIST's first layer, a small RGB batch, a middle layer
CONVS = {
    "mnist_5x5": ((16, 1, 28, 28), (8, 1, 5, 5), 0),
    "rgb_3x3": ((64, 3, 32, 32), (16, 3, 3, 3), 1),
    "mid_3x3": ((32, 16, 14, 14), (32, 16, 3, 3), 1),
}


class Conv2dGrads:
    """conv2d with a bias, forward and backward (float64), tapegrad and PyTorch."""

    params = [list(CONVS), ["tapegrad", "torch"]]
    param_names = ["case", "library"]
    number = 1
    repeat = (3, 10, 30.0)

    def setup(self, case, library):
        L = _library(library)
        xs, ws, pad = CONVS[case]
        r = np.random.default_rng(9)
        x = L.tensor(r.standard_normal(xs), requires_grad=True)
        w = L.tensor(r.standard_normal(ws) * 0.1, requires_grad=True)
        b = L.tensor(r.standard_normal(ws[0]), requires_grad=True)
        F = L.nn.functional

        def run():
            x.grad = w.grad = b.grad = None
            F.conv2d(x, w, b, padding=pad).sum().backward()

        self.run = run
        run()

    def time_forward_backward(self, case, library):
        self.run()


# ops of a wide layer's size, given a gradient to start from (not seeded by a sum)
WIDE_OPS = {
    "softmax": lambda L, F, x: F.softmax(x, -1),
    "log_softmax": lambda L, F, x: F.log_softmax(x, -1),
    "silu": lambda L, F, x: F.silu(x),
    "gelu_tanh": lambda L, F, x: F.gelu(x, approximate="tanh"),
    "relu": lambda L, F, x: F.relu(x),
    "transpose_contiguous": lambda L, F, x: x.t().contiguous(),
    "sum_last": lambda L, F, x: x.sum(-1),
}


class WideOpGrads:
    """One op on a (256, 1024) float64 array, forward and backward from a given gradient,
    tapegrad and PyTorch."""

    params = [list(WIDE_OPS), ["tapegrad", "torch"]]
    param_names = ["op", "library"]

    shape, ops = (256, 1024), WIDE_OPS

    def setup(self, op, library):
        L = _library(library)
        r = np.random.default_rng(10)
        x = L.tensor(r.standard_normal(self.shape), requires_grad=True)
        f, F = self.ops[op], L.nn.functional
        g = L.tensor(r.standard_normal(tuple(f(L, F, x).shape)))

        def run():
            x.grad = None
            f(L, F, x).backward(g)

        self.run = run
        run()

    def time_forward_backward(self, op, library):
        self.run()


MID_OPS = {
    "scale": lambda L, F, x: x * 1.5,
    "tanh": lambda L, F, x: L.tanh(x),
    "relu": lambda L, F, x: F.relu(x),
    "softmax": lambda L, F, x: F.softmax(x, -1),
    "sum_last": lambda L, F, x: x.sum(-1),
}


class MidOpGrads(WideOpGrads):
    """``WideOpGrads`` on a (1000, 64) array: arenas of 2^16-2^17 elements, where the fixed
    costs of a backward (arena, tables) still show beside the arithmetic."""

    params = [list(MID_OPS), ["tapegrad", "torch"]]
    shape, ops = (1000, 64), MID_OPS


class LookupAndPoolGrads:
    """Rows of a (10000, 256) table (an embedding lookup) and 2x2 max pooling of a
    (32, 16, 28, 28) batch, forward and backward, tapegrad and PyTorch."""

    params = [["embedding", "max_pool2d"], ["tapegrad", "torch"]]
    param_names = ["case", "library"]
    number = 1
    repeat = (3, 10, 30.0)

    def setup(self, case, library):
        L = _library(library)
        r = np.random.default_rng(11)
        F = L.nn.functional
        if case == "embedding":
            x = L.tensor(r.standard_normal((10000, 256)), requires_grad=True)
            idx = L.tensor(r.integers(0, 10000, 2048))
            g = L.tensor(r.standard_normal((2048, 256)))

            def f():
                return F.embedding(idx, x)
        else:
            x = L.tensor(r.standard_normal((32, 16, 28, 28)), requires_grad=True)
            g = L.tensor(r.standard_normal((32, 16, 14, 14)))

            def f():
                return F.max_pool2d(x, 2)

        def run():
            x.grad = None
            f().backward(g)

        self.run = run
        run()

    def time_forward_backward(self, case, library):
        self.run()


class SmallMatrixProducts:
    """Products with a small matrix stored by columns, forward and backward: ``x @ W.t()`` of
    (4096, 8) and (8, 8), and GMM's ``einsum("kij,nkj->nki")`` with its factor a C-order
    (25, 10, 10) parameter, tapegrad and PyTorch."""

    params = [["linear_transposed", "einsum_batched"], ["tapegrad", "torch"]]
    param_names = ["case", "library"]

    def setup(self, case, library):
        L = _library(library)
        r = np.random.default_rng(12)
        if case == "linear_transposed":
            x = L.tensor(r.standard_normal((4096, 8)), requires_grad=True)
            w = L.tensor(r.standard_normal((8, 8)), requires_grad=True)

            def f():
                return x @ w.t()
        else:
            x = L.tensor(r.standard_normal((1000, 25, 10)), requires_grad=True)
            w = L.tensor(r.standard_normal((25, 10, 10)), requires_grad=True)

            def f():
                return L.einsum("kij,nkj->nki", w, x)
        g = L.tensor(r.standard_normal(tuple(f().shape)))

        def run():
            x.grad = w.grad = None
            f().backward(g)

        self.run = run
        run()

    def time_forward_backward(self, case, library):
        self.run()


# ---- ops whose first tapegrad version cost 3-70x PyTorch's time, kept in view ---------------------
# Each builder gets the library and a generator and returns (leaves, forward); forward's value is
# summed against a fixed random gradient, so every case is one forward and one backward.

def _conv_transpose(L, r):
    x = L.tensor(r.standard_normal((4, 16, 16, 16)), requires_grad=True)
    w = L.tensor(r.standard_normal((16, 8, 4, 4)) * 0.1, requires_grad=True)
    return (x, w), lambda: L.nn.functional.conv_transpose2d(x, w, stride=2, padding=1)


def _index_select(L, r):
    table = L.tensor(r.standard_normal((100000, 64)), requires_grad=True)
    rows = L.tensor(r.integers(0, 100000, 32))
    return (table,), lambda: table.index_select(0, rows)


def _on_rows(op):
    def build(L, r):
        x = L.tensor(r.standard_normal((256, 512)), requires_grad=True)
        return (x,), lambda: op(L, x)
    return build


def _cdist(L, r):
    a = L.tensor(r.standard_normal((500, 16)), requires_grad=True)
    b = L.tensor(r.standard_normal((400, 16)), requires_grad=True)
    return (a, b), lambda: L.cdist(a, b)


def _group_norm(L, r):
    x = L.tensor(r.standard_normal((16, 32, 16, 16)), requires_grad=True)
    return (x,), lambda: L.nn.functional.group_norm(x, 8)


def _adaptive_max_pool(L, r):
    x = L.tensor(r.standard_normal((16, 8, 15, 15)), requires_grad=True)
    return (x,), lambda: L.nn.functional.adaptive_max_pool2d(x, (4, 4))


def _cross_entropy_3d(L, r):
    x = L.tensor(r.standard_normal((16, 10, 32)), requires_grad=True)
    labels = L.tensor(r.integers(0, 10, (16, 32)))
    return (x,), lambda: L.nn.functional.cross_entropy(x, labels, reduction="none")


def _diag_embed(L, r):
    x = L.tensor(r.standard_normal((64, 32)), requires_grad=True)
    return (x,), lambda: L.diag_embed(x)


def _grid_sample(mode):
    """A (4, 8, 32, 32) batch sampled at a (4, 24, 24, 2) grid, gradients for both (was ~20
    records of gathers and weights: ~7x PyTorch's time)."""
    def build(L, r):
        x = L.tensor(r.standard_normal((4, 8, 32, 32)), requires_grad=True)
        grid = L.tensor(r.uniform(-1.1, 1.1, (4, 24, 24, 2)), requires_grad=True)
        return (x, grid), lambda: L.nn.functional.grid_sample(
            x, grid, mode=mode, padding_mode="reflection" if mode == "nearest" else "zeros",
            align_corners=False)
    return build


def _upsample(mode):
    """A (1, 3, 16, 16) image upsampled by 2 (was two index_selects and a blend per dim)."""
    def build(L, r):
        x = L.tensor(r.standard_normal((1, 3, 16, 16)), requires_grad=True)
        return (x,), lambda: L.nn.functional.interpolate(x, scale_factor=2, mode=mode)
    return build


def _per_example_grads(L, r):
    """64 per-example gradients of a 16x8 tanh layer's squared output: vmap over grad."""
    w = L.tensor(r.standard_normal((16, 8)))
    xs = L.tensor(r.standard_normal((64, 16)))

    def loss(w, x):
        return (L.tanh(x @ w) ** 2).sum()

    per_example = L.func.vmap(L.func.grad(loss), in_dims=(None, 0))
    return (), lambda: per_example(w, xs)


def _row_by_row_jacobian(L, r):
    """``autograd.functional.jacobian`` without ``vectorize`` of a 10-element function (once a
    backward per row, each through a segment of its own)."""
    z = L.tensor(r.standard_normal(10))
    return (), lambda: L.autograd.functional.jacobian(lambda a: (a.sin() * a.cumsum(0)).exp(), z)


def _spd(r, n):
    a = r.standard_normal((n, n))
    return a @ a.T / n + np.eye(n)


def _solve_triangular(n, k):
    """An (n, n) upper triangle and k right-hand sides (was LU solves: n^3 for n^2 k)."""
    def build(L, r):
        A = L.tensor(np.linalg.cholesky(_spd(r, n)).T.copy(), requires_grad=True)
        B = L.tensor(r.standard_normal((n, k)), requires_grad=True)
        return (A, B), lambda: L.linalg.solve_triangular(A, B, upper=True)
    return build


def _cholesky_solve(n, k):
    def build(L, r):
        F = L.tensor(np.linalg.cholesky(_spd(r, n)), requires_grad=True)
        B = L.tensor(r.standard_normal((n, k)), requires_grad=True)
        return (F, B), lambda: L.cholesky_solve(B, F)
    return build


def _of_spd(op, n):
    def build(L, r):
        A = L.tensor(_spd(r, n), requires_grad=True)
        return (A,), lambda: op(L, A)
    return build


def _digamma(L, r):
    """A million elements: the backward is trigamma (was SciPy's polygamma, ~190 ns each)."""
    x = L.tensor(r.random(1000000) * 10 + 0.1, requires_grad=True)
    return (x,), lambda: L.digamma(x)


def _einsum_trace(L, r):
    """A small einsum: its fixed cost (parsing, the VJP's plan) against PyTorch's."""
    x = L.tensor(r.standard_normal((4, 5, 5)), requires_grad=True)
    return (x,), lambda: L.einsum("bii->b", x)


def _index_add(L, r):
    """300 rows of 64 added at repeated indices into (1000, 64) (was a scatter, a reshape and
    an addition: ~3.5x PyTorch's time)."""
    x = L.tensor(r.standard_normal((1000, 64)), requires_grad=True)
    src = L.tensor(r.standard_normal((300, 64)), requires_grad=True)
    rows = L.tensor(r.integers(0, 1000, 300))
    return (x, src), lambda: x.index_add(0, rows, src, alpha=0.5)


FIXED_COSTS = {
    "conv_transpose2d": _conv_transpose,
    "index_select": _index_select,
    "topk": _on_rows(lambda L, x: x.topk(10, dim=1).values),
    "median": _on_rows(lambda L, x: x.median(dim=1).values),
    "logcumsumexp": _on_rows(lambda L, x: x.logcumsumexp(1)),
    "cummax": _on_rows(lambda L, x: x.cummax(1).values),
    "cumprod": _on_rows(lambda L, x: x.cumprod(1)),
    "cdist": _cdist,
    "grid_sample": _grid_sample("bilinear"),
    "grid_sample_nearest": _grid_sample("nearest"),
    "interpolate_bilinear": _upsample("bilinear"),
    "interpolate_nearest": _upsample("nearest"),
    "group_norm": _group_norm,
    "adaptive_max_pool2d": _adaptive_max_pool,
    "cross_entropy_3d": _cross_entropy_3d,
    "diag_embed": _diag_embed,
    "vmap_grad": _per_example_grads,
    "jacobian_rows": _row_by_row_jacobian,
    "solve_triangular_64": _solve_triangular(64, 8),
    "solve_triangular_256": _solve_triangular(256, 8),
    "cholesky_solve_256": _cholesky_solve(256, 256),
    "cholesky_256": _of_spd(lambda L, A: L.linalg.cholesky(A), 256),
    "slogdet_256": _of_spd(lambda L, A: L.linalg.slogdet(A)[1], 256),
    "digamma": _digamma,
    "einsum_batched_trace": _einsum_trace,
    "index_add": _index_add,
}


class FormerlySlowOps:
    """Ops that once cost tapegrad many times PyTorch's time (a quadratic backward, a dense
    placement matrix, a Python loop per cell or per example), forward and backward from a given
    gradient, tapegrad and PyTorch; the per-example gradients are forward only (vmap of grad)."""

    params = [list(FIXED_COSTS), ["tapegrad", "torch"]]
    param_names = ["case", "library"]
    number = 1
    repeat = (3, 10, 30.0)

    def setup(self, case, library):
        L = _library(library)
        r = np.random.default_rng(13)
        leaves, f = FIXED_COSTS[case](L, r)
        g = L.tensor(r.standard_normal(tuple(f().shape)))

        def run():
            for leaf in leaves:
                leaf.grad = None
            out = f()
            if leaves:
                out.backward(g)

        self.run = run
        run()

    def time_forward_backward(self, case, library):
        self.run()
