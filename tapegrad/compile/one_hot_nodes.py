"""``F.one_hot`` as a replay node (no gradient): eager's int64 array with a 1 at each class
index. The index is a value of the program under a range guard (a class out of range runs
eagerly and raises eager's error); without ``num_classes`` the width is the largest class + 1,
which a guard checks on each call (another width records again)."""

import numpy as np

from ..tensor import Tensor
from . import ir
from .ir import Unsupported
from .take_nodes import _positions


def one_hot(p, idx):
    idx = np.asarray(idx)
    out = np.zeros(idx.shape + (p["n"],), dtype=np.int64)
    np.put_along_axis(out, idx[..., None].astype(np.int64), 1, axis=-1)
    return out


ir.IMPL["one_hot"] = one_hot


def one_hot_handler(tr, name, a, result):
    t, n = a["tensor"], a["num_classes"]
    if not isinstance(t, Tensor) or not isinstance(result, Tensor) or t.is_cuda or \
            t.numel() == 0:
        raise Unsupported(f"{name} of these operands")
    idx = _positions(tr, t, name)
    width = result.shape[-1]
    if n == -1:
        top = tr.e("item", (tr.e("amax", (idx,), axis=None, keepdims=False),))
        tr.g.effect("guard", (top,), expected=width - 1, kind="__int__",
                    why=f"{name}: the number of classes changed")
    ok = tr.e("index_ok", (idx,), lo=0, hi=width)
    tr.g.effect("guard", (ok,), expected=True, kind="__bool__",
                why=f"{name}: a class is out of range")
    tr.out(result, tr.e("one_hot", (idx,), n=width), name)


HANDLERS = {"one_hot": one_hot_handler}
