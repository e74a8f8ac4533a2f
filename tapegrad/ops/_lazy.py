"""Calling the compiled-kernel modules: each imported on first use (importing one loads Numba
and compiles or loads its cache, which ``import tapegrad`` must not pay), and arrays in the one
form their compiled signatures take."""

import importlib

import numpy as np


def kernels(name):
    """A function returning the module ``tapegrad.ops.<name>``, imported at its first call."""
    box = []

    def load():
        if not box:
            box.append(importlib.import_module(f"{__package__}.{name}"))
        return box[0]

    return load


def kernel_array(a, dtype, shape):
    """``a`` as a C-contiguous, writeable array of ``dtype`` and ``shape``: a kernel is compiled
    for one signature per dtype (read-only or strided arrays would compile others)."""
    a = np.ascontiguousarray(a, dtype)
    if not a.flags.writeable:
        a = a.copy()
    return a.reshape(shape)
