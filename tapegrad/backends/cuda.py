"""``tg.backends.cuda``: PyTorch's cuBLAS switches (``matmul.allow_tf32``), kept and read back
(tapegrad's CUDA products do not use TF32), and whether CUDA support is present."""

from .. import cuda as _cuda


class _Switches:
    """Named switches that refuse a name they do not have, as PyTorch's cuBLAS module."""

    _names = ("allow_tf32", "allow_fp16_reduced_precision_reduction",
              "allow_bf16_reduced_precision_reduction", "allow_fp16_accumulation")

    def __init__(self):
        for name, value in zip(self._names, (False, True, True, False)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        if name not in self._names:
            raise AttributeError(f"Unknown attribute {name}")
        object.__setattr__(self, name, value)


matmul = _Switches()


def is_built():
    """Whether CUDA tensors can be used (numba-cuda finds a GPU)."""
    return _cuda.is_available()
