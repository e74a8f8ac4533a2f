"""Reverse mode over the replay program: each primitive's VJP emitted as more primitives.

Because the VJPs are nodes of the same graph, a gradient taken with ``create_graph=True`` is an
ordinary value that requires grad, and a second backward differentiates the first one's nodes.
"""

import math

import numpy as np

from .ir import NO_GRAD, Unsupported

# Nodes whose value enters the program from outside: the reverse pass stops there.
LEAVES = frozenset(("input", "load", "leaf", "gload", "const", "detach"))


class Builder:
    """Emits VJP nodes; they require grad when recording (``create_graph``) and an input does."""

    def __init__(self, graph, record):
        self.g, self.record = graph, record

    def e(self, op, *ins, **params):
        rg = self.record and op not in NO_GRAD and any(self.g.rg[i] for i in ins)
        return self.g.emit(op, ins, rg, **params)

    def shape(self, v):
        return self.g.shape(v)

    def sum_to(self, v, shape):
        return v if self.shape(v) == tuple(shape) else self.e("sum_to", v, shape=tuple(shape))

    def zeros_like(self, v):
        g = self.g
        return g.emit("const", (), False, value=0.0 if type(g.raw(v)) is float else
                      np.zeros(g.shape(v), g.dtype(v)))


def _mT(b, v):
    n = len(b.shape(v))
    axes = tuple(range(n - 2)) + (n - 1, n - 2)
    return b.e("permute", v, axes=axes)


def _einsum_vjp(b, node, g):
    spec = node.params["spec"]
    lhs, out = spec.split("->")
    terms = lhs.split(",")
    grads = []
    for i, t in enumerate(terms):
        others = [terms[j] for j in range(len(terms)) if j != i]
        avail = set(out).union(*others)
        if len(set(t)) != len(t) or not set(t) <= avail or "." in spec:
            raise Unsupported(f"einsum {spec!r}: its gradient needs a diagonal or a sum")
        ins = (g,) + tuple(node.ins[j] for j in range(len(terms)) if j != i)
        grads.append(b.e("einsum", *ins, spec=",".join([out] + others) + "->" + t))
    return grads


def _cat_vjp(b, node, g):
    axis = node.params["axis"]
    grads, start = [], 0
    for x in node.ins:
        n = b.shape(x)[axis]
        key = (slice(None),) * axis + (slice(start, start + n),)
        grads.append(b.e("getitem", g, key=key))
        start += n
    return grads


def _sum_vjp(b, node, g):
    (x,) = node.ins
    shape = b.shape(x)
    axis, keep = node.params["axis"], node.params["keepdims"]
    if not keep:
        g = b.e("reshape", g, shape=_kept_shape(shape, axis))
    return [b.e("broadcast_to", g, shape=shape)]


def _kept_shape(shape, axis):
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in ((axis,) if isinstance(axis, int) else axis)}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _logsumexp_vjp(b, node, g):
    (x,) = node.ins
    out = node.out
    if not node.params["keepdims"]:
        ks = _kept_shape(b.shape(x), node.params["axis"])
        g, out = b.e("reshape", g, shape=ks), b.e("reshape", out, shape=ks)
    return [b.e("mul", g, b.e("exp", b.e("sub", x, out)))]


def _amax_vjp(b, node, g):
    """As PyTorch: the gradient is shared evenly between the positions that attain it."""
    (x,) = node.ins
    out = node.out
    if not node.params["keepdims"]:
        ks = _kept_shape(b.shape(x), node.params["axis"])
        g, out = b.e("reshape", g, shape=ks), b.e("reshape", out, shape=ks)
    mask = b.e("eqmask", x, out)
    share = b.e("div", mask, b.e("sum", mask, axis=node.params["axis"], keepdims=True))
    return [b.e("mul", g, share)]


def _powc_vjp(b, node, g):
    (x,) = node.ins
    c = node.params["c"]
    if c == 0:
        return [b.zeros_like(x)]
    if c == 1:
        return [g]
    if c == 2:
        return [b.e("mul", g, b.e("mulc", x, c=2.0))]
    return [b.e("mul", g, b.e("mulc", b.e("powc", x, c=c - 1), c=float(c)))]


def _where_vjp(b, node, g):
    c, x, y = node.ins
    z = b.zeros_like(g)
    return [None, b.sum_to(b.e("where", c, g, z), b.shape(x)),
            b.sum_to(b.e("where", c, z, g), b.shape(y))]


def _matmul_vjp(b, node, g):
    x, y = node.ins
    return [b.sum_to(b.e("matmul", g, _mT(b, y)), b.shape(x)),
            b.sum_to(b.e("matmul", _mT(b, x), g), b.shape(y))]


def _no_grad(b, node, g):
    return [None] * len(node.ins)


def _x(n):
    return n.ins[0]


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _gauss(b, n, c):
    """``exp(-x*x) * c``, erf's (c = 2/sqrt(pi)) and erfc's derivative, in eager's order."""
    x = _x(n)
    return b.e("mulc", b.e("exp", b.e("neg", b.e("mul", x, x))), c=c)


