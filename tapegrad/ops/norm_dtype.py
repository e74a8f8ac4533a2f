"""The ``dtype=`` argument of the norms (``linalg.vector_norm``/``matrix_norm``/``norm``,
``torch.norm``) checked as PyTorch checks it, in its words."""

import numpy as np

from ..promotion import promote_types
from .shapes import torch_dtype_name


def check_norm_dtype(x, dtype, name):
    """``dtype`` for the norm ``name`` of ``x``: ``x`` a float or complex tensor, ``dtype`` a
    float or complex dtype, complex for a complex ``x`` and real for a real one, and no
    narrower than ``x``'s (float64 to float32 raises: the norm is not computed in less
    precision than its input)."""
    have, want = np.dtype(x.dtype), np.dtype(dtype)
    if have.kind not in "fc":
        raise RuntimeError(f"linalg.{name}: Expected a floating point or complex tensor as "
                           f"input. Got {torch_dtype_name(have)}")
    if want.kind not in "fc":
        raise RuntimeError(f"linalg.{name}: dtype should be floating point or complex, but got "
                           f"{torch_dtype_name(want)}")
    if (have.kind == "c") != (want.kind == "c"):
        kind = "complex" if have.kind == "c" else "real"
        raise RuntimeError(f"linalg.{name}: dtype should be {kind} for {kind} inputs, but got "
                           f"{torch_dtype_name(want)}")
    if np.dtype(promote_types(have, want)) != want:
        raise RuntimeError(f"linalg.{name}: the dtype of the input ({torch_dtype_name(have)}) "
                           "should be convertible without narrowing to the specified dtype "
                           f"({torch_dtype_name(want)})")
    return dtype
