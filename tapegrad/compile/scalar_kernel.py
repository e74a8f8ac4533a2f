"""A compiled interpreter for long runs of scalar (Python float) nodes of a replay program.

A program of 10⁴ scalar ops as Python lines costs ~40 ns per node to run and ~20 µs per node to
``compile()``; as instructions for this loop it costs ~5 ns per node and no compile at all: the
loop is compiled by Numba once per machine (``cache=True``), whatever the function.

Instruction ``k``: ``R[out[k]] = f(R[a[k]], R[b[k]], c[k])`` with ``f`` chosen by ``op[k]``.
Special values follow NumPy (``error_model="numpy"``), as the eager scalar path does when
``math`` raises (division by zero, overflow, log of a negative number).
"""

import numpy as np

# opcodes of the loop (the order of the if-chain: commonest first)
CODES = {"mul": 0, "add": 1, "mulc": 2, "addc": 3, "sub": 4, "sin": 5, "cos": 6, "exp": 7,
         "div": 8, "neg": 9, "rsubc": 10, "divc": 11, "rdivc": 12, "log": 13, "tanh": 14,
         "sqrt": 15, "powc": 16, "tan": 17, "log1p": 18, "expm1": 19, "sigmoid": 20,
         "abs": 21, "const": 22}
UNARY = frozenset(("sin", "cos", "exp", "neg", "log", "tanh", "sqrt", "tan", "log1p", "expm1",
                   "sigmoid", "abs"))
CONST = frozenset(("mulc", "addc", "rsubc", "divc", "rdivc", "powc"))
MIN_RUN = 256  # shorter runs stay Python lines (a kernel call costs ~1 µs)

_kernel = None


def run():
    """The compiled loop (compiled or loaded from Numba's cache on first use)."""
    global _kernel
    if _kernel is None:
        _kernel = _build()
    return _kernel


def _build():
    import math

    import numba

    from .. import _numba_cache  # noqa: F401 (before the kernel: where Numba caches it)

    @numba.njit(cache=True, nogil=True, error_model="numpy")
    def interpret(op, a, b, c, out, R):
        for k in range(op.shape[0]):
            o = op[k]
            x = R[a[k]]
            if o == 0:
                r = x * R[b[k]]
            elif o == 1:
                r = x + R[b[k]]
            elif o == 2:
                r = x * c[k]
            elif o == 3:
                r = x + c[k]
            elif o == 4:
                r = x - R[b[k]]
            elif o == 5:
                r = math.sin(x)
            elif o == 6:
                r = math.cos(x)
            elif o == 7:
                r = math.exp(x)
            elif o == 8:
                r = x / R[b[k]]
            elif o == 9:
                r = -x
            elif o == 10:
                r = c[k] - x
            elif o == 11:
                r = x / c[k]
            elif o == 12:
                r = c[k] / x
            elif o == 13:
                r = math.log(x)
            elif o == 14:
                r = math.tanh(x)
            elif o == 15:
                r = math.sqrt(x)
            elif o == 16:
                r = x ** c[k]
            elif o == 17:
                r = math.tan(x)
            elif o == 18:
                r = math.log1p(x)
            elif o == 19:
                r = math.expm1(x)
            elif o == 20:
                r = 1.0 / (1.0 + math.exp(-x))
            elif o == 21:
                r = abs(x)
            else:
                r = c[k]
            R[out[k]] = r

    return interpret


def supports(op, params):
    if op not in CODES:
        return False
    if op == "powc":  # PyTorch's pow: sqrt/rsqrt for +-0.5, a separate formula otherwise
        return float(params["c"]) not in (0.5, -0.5) and float(params["c"]).is_integer()
    return True


class Block:
    """The instruction arrays of one run of scalar nodes; ``regs`` maps value id -> register."""

    def __init__(self, nodes, graph):
        self.regs = {}
        n = len(nodes)
        self.op = np.empty(n, np.int64)
        self.a = np.zeros(n, np.int64)
        self.b = np.zeros(n, np.int64)
        self.c = np.zeros(n, np.float64)
        self.out = np.empty(n, np.int64)
        for k, node in enumerate(nodes):
            self.op[k] = CODES[node.op]
            if node.op == "const":
                self.c[k] = graph.val[node.out]
            elif node.op in CONST:
                self.c[k] = float(node.params["c"])
            if node.ins:
                self.a[k] = self.reg(node.ins[0])
            if len(node.ins) > 1:
                self.b[k] = self.reg(node.ins[1])
            self.out[k] = self.reg(node.out)

    def reg(self, vid):
        r = self.regs.get(vid)
        if r is None:
            r = self.regs[vid] = len(self.regs)
        return r
