"""PyTorch's memory formats (``tg.contiguous_format``, ``tg.channels_last``, ...), accepted
wherever PyTorch takes ``memory_format=``. tapegrad does not track layouts: tensors keep NumPy's
C order whatever the format asked for, so values (and gradients) are the same; the checks are
PyTorch's (the type, and the rank that ``channels_last``/``channels_last_3d`` require)."""


class memory_format:
    """A memory format (PyTorch's ``torch.memory_format``)."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "tapegrad." + self.name

    def __reduce__(self):  # (pickled by name: the module's constants stay singletons)
        return self.name


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")

_RANKS = {"channels_last": 4, "channels_last_3d": 5}


def check_memory_format(fmt, ndim, name):
    """PyTorch's errors for ``memory_format=fmt`` of a tensor of ``ndim`` dims in ``name()``;
    None (PyTorch's default) and every format pass otherwise."""
    if fmt is None:
        return
    if type(fmt) is not memory_format:
        raise TypeError(f"{name}(): argument 'memory_format' must be torch.memory_format, not "
                        f"{type(fmt).__name__}")
    rank = _RANKS.get(fmt.name)
    if rank is not None and ndim != rank:
        raise RuntimeError(f"required rank {rank} tensor to use {fmt.name} format")
