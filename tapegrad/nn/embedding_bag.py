"""``F.embedding_bag`` and ``nn.EmbeddingBag``: the embeddings of each bag of indices summed,
averaged or maxed, without the (bags, indices, dim) intermediate a user would build; and the two
options both lookups share, ``max_norm`` (``embedding_renorm_``) and ``scale_grad_by_freq``.

The rows are looked up once (``embedding``), then reduced into their bags by ``index_add``
(sum, mean) or ``scatter_reduce`` (max): derivatives of every order come from those ops.
"""

import numpy as np

from .. import creation
from .. import ops as O
from ..grad_mode import no_grad
from ..ops.record import as_tensor
from ..ops.cuda_linalg import on_host
from ..ops.node_names import name_node
from ..ops.shapes import torch_dtype_name
from ..torch_names.reductions import scatter_reduce
from . import init
from .linear import _empty
from .module import Module
from .parameter import Parameter

__all__ = ["embedding_bag"]


def indices_dtype_error(dtype, fname):
    """PyTorch's error for indices that are not integers, naming the tensor type as it does."""
    kind = "CPUBoolType" if dtype == np.bool_ else f"torch.{torch_dtype_name(dtype)}Tensor"
    return RuntimeError("Expected tensor for argument #1 'indices' to have one of the following "
                        f"scalar types: Long, Int; but got {kind} instead (while checking "
                        f"arguments for {fname})")


SPARSE_MESSAGE = ("sparse=True (sparse gradients of the embedding weight) is not supported by "
                  "tapegrad: use sparse=False, whose gradient is dense")


def embedding_renorm_(weight, idx, max_norm, norm_type):
    """PyTorch's ``embedding_renorm_``: in place and without gradient, every row of ``weight``
    that the indices ``idx`` look up whose ``norm_type``-norm exceeds ``max_norm`` is scaled by
    ``max_norm / (norm + 1e-7)``. Returns ``weight``."""
    rows = np.unique(np.asarray(idx, np.int64))
    if not rows.size:
        return weight
    with no_grad():
        picked = weight[rows]
        norms = O.norm(picked, norm_type, dim=1)
        norms = np.asarray(norms._data.host() if norms.is_cuda else norms._data, np.float64)
        big = norms > max_norm
        if big.any():
            scale = (max_norm / (norms[big] + 1e-7)).astype(picked.dtype)[:, None]
            weight[rows[big]] = picked[np.flatnonzero(big)] * as_tensor(scale).to(weight.device)
    return weight


def freq_scaled(rows, idx):
    """``rows`` (the looked-up rows, ``idx.shape + (dim,)``) unchanged, their gradient divided
    by how often each one's index occurs in ``idx`` (PyTorch's ``scale_grad_by_freq``)."""
    _, where, counts = np.unique(idx, return_inverse=True, return_counts=True)
    s = (1.0 / counts)[where.reshape(-1)].reshape(np.shape(idx) + (1,)).astype(rows.dtype)
    fixed = rows.detach()
    return fixed + (rows - fixed) * as_tensor(s).to(rows.device)


def _np(t):
    return np.asarray(t.detach().cpu().numpy() if hasattr(t, "detach") else t)


