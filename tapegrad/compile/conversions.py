"""Dtype conversions as replay nodes: ``x.double()``, ``x.float()``, ``x.half()`` and
``x.to(dtype)`` / ``x.to("cpu")`` (``x.type(dtype)`` calls it). A conversion that returns ``x``
itself (already that dtype) adds nothing; a new tensor is an ``astype`` node (its VJP casts the
cotangent back) or a ``copy`` (``copy=True``); a result that is not floating has no history,
as eagerly."""

import numpy as np

from ..tensor import Tensor
from .ir import Unsupported


def convert(tr, name, a, result):
    x = a.get("self", a.get("x"))
    if not isinstance(x, Tensor) or not isinstance(result, Tensor) or \
            type(result._data) not in (float, np.ndarray):
        raise Unsupported(f"{name} to another device or of a non-tensor")
    v = tr.v(x)
    if result is x:
        return
    if result.dtype.kind not in "fc":
        v = tr.g.emit("detach", (v,), False)
    vid = tr.e("copy", (v,)) if result.dtype == tr.g.dtype(v) else \
        tr.e("astype", (v,), dtype=result.dtype)
    tr.out(result, vid, name)
