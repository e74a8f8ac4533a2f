"""``tg.accelerator``: the device-neutral questions PyTorch's tutorials start with,
``device = tg.accelerator.current_accelerator().type if tg.accelerator.is_available() else
"cpu"``. tapegrad's one accelerator is CUDA (``tg.cuda``), present when numba-cuda finds a GPU.

Example:
    >>> import tapegrad as tg
    >>> device = tg.accelerator.current_accelerator().type if tg.accelerator.is_available() \\
    ...     else "cpu"
    >>> device in ("cpu", "cuda")
    True
"""

import contextlib

from . import cuda
from .device import device as _device

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index",
           "set_device_index", "device_index", "synchronize", "empty_cache"]

_NONE = "Cannot access accelerator device when none is available."


def is_available():
    """Whether an accelerator (a CUDA GPU) can be used here."""
    return cuda.is_available()


def current_accelerator(check_available=False):
    """The accelerator's device (``device(type='cuda', index=0)``), or None without one.
    (tapegrad has no build-time accelerator apart from the one found at run time, so
    ``check_available`` changes nothing.)"""
    return _device("cuda", 0) if cuda.is_available() else None


def device_count():
    """How many accelerator devices there are (0 without one)."""
    return cuda.device_count()


def _require():
    if not cuda.is_available():
        raise RuntimeError(_NONE)


def current_device_index():
    """The index of the accelerator device in use (tapegrad uses device 0)."""
    _require()
    return cuda.current_device()


def set_device_index(device):
    """Use accelerator device ``device`` (an index or a device): tapegrad has device 0 only."""
    _require()
    index = getattr(device, "index", device)
    if index not in (None, -1, 0):
        raise RuntimeError(f"tapegrad uses CUDA device 0 only, got device index {index}")


@contextlib.contextmanager
def device_index(device):
    """Inside the block, accelerator device ``device`` is in use (None: no change)."""
    if device is not None:
        set_device_index(device)
    yield


def synchronize(device=None):
    """Wait for every kernel launched so far to finish."""
    _require()
    cuda.synchronize()


def empty_cache():
    """Release the device memory the accelerator holds in its cache."""
    _require()
    cuda.empty_cache()