RULES = {
    "add": lambda b, n, g: [b.sum_to(g, b.shape(n.ins[0])), b.sum_to(g, b.shape(n.ins[1]))],
    "sub": lambda b, n, g: [b.sum_to(g, b.shape(n.ins[0])),
                            b.sum_to(b.e("neg", g), b.shape(n.ins[1]))],
    "mul": lambda b, n, g: [b.sum_to(b.e("mul", g, n.ins[1]), b.shape(n.ins[0])),
                            b.sum_to(b.e("mul", g, n.ins[0]), b.shape(n.ins[1]))],
    "div": lambda b, n, g: [b.sum_to(b.e("div", g, n.ins[1]), b.shape(n.ins[0])),
                            b.sum_to(b.e("neg", b.e("div", b.e("mul", g, n.out), n.ins[1])),
                                     b.shape(n.ins[1]))],
    "addc": lambda b, n, g: [g],
    "divc": lambda b, n, g: [b.e("divc", g, c=n.params["c"])],
    "rpowc": lambda b, n, g: [b.e("mul", g, b.e("mulc", n.out, c=float(np.log(n.params["c"]))))],
    "mulc": lambda b, n, g: [b.e("mulc", g, c=n.params["c"])],
    "rsubc": lambda b, n, g: [b.e("neg", g)],
    "rdivc": lambda b, n, g: [b.e("neg", b.e("div", b.e("mul", g, n.out), _x(n)))],
    "powc": _powc_vjp,
    "neg": lambda b, n, g: [b.e("neg", g)],
    "exp": lambda b, n, g: [b.e("mul", g, n.out)],
    "log": lambda b, n, g: [b.e("div", g, _x(n))],
    "sin": lambda b, n, g: [b.e("mul", g, b.e("cos", _x(n)))],
    "cos": lambda b, n, g: [b.e("neg", b.e("mul", g, b.e("sin", _x(n))))],
    "tan": lambda b, n, g: [b.e("mul", g, b.e("addc", b.e("mul", n.out, n.out), c=1.0))],
    "tanh": lambda b, n, g: [b.e("mul", g, b.e("rsubc", b.e("mul", n.out, n.out), c=1.0))],
    "sqrt": lambda b, n, g: [b.e("div", g, b.e("mulc", n.out, c=2.0))],
    "sigmoid": lambda b, n, g: [b.e("mul", g, b.e("mul", n.out,
                                                  b.e("rsubc", n.out, c=1.0)))],
    "relu": lambda b, n, g: [b.e("mul", g, b.e("posmask", _x(n)))],
    "abs": lambda b, n, g: [b.e("mul", g, b.e("sign", _x(n)))],
    "log1p": lambda b, n, g: [b.e("div", g, b.e("addc", _x(n), c=1.0))],
    "expm1": lambda b, n, g: [b.e("mul", g, b.e("addc", n.out, c=1.0))],
    "erf": lambda b, n, g: [b.e("mul", g, _gauss(b, n, _TWO_OVER_SQRT_PI))],
    "erfc": lambda b, n, g: [b.e("mul", g, _gauss(b, n, -_TWO_OVER_SQRT_PI))],
    "where": _where_vjp,
    "matmul": _matmul_vjp,
    "einsum": _einsum_vjp,
    "sum": _sum_vjp,
    "sum_to": lambda b, n, g: [b.e("broadcast_to", g, shape=b.shape(_x(n)))],
    "broadcast_to": lambda b, n, g: [b.sum_to(g, b.shape(_x(n)))],
    "logsumexp": _logsumexp_vjp,
    "amax": _amax_vjp,
    "amin": _amax_vjp,
    "eqmask": _no_grad,
    "reshape": lambda b, n, g: [b.e("reshape", g, shape=b.shape(_x(n)))],
    "permute": lambda b, n, g: [b.e("permute", g,
                                    axes=tuple(int(a) for a in np.argsort(n.params["axes"])))],
    "getitem": lambda b, n, g: [b.e("index_scatter", g, key=n.params["key"],
                                    shape=b.shape(_x(n)), dtype=b.g.dtype(g))],
    "index_scatter": lambda b, n, g: [b.e("getitem", g, key=n.params["key"])],
    "mask_select": lambda b, n, g: [b.e("mask_scatter", g, n.ins[1], shape=b.shape(_x(n)),
                                        dtype=np.float64), None],
    "mask_scatter": lambda b, n, g: [b.e("mask_select", g, n.ins[1]), None],
    "cat": _cat_vjp,
    "copy": lambda b, n, g: [g],
    "astype": lambda b, n, g: [b.e("astype", g, dtype=b.g.dtype(_x(n)))
                               if type(b.g.raw(_x(n))) is not float else g],
    "sign": _no_grad, "posmask": _no_grad, "count": _no_grad, "item": _no_grad,
    "gt": _no_grad, "lt": _no_grad, "ge": _no_grad, "le": _no_grad, "eq": _no_grad,
    "ne": _no_grad,
}


def backprop(graph, seeds, record):
    """Adjoints of every value reached from ``seeds`` ({value: its cotangent value}). Without
    ``record`` the large elementwise values it emits are deferred (``ir.Deferred``)."""
    if record:
        return _backprop(graph, seeds, record)
    graph.defer += 1
    try:
        return _backprop(graph, seeds, record)
    finally:
        graph.defer -= 1


def _backprop(graph, seeds, record):
    b = Builder(graph, record)
    adj = dict(seeds)
    last = max(graph.producer[v] for v in seeds)
    for k in range(last, -1, -1):
        node = graph.nodes[k]
        out = node.out
        if out < 0 or out not in adj or node.op in LEAVES:
            continue
        rule = RULES.get(node.op)
        if rule is None:
            raise Unsupported(f"no gradient rule for {node.op}")
        for i, gi in zip(node.ins, rule(b, node, adj[out])):
            if gi is None or not graph.rg[i]:
                continue
            adj[i] = b.e("add", adj[i], gi) if i in adj else gi
    return adj
