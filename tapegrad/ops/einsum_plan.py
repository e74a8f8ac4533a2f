"""A two-operand einsum as one (batched) ``np.matmul`` over transposed views.

``np.einsum`` finds no BLAS path for a contraction with a batch letter (one in both operands
and the output, as GMM's ``"kij,nkj->nki"``) and runs its own loop: ~0.75-4 ms for
1000x25x10 operands, where ``np.matmul`` over the transposed views, writing into an array in
the output's layout, takes ~0.4-0.6 ms. A plan depends on the equation and the operands'
shapes and dtype only: ``tg.compile`` makes it once, when tracing (a signature fixes both); the
eager einsum and its gradient look it up in a small cache (``cached``). It is used where the
contraction is big enough to pay for a few more NumPy calls.
"""

import numpy as np

from .._bounded_cache import bounded_cache
from .accurate_dot import F32, dot32
from .blas_operands import blas_ready

MIN_SIZE = 4096  # elements of the largest operand below which np.einsum's own loop is used


class MatmulPlan:
    """``plan(a, b)``: the einsum's result, computed as ``left @ right`` where ``left`` is one
    operand transposed (and reshaped) to (batch, free, contracted) and ``right`` the other to
    (batch, contracted, free); the product is written through a transposed view of an array in
    the output's order, so the result is C-contiguous like ``np.einsum``'s."""

    __slots__ = ("back", "dtype", "left_axes", "left_shape", "out_shape", "out_view_axes",
                 "product_shape", "right_axes", "right_shape", "swap")

    def __call__(self, a, b):
        if self.swap:
            a, b = b, a
        left = a.transpose(self.left_axes)
        if self.left_shape is not None:
            left = left.reshape(self.left_shape)
        right = b.transpose(self.right_axes)
        if self.right_shape is not None:
            right = right.reshape(self.right_shape)
        left, right = blas_ready(left), blas_ready(right)
        out = np.empty(self.out_shape, self.dtype)
        if self.back is None:  # the output's memory viewed as the product: written in place
            view = out.transpose(self.out_view_axes).reshape(self.product_shape)
            np.matmul(left, right, out=view)
            return out
        prod = np.matmul(left, right)  # grouped letters interleave in the output: a copy
        out[...] = prod.reshape(self.back[0]).transpose(self.back[1])
        return out


def plan(spec, a, b):
    """A ``MatmulPlan`` for ``spec`` over operands shaped like ``a`` and ``b`` (``dot32`` for a
    dot product of float32 vectors: summed in float64), or None where
    ``np.einsum`` is kept: small operands, other than two float arrays of one dtype, a letter
    repeated in an operand, summed over one operand only, broadcast, an ellipsis, or no letter
    summed over at all."""
    if type(a) is np.ndarray and type(b) is np.ndarray and _float32_dot(spec, a):
        return dot32
    if type(a) is not np.ndarray or type(b) is not np.ndarray or a.dtype != b.dtype or \
            a.dtype.kind != "f" or max(a.size, b.size) < MIN_SIZE or "." in spec:
        return None
    lhs, out = spec.split("->")
    terms = lhs.split(",")
    if len(terms) != 2:
        return None
    ta, tb = terms
    if any(len(set(t)) != len(t) for t in (ta, tb, out)) or \
            len(ta) != a.ndim or len(tb) != b.ndim:
        return None
    size = {}
    for t, x in ((ta, a), (tb, b)):
        for c, n in zip(t, x.shape):
            if size.setdefault(c, n) != n:
                return None  # a broadcast letter
    if any(c not in size for c in out) or \
            any(c not in out and not (c in ta and c in tb) for c in size):
        return None
    batch = [c for c in out if c in ta and c in tb]
    contr = [c for c in ta if c in tb and c not in out]
    if not contr:  # a product without a sum (outer, elementwise): np.einsum's loop is ~2x faster
        return None
    free_a = [c for c in out if c in ta and c not in tb]
    free_b = [c for c in out if c in tb and c not in ta]
    p = MatmulPlan()
    # the output's last letter among the right operand's free letters: contiguous rows
    p.swap = bool(out) and out[-1] in free_a
    (tl, fl), (tr, fr) = ((tb, free_b), (ta, free_a)) if p.swap else ((ta, free_a), (tb, free_b))
    p.left_axes = tuple(tl.index(c) for c in batch + fl + contr)
    p.right_axes = tuple(tr.index(c) for c in batch + contr + fr)

    def prod(cs):
        n = 1
        for c in cs:
            n *= size[c]
        return n

    lead = (prod(batch),) if batch else ()
    p.left_shape = lead + (prod(fl), prod(contr))
    p.right_shape = lead + (prod(contr), prod(fr))
    if len(batch) <= 1 and len(fl) == 1 and len(contr) == 1:
        p.left_shape = None  # already that shape: no reshape call
    if len(batch) <= 1 and len(fr) == 1 and len(contr) == 1:
        p.right_shape = None
    p.product_shape = lead + (prod(fl), prod(fr))
    order = batch + fl + fr
    p.out_shape = tuple(size[c] for c in out)
    p.out_view_axes = tuple(out.index(c) for c in order)
    p.dtype = a.dtype
    probe = np.empty(p.out_shape, p.dtype)
    # the output's memory in the product's order, as one array: a view, or the reshape copies
    p.back = None if np.shares_memory(probe.transpose(p.out_view_axes).reshape(
        p.product_shape), probe) else (tuple(size[c] for c in order),
                                       tuple(order.index(c) for c in out))
    return p


def _float32_dot(spec, a):
    """Whether ``spec`` over ``a`` (and an operand of its shape) is a float32 dot product."""
    return a.dtype is F32 and len(spec) == 5 and spec[0] == spec[2] and spec[3:] == "->"


_CACHE, _keep = bounded_cache(256)  # (equation, shapes, dtypes) -> plan (None: no plan for them)


def cached(spec, a, b):
    """``plan(spec, a, b)``, made once per equation, pair of shapes and dtype (None included)."""
    if type(a) is not np.ndarray or type(b) is not np.ndarray:
        return None
    if a.size < MIN_SIZE and b.size < MIN_SIZE:  # small: no key built, no lookup (a float32
        # dot product 'i,i->' excepted: summed in float64 whatever its length)
        return dot32 if _float32_dot(spec, a) else None
    key = (spec, a.shape, b.shape, a.dtype, b.dtype)
    try:
        return _CACHE[key]
    except KeyError:  # (a plan may be None: no .get)
        return _keep(key, plan(spec, a, b))
