"""``add`` and ``sub`` with PyTorch's ``alpha``: ``input + alpha * other`` (``torch.add``,
``Tensor.add``; ``sub`` likewise), and ``other`` by keyword. The operators and the op library's
``add``/``sub`` (what compositions call) stay the two-operand ops; these are the public forms,
compositions of those (so vmap and tg.compile follow them op by op).
"""

import numbers

from ..ops import elementwise as E

__all__ = ["add", "sub"]


def _scaled(input, other, alpha):
    """``alpha * other``, refusing a float ``alpha`` for integers as PyTorch does."""
    if isinstance(alpha, numbers.Real) and not isinstance(alpha, numbers.Integral) and \
            _integral(input) and _integral(other):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")
    return E.mul(other, alpha)


def _integral(t):
    dtype = getattr(t, "dtype", None)
    if dtype is None:
        return isinstance(t, numbers.Integral)
    return dtype.kind in "iub"


def add(input, other, *, alpha=1):
    """``input + alpha * other``."""
    return E.add(input, other if alpha == 1 else _scaled(input, other, alpha))


def sub(input, other, *, alpha=1):
    """``input - alpha * other``."""
    return E.sub(input, other if alpha == 1 else _scaled(input, other, alpha))
