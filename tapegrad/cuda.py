"""``tg.cuda``: whether CUDA tensors can be used here, and synchronisation.

numba.cuda is imported by the first call that needs it, never by ``import tapegrad``.

Example:
    >>> import tapegrad as tg
    >>> isinstance(tg.cuda.is_available(), bool)
    True
"""

from .device import available, cuda_api


def is_available():
    """True when numba-cuda is installed and finds a GPU (or its simulator is switched on
    with ``NUMBA_ENABLE_CUDASIM=1``)."""
    return available()


def device_count():
    """Number of CUDA devices (0 when CUDA cannot be used); tapegrad uses device 0."""
    if not available():
        return 0
    return len(cuda_api().gpus)


def manual_seed(seed):
    """Seed the generator CUDA tensors' random values come from. tapegrad draws them on the
    host from the default generator and copies them over, so this seeds that generator, the
    one ``tg.manual_seed`` seeds (CPU draws follow it too: PyTorch keeps a separate CUDA
    generator)."""
    from .creation import manual_seed as seed_default

    seed_default(seed)


manual_seed_all = manual_seed  # one device


def empty_cache():
    """Release the device memory whose freeing numba-cuda deferred (its pending
    deallocations), as ``torch.cuda.empty_cache`` releases cached blocks."""
    if not available():
        return
    pending = getattr(cuda_api().current_context(), "deallocations", None)
    if pending is not None:  # (the simulator keeps none)
        pending.clear()


def synchronize(device=None):
    """Wait for every kernel launched so far to finish (timing needs this)."""
    cuda_api().synchronize()


def current_device():
    cuda_api()
    return 0


def get_device_name(device=None):
    return str(cuda_api().get_current_device().name)
