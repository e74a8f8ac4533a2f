"""Distances and similarities between tensors, PyTorch's: ``cosine_similarity``,
``pairwise_distance``, ``pdist`` (re-exported by ``nn.functional``)."""

import math

import numpy as np

from .. import creation as _creation
from .. import ops as O
from .. import tensor as _tensor_mod
from ..grad_mode import no_grad as _no_grad
from ..ops.one_op import untracked as _untracked
from ..ops.record import as_tensor as _t
from ..ops.shapes import torch_dtype_name
from ..ops.broadcast_shapes import infer_size
from ..torch_names.products import max_abs_distance


def _floating_pair(x1, x2):
    a, b = _t(x1), _t(x2)
    dt = _creation.get_default_dtype()
    return (a if a.dtype.kind in "fc" else a.to(dt)), (b if b.dtype.kind in "fc" else b.to(dt))


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``sum(x1/|x1| * x2/|x2|, dim)``, each norm at least ``eps`` (PyTorch's formula: the
    clamp changes the value, not the norm's gradient)."""
    a, b = _floating_pair(x1, x2)
    common = np.result_type(a.dtype, b.dtype)
    if common.kind == "c":  # (sum(x1 * x2) / norms would be no cosine: PyTorch refuses)
        raise RuntimeError("expected common dtype to be floating point, yet common dtype is "
                           f"{torch_dtype_name(common)}")
    shape = infer_size(a.shape, b.shape)
    if tuple(a.shape) != shape:  # (an input of the shape already: no broadcast record)
        a = O.broadcast_to(a, shape)
    if tuple(b.shape) != shape:
        b = O.broadcast_to(b, shape)

    def clamped_norm(v):
        n = O.norm(v, 2, dim, keepdim=True)
        c = n.detach()
        return n + (O.clamp(c, min=eps) - c)  # max(n, eps) in value, n's gradient

    return O.sum((a / clamped_norm(a)) * (b / clamped_norm(b)), dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The ``p``-norm of ``x1 - x2 + eps`` along the last dim (of the broadcast shape)."""
    a, b = _floating_pair(x1, x2)
    return O.norm(a - b + eps, p, max(a.ndim, b.ndim) - 1, keepdim=keepdim)


def pdist(input, p=2.0):
    """The ``p``-norm distances between the rows of an (N, M) input, pairs i < j in row
    order: N (N - 1) / 2 values."""
    if _tensor_mod._inference_used and _untracked(input):  # (one op in PyTorch)
        with _no_grad():
            return pdist(input, p)
    x = _t(input)
    if x.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {x.ndim}D")
    i, j = np.triu_indices(x.shape[0], 1)
    if p == math.inf:  # (every coordinate tied for the maximum gets the gradient)
        return max_abs_distance(x[i] - x[j])
    return O.norm(x[i] - x[j], p, 1)


__all__ = ["cosine_similarity", "pairwise_distance", "pdist"]