def _bags(idx, offsets, include_last_offset):
    """``(flat indices, bag of each, number of bags)`` for 2-D ``idx`` (a bag per row) or
    1-D ``idx`` cut at ``offsets``."""
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {type(offsets).__name__}")
        b, n = idx.shape
        return idx.reshape(-1), np.repeat(np.arange(b), n), b
    if idx.ndim != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{idx.ndim}")
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    off = np.asarray(offsets.detach().cpu().numpy() if hasattr(offsets, "detach") else offsets,
                     np.int64)
    if off.ndim != 1:
        raise ValueError("offsets has to be a 1D Tensor")
    if len(off) and off[0] != 0:
        raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the "
                           f"mini-batch has to start from position 0. However, got {off[0]}")
    if len(off) and off[-1] > len(idx):
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {len(idx)} "
                           f"but got offsets[-1] of {int(off[-1])}")
    # With include_last_offset PyTorch's last bag still runs to the end of the indices,
    # whatever the last offset says; the last offset only ends the list of bags. (So in
    # float64 and in max mode; its float32 sum/mean kernel stops at the last offset in the
    # forward but not in the backward, which no single reading can follow.)
    starts = off[:-1] if include_last_offset else off
    ends = np.r_[starts[1:], len(idx)] if len(starts) else starts
    bag = np.repeat(np.arange(len(starts)), np.maximum(ends - starts, 0))
    return idx, bag, len(starts)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode="mean", sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """``(bags, dim)``: per bag, the ``mode`` ('sum', 'mean', 'max') of the rows of ``weight``
    its indices pick (weighted by ``per_sample_weights`` with 'sum'); an empty bag gives
    zeros; ``padding_idx`` entries are left out of their bag."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if sparse:
        raise NotImplementedError(SPARSE_MESSAGE)
    if max_norm is not None:
        embedding_renorm_(weight, _np(input), max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}'). Please open a feature request on GitHub.")
    w = as_tensor(weight)
    idx = _np(input)
    if idx.dtype.kind not in "iu":
        raise indices_dtype_error(idx.dtype, "embedding_bag")
    flat, bag, nbags = _bags(idx.astype(np.int64), offsets, include_last_offset)
    keep = np.ones(len(flat), bool)
    if padding_idx is not None:
        keep = flat != (padding_idx % w.shape[0])
    flat, bag = flat[keep], bag[keep]
    rows = picked = w[flat]  # (picked rows, dim)
    if scale_grad_by_freq:
        rows = freq_scaled(rows, flat)
    if per_sample_weights is not None:
        psw = as_tensor(per_sample_weights).reshape(-1)[creation.tensor(np.flatnonzero(keep))]
    base = creation.zeros((nbags, w.shape[1]), dtype=w.dtype, device=w.device)
    if not len(flat):
        return base
    if per_sample_weights is not None:
        rows = rows * O.unsqueeze(psw, 1)
    if mode == "max":
        where = creation.tensor(np.broadcast_to(bag[:, None], rows.shape).copy(), device=w.device)
        out = on_host(scatter_reduce)(base, 0, where, rows, "amax", include_self=False)
    else:
        out = base.index_add(0, creation.tensor(bag), rows)
    if mode == "mean":
        count = np.maximum(np.bincount(bag, minlength=nbags), 1).astype(w.dtype)
        out = out / creation.tensor(count[:, None], device=w.device)
    # one node in PyTorch, whose next functions are the weight's and the sample weights' ('max'
    # keeps scatter_reduce's linked node)
    if mode != "max" and out.requires_grad and (per_sample_weights is None
                                                 or not psw.requires_grad):
        name_node(out, "EmbeddingBagBackward0", picked, (0, None))
    return out


class EmbeddingBag(Module):
    """``embedding_bag`` over a table of ``num_embeddings`` vectors (N(0, 1) init);
    ``sparse=True`` is not supported and raises here, when the layer is made."""

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, mode="mean", sparse=False, _weight=None,
                 include_last_offset=False, padding_idx=None, device=None, dtype=None):
        super().__init__()
        if sparse:
            raise NotImplementedError("EmbeddingBag: " + SPARSE_MESSAGE)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.mode, self.sparse = scale_grad_by_freq, mode, sparse
        self.include_last_offset = include_last_offset
        if padding_idx is not None and padding_idx < 0:
            padding_idx += num_embeddings
        self.padding_idx = padding_idx
        self.weight = Parameter(_empty((num_embeddings, embedding_dim), dtype, device)
                                if _weight is None else _weight)
        if _weight is None:
            self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0.0

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, mode="mean", sparse=False,
                        include_last_offset=False, padding_idx=None):
        assert embeddings.ndim == 2, "Embeddings parameter is expected to be 2-dimensional"
        rows, cols = embeddings.shape  # (the weight shares the storage of ``embeddings``)
        bag = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse, embeddings,
                  include_last_offset, padding_idx)
        bag.weight.requires_grad = not freeze
        return bag

    def forward(self, input, offsets=None, per_sample_weights=None):
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                             self.scale_grad_by_freq, self.mode, self.sparse,
                             per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s
