"""tapegrad.vecmath's SIMD kernels against NumPy and PyTorch (SLEEF), per element, 2e6 float64
(erf: against SciPy's, the "numpy" implementation of that row).

Each call allocates its result, as an op's forward does.

``vecmath_kernel`` forces the kernel (``vecmath.apply``); ``vecmath`` is the dispatching
function the ops use (NumPy's where NumPy's own loop is faster on this CPU). Divide the times
by ``N`` for ns/element. ``track_compile_s`` is the kernels' cold compile (fresh cache).
"""

import os
import subprocess
import sys
import tempfile

import numpy as np

from .common import library, torch_or_skip

N = 2_000_000
FUNCS = ["exp", "log", "sin", "cos", "erf"]


def _args(name):
    rng = np.random.default_rng(0)
    return rng.uniform(0.01, 100.0, N) if name == "log" else rng.uniform(-20.0, 20.0, N)


class ElementwiseMath:
    params = [FUNCS, ["numpy", "vecmath", "vecmath_kernel", "torch"]]
    param_names = ["function", "implementation"]
    timeout = 120

    def setup(self, name, impl):
        x = _args(name)
        if impl == "torch":
            torch = torch_or_skip()
            torch.set_num_threads(1)
            tx, f = torch.from_numpy(x), getattr(torch, name)
            self.run = lambda: f(tx)
        elif impl == "numpy":
            if name == "erf":  # SciPy's (without SciPy, the C library's per element)
                from tapegrad import vecmath

                f = vecmath.special("erf")
            else:
                f = getattr(np, name)
            self.run = lambda: f(x)
        else:
            from tapegrad import vecmath

            f = getattr(vecmath, name) if impl == "vecmath" else \
                (lambda v: vecmath.apply(name, v))
            self.run = lambda: f(x)
        self.run()  # compile outside the timing

    def time_2e6_elements(self, name, impl):
        self.run()


def track_compile_s():
    """Seconds to compile the five kernels with an empty Numba cache (one process)."""
    code = ("import time, numpy as np; from tapegrad import vecmath\n"
            "x = np.linspace(0.5, 2, 8192); t = time.perf_counter()\n"
            "[vecmath.apply(n, x) for n in ('exp', 'log', 'sin', 'cos', 'erf')]\n"
            "print(time.perf_counter() - t)")
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, NUMBA_CACHE_DIR=d)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True).stdout
    return float(out.split()[-1])


track_compile_s.unit = "seconds"


# ---- short runs: sums over inner axes and broadcasting (vecmath.short_runs) ----------------

SHORT_RUN_CASES = {
    # GMM's shapes: (n, K, d) = (1000, 25, 10)
    "sum_last_axis": (lambda r: (r.standard_normal((1000, 25, 10)),), "sum", 2),
    "sum_middle_axis": (lambda r: (r.standard_normal((1000, 25, 10)),), "sum", 1),
    "broadcast_sub": (lambda r: (r.standard_normal((1000, 1, 10)),
                                 r.standard_normal((1, 25, 10))), "sub", None),
}


class ShortRuns:
    """One op on GMM-shaped arrays: NumPy, the op through tapegrad (no recording: the
    compiled loop), PyTorch. A ratio of ``tapegrad`` to ``numpy`` below 1 is the loop's gain."""

    params = [list(SHORT_RUN_CASES), ["numpy", "tapegrad", "torch"]]
    param_names = ["case", "implementation"]

    def setup(self, case, impl):
        make, op, axis = SHORT_RUN_CASES[case]
        arrays = make(np.random.default_rng(0))
        if impl == "numpy":
            lib, wrap = np, (lambda a: a)
        elif impl == "torch":
            lib = torch_or_skip()
            lib.set_num_threads(1)
            wrap = lib.from_numpy
        else:
            import tapegrad as lib

            wrap = lib.tensor
        args = [wrap(a) for a in arrays]
        if op == "sum":
            self.run = lambda: args[0].sum(axis)
        else:
            self.run = lambda: args[0] - args[1]
        self.run()  # compile outside the timing

    def time_op(self, case, impl):
        self.run()


# ---- large elementwise gradients whose NumPy forms were slow (where, pow, formulas) ----------

GRAD_CASES = {
    "relu": lambda L, F, x: F.relu(x),
    "cube": lambda L, F, x: x ** 3,
    "leaky_relu": lambda L, F, x: F.leaky_relu(x, 0.1),
    "sigmoid": lambda L, F, x: L.sigmoid(x),
    "tanh": lambda L, F, x: L.tanh(x),
    "gelu": lambda L, F, x: F.gelu(x),  # exact: erf
    "softmax": lambda L, F, x: F.softmax(x.reshape(500, 500), 1).reshape(-1),
}


class LargeElementwiseGrads:
    """Forward and backward of one op on 2.5e5 float64 elements (weighted sum), tapegrad and
    PyTorch: relu's derivative and leaky_relu are selects (``vecmath.where``), ``x ** 3`` is
    PyTorch's ``x * x * x`` (NumPy's pow took ~56 ns an element for negative bases), the
    derivatives of relu, sigmoid and tanh one compiled pass each (``_formula_kernels``), softmax
    one op over rows of 500."""

    params = [list(GRAD_CASES), ["tapegrad", "torch"]]
    param_names = ["op", "implementation"]

    def setup(self, op, impl):
        r = np.random.default_rng(0)
        xv, wv = r.standard_normal(250_000) * 2, r.standard_normal(250_000)
        L = library(impl)
        x, w = L.tensor(xv, requires_grad=True), L.tensor(wv)
        f, F = GRAD_CASES[op], L.nn.functional

        def run():
            x.grad = None
            (f(L, F, x) * w).sum().backward()

        self.run = run
        run()  # compile outside the timing

    def time_forward_backward(self, op, impl):
        self.run()
