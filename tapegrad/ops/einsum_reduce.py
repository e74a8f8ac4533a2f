"""A one-operand float32 einsum that sums (``'ab->a'``, ``'abc->ca'``, ``'aab->b'``) as
``sum``'s reduction: ``np.einsum`` adds the values one after another in float32 (a relative
error of ~1e-6 over a million terms, 20-100x PyTorch's), where ``sum`` adds pairwise or in
float64 (``movement.sum_values``, PyTorch's accuracy). A repeated letter's diagonal is taken
first (a strided view: no arithmetic), the result is transposed into the output's order last.
float64 keeps ``np.einsum`` (its error over a million terms is ~1e-10, and it is faster)."""

import numpy as np

from .._bounded_cache import bounded_cache
from .movement import sum_values

_PLANS, _keep = bounded_cache(256)
_F32, _F16 = np.dtype(np.float32), np.dtype(np.float16)


def _plan(sub, out_sub):
    """(diagonal equation or None, summed axes, output order or None), or None where no
    letter is summed."""
    key = (sub, out_sub)
    plan = _PLANS.get(key)
    if plan is None:
        letters = "".join(dict.fromkeys(sub))  # each letter once, in order of appearance
        summed = tuple(i for i, c in enumerate(letters) if c not in out_sub)
        kept = [c for c in letters if c in out_sub]
        order = [kept.index(c) for c in out_sub]
        plan = _keep(key, (f"{sub}->{letters}" if len(letters) != len(sub) else None, summed,
                           order if order != sorted(order) else None) if summed else False)
    return plan


def reduction(sub, out_sub, a):
    """``np.einsum(sub + '->' + out_sub, a)`` for an array ``a`` whose subscripts ``sub``
    (ellipsis expanded) are given; None where ``np.einsum`` stays (not float32/float16, or no
    letter summed: a permutation or diagonal adds nothing)."""
    if a.dtype is not _F32 and a.dtype is not _F16:
        return None
    plan = _plan(sub, out_sub)
    if not plan:
        return None
    diagonal, summed, order = plan
    if diagonal is not None:  # (a view of ``a``)
        a = np.einsum(diagonal, a)
    if not a.flags.c_contiguous:
        a = np.ascontiguousarray(a)  # (the compiled loops of sum take C-contiguous arrays)
    value = np.asarray(sum_values(a, summed, False))
    if order is not None:
        value = np.ascontiguousarray(np.transpose(value, order))
    return value
