"""``SDPBackend`` and ``sdpa_kernel``, as ``torch.nn.attention``'s: the backends that
``scaled_dot_product_attention`` may use.

tapegrad has one implementation, the composition of ops, which stands for both backends that
PyTorch has on the CPU: ``MATH`` and ``FLASH_ATTENTION``. With neither enabled a call raises
PyTorch's error; with ``FLASH_ATTENTION`` alone, a call that PyTorch's flash kernel does not take
(dropout, inputs that are not 4-D) raises PyTorch's error as well.
"""

import contextlib
import enum

__all__ = ["SDPBackend", "sdpa_kernel"]


class SDPBackend(enum.IntEnum):
    """The attention backends, PyTorch's names and values."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


_ALL = frozenset(b for b in SDPBackend if b is not SDPBackend.ERROR)
_enabled = [_ALL]  # (process-wide, as PyTorch's backend flags)


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Inside the block, ``scaled_dot_product_attention`` uses only ``backends`` (one
    ``SDPBackend`` or a list of them). ``set_priority`` orders them (one implementation here)."""
    assert isinstance(backends, (list, SDPBackend)), "Backend must be an instance of " \
        f"SDPBackend or a list of SDPBackend instances, got {type(backends).__name__}"
    if isinstance(backends, SDPBackend):
        backends = [backends]
    previous = _enabled[0]
    _enabled[0] = frozenset(backends)
    try:
        yield {}
    finally:
        _enabled[0] = previous


def check_backend(q, k, v, dropout_p):
    """Raise PyTorch's error when no enabled backend takes this call."""
    enabled = _enabled[0]
    if enabled is _ALL or SDPBackend.MATH in enabled:  # (the default first: no enum hash)
        return
    if SDPBackend.FLASH_ATTENTION not in enabled:
        raise RuntimeError("No viable backend for scaled_dot_product_attention was found. This "
                           "is likely due to turning off both the math kernel and the fused "
                           "kernels.")
    if dropout_p > 0.0 or q.ndim != 4 or k.ndim != 4 or v.ndim != 4:
        raise RuntimeError("No available kernel.  Aborting execution.")
