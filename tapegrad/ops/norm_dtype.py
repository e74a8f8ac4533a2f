"""The ``dtype=`` argument of the norms (``linalg.vector_norm``/``matrix_norm``/``norm``)
checked as PyTorch checks it, in its words."""

import numpy as np

from .shapes import torch_dtype_name


def check_norm_dtype(x, dtype, name):
    """``dtype`` (a norm's ``dtype=``) checked as PyTorch checks it: complex for a complex
    input, real for a real one."""
    want = np.dtype(dtype)
    if (x.dtype.kind == "c") != (want.kind == "c"):
        kind = "complex" if x.dtype.kind == "c" else "real"
        raise RuntimeError(f"linalg.{name}: dtype should be {kind} for {kind} inputs, but got "
                           f"{torch_dtype_name(want)}")
    return dtype
