"""Compiled-kernel modules imported on first use: importing one loads Numba (and compiles or
loads its cache), which ``import tapegrad`` must not pay."""

import importlib


def kernels(name):
    """A function returning the module ``tapegrad.ops.<name>``, imported at its first call."""
    box = []

    def load():
        if not box:
            box.append(importlib.import_module(f"{__package__}.{name}"))
        return box[0]

    return load
