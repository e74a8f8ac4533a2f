"""``pad``: constant padding (or cropping) by concatenation, and PyTorch's non-constant
paddings (reflect, replicate, circular) as gathers of source positions."""

import numpy as np

from .. import ops as O
from ..ops.backward_ops import link as _node
from ..ops.elementwise import clone as _clone
from ..ops.node_names import name_node
from ..ops.record import as_tensor as _t
from ..tensor import _make

__all__ = ["pad"]


def _const(arr, like=None):
    """A constant tensor holding ``arr``, on ``like``'s device when given."""
    t = _make(np.asarray(arr))
    return t.to(like.device) if like is not None and like.is_cuda else t


_PAD_COMBINATIONS = ("Padding size {} is not supported for {}D input tensor.\nSupported "
                     "combinations for non-constant padding:\n  - 2D or 3D input: padding size "
                     "= 2 (pads last dimension)\n  - 3D or 4D input: padding size = 4 (pads last "
                     "2 dimensions)\n  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def _pad_by_index(x, pad, mode):
    """The non-constant paddings: each padded dim gathers its source positions (the gradient
    of a position read twice is the sum, as PyTorch's)."""
    for i in range(len(pad) // 2):
        d = x.ndim - 1 - i
        left, right, n = int(pad[2 * i]), int(pad[2 * i + 1]), x.shape[d]
        if mode == "reflect" and (left >= n or right >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({left}, "
                               f"{right}) at dimension {d} of input {list(x.shape)}")
        if mode == "circular" and (left > n or right > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        idx = np.arange(-left, n + right)
        if mode == "reflect":
            idx = np.abs(idx)
            idx = np.where(idx > n - 1, 2 * (n - 1) - idx, idx)
        elif mode == "replicate":
            idx = np.clip(idx, 0, n - 1)
        else:  # (a negative amount crops first; the other side wraps over what is left)
            start, m = max(-left, 0), n - max(-left, 0) - max(-right, 0)
            idx = np.arange(-max(left, 0), m + max(right, 0)) % m + start
        x = O.index_select(x, d, _make(idx.astype(np.int64)))
    if mode == "circular":  # (PyTorch's is a composition too: its gradient a plain gather)
        return x
    # one node in PyTorch, ``reflection_pad2d_backward(grad, self, padding)``: linked to x
    kind = "Reflection" if mode == "reflect" else "Replication"
    return _node(x, f"{kind}Pad{len(pad) // 2}DBackward0")


def pad(input, pad, mode="constant", value=None):
    """Pad (or crop, for negative amounts) the last ``len(pad) // 2`` dims, ``pad`` listing the
    last dim first; ``mode`` 'constant' (``value``), 'reflect', 'replicate' or 'circular'."""
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    x = _t(input)
    if len(pad) // 2 > x.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input "
                           "dimension but got padding length "
                           f"{len(pad)} and input of dimension {x.ndim}")
    if mode != "constant":
        # PyTorch's non-constant paddings pad 1-3 spatial dims after 1 or 2 leading dims
        if x.ndim - len(pad) // 2 not in (1, 2) or len(pad) > 6:
            raise NotImplementedError(_PAD_COMBINATIONS.format(len(pad), x.ndim))
        n = len(pad) // 2
        if mode != "circular" and 0 in (x.shape[1:] if x.ndim == n + 2 else x.shape):
            raise RuntimeError(f"Expected {n + 1}D or {n + 2}D (batch mode) tensor with possibly "
                               "0 batch size and other non-zero dimensions for input, but got: "
                               f"{list(x.shape)}")
        return _pad_by_index(x, pad, mode)
    value = 0.0 if value is None else value
    first = pick = None  # (the op's first record, and where x is among its inputs)
    cut = False  # (whether x is still the input or a slice of it: a new tensor is returned)
    for i in range(len(pad) // 2):
        d = x.ndim - 1 - i
        left, right = int(pad[2 * i]), int(pad[2 * i + 1])
        n = x.shape[d]
        if n + left + right < 0:
            raise RuntimeError(f"The input size {n}, plus negative padding {left} and {right} "
                               f"resulted in a negative output size, which is invalid. Check "
                               f"dimension {d} of your input.")
        sl = [slice(None)] * x.ndim
        sl[d] = slice(max(-left, 0), n - max(-right, 0))
        if left < 0 or right < 0:
            x = x[tuple(sl)]
            first, pick, cut = (x, (0,), True) if first is None else (first, pick, cut)
        parts = []
        for amount in (left, right):
            if amount > 0:
                shape = list(x.shape)
                shape[d] = amount
                parts.append(_const(np.full(shape, value, dtype=x.dtype), x))
            else:
                parts.append(None)
        pieces = [p for p in (parts[0], x, parts[1]) if p is not None]
        if len(pieces) > 1:
            x = O.cat(pieces, d)
            first, pick = (x, (int(left > 0),)) if first is None else (first, pick)
            cut = False
    if first is None or cut:  # (no padding, or a crop: a copy, not a view of the input)
        x = _clone(x)
        first, pick = (x, (0,)) if first is None else (first, pick)
    # one node in PyTorch (``ConstantPadNdBackward0``) whose next function is the input's
    return name_node(x, "ConstantPadNdBackward0", first, pick)
