"""``logcumsumexp`` of complex values, PyTorch's values and gradient.

PyTorch accumulates ``logaddexp(previous, next)`` along the dim, each ``max + log1p(exp(min -
max))`` with the operands ordered by their real parts, so its imaginary parts are not wrapped
into (-pi, pi] as ``log(cumsum(exp(z)))``'s would be. The backward is PyTorch's
``logcumsumexp_backward`` for complex values, ``conj(exp(rev(log(conj g) - out) + z))`` with
``rev`` the logcumsumexp running from the end: itself complex logcumsumexp, so it re-tapes to
any order.
"""

import numpy as np

from . import complex as C


def _logaddexp(x, y):
    first = x.real >= y.real
    hi, lo = np.where(first, x, y), np.where(first, y, x)
    # exp(-inf - hi) is 0: adding nothing (also where both are -inf, whose difference is nan)
    return np.where(np.isneginf(lo.real), hi, hi + np.log1p(np.exp(lo - hi)))


def accumulate(z, dim):
    """PyTorch's complex logcumsumexp of array ``z`` along ``dim``."""
    z = np.moveaxis(np.asarray(z), dim, 0)
    out = np.empty_like(z)
    with np.errstate(all="ignore"):
        for k in range(len(z)):
            out[k] = z[0] if k == 0 else _logaddexp(out[k - 1], z[k])
    return np.moveaxis(out, 0, dim)


def _rule(ns, g, ins, out, dim):
    # (this module is imported on first use, maybe after the namespaces were built: the
    # logcumsumexp of each is chosen here)
    lcse = accumulate if ns is C.NP else _tg_logcumsumexp

    def rev(x):
        return ns.flip(lcse(ns.flip(x, dim), dim), dim)

    return (ns.conj(ns.exp(rev(ns.log(ns.conj(g)) - out) + ins[0])),)


def logcumsumexp(x, dim):
    """Complex ``x`` (a tensor of at least one dimension), ``dim`` normalised."""
    return C.record(accumulate(x._arr(), dim), (x,), "logcumsumexp", dim=dim)


def _tg_logcumsumexp(x, dim):
    from .extra import logcumsumexp as public

    return public(x, dim)


C.RULES["logcumsumexp"] = _rule
