"""``tapegrad.nn.functional``: activations, losses and layers as functions, PyTorch's names.

Everything here is a composite of tapegrad ops (no derivative rules of its own), so gradients
of any order come from the ops. Stable forms are used where PyTorch uses them (log-sum-exp,
log-sigmoid, clamped logs in ``binary_cross_entropy``, whose CPU form is an op of
``ops/bce.py`` with PyTorch's derivatives). ``gelu`` uses ``erf``, the op of
``ops/extra.py`` (its backward is written in tapegrad ops, so it is twice differentiable too).

Example:
    >>> import tapegrad as tg
    >>> import tapegrad.nn.functional as F
    >>> logits = tg.tensor([[2.0, 0.0, -1.0]], requires_grad=True)
    >>> loss = F.cross_entropy(logits, tg.tensor([0]))
    >>> round(loss.item(), 4)
    0.1698
"""

import functools
import math
import warnings

import numpy as np

from .. import creation as _creation
from .. import ops as O
from ..ops import activations as _activations
from ..ops import bce as _bce
from ..ops import layer_norm as _layer_norm
from ..ops import linear as _linear
from ..ops import nll as _nll
from ..ops.backward_ops import link as _node
from ..ops.broadcast_shapes import broadcast_shapes
from ..ops.complex_refusals import refuse_pair
from ..ops.node_names import name_node as _name_node
from ..ops.product_dtypes import bias_dtype_error
from ..ops.shapes import torch_dtype_name
from ..device import one_device
from ..tensor import Tensor, _make
from . import attention as _attention
from . import convolution as _convolution
from . import distances as _distances
from . import interpolate as _interpolate
from . import spatial as _spatial
from . import grid_sample as _grid_sample
from . import embedding_bag as _embedding_bag
from . import normalization as _normalization
from . import more_activations as _more
from . import more_losses as _losses
from . import pool_extras as _pool_extras
from .regression_losses import huber_loss, l1_loss, mse_loss, size_text as _size
from .regression_losses import size_warning as _size_warning
from .regression_losses import smooth_l1_loss
from .more_activations import logsigmoid
from .more_activations import softmax_dim as _softmax_dim
from .more_losses import _reduce, check_reduction as _check_reduction
from .more_losses import legacy_reduction as _legacy_reduction, nll_weight_check
from .more_losses import nll_weight_shape
from .more_losses import reduced_node
from .inplace_option import in_place_capable
from .padding import pad
from .parameter import Parameter

__all__ = [
    "linear", "relu", "relu6", "hardtanh", "leaky_relu", "elu", "gelu", "silu", "softplus", "sigmoid",
    "tanh", "softmax", "log_softmax", "logsumexp", "dropout", "one_hot",
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss", "cross_entropy",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "layer_norm",
    "normalize", "pad", "embedding", "erf",
] + _more.__all__ + _distances.__all__ + _losses.__all__ + _convolution.__all__ + \
    _normalization.__all__ + _attention.__all__ + _interpolate.__all__ + \
    _spatial.__all__ + _grid_sample.__all__ + _embedding_bag.__all__ + _pool_extras.__all__ + \
    ["bilinear"]


# ---- helpers -----------------------------------------------------------------------------

def _t(x):
    return x if isinstance(x, Tensor) else O.record.as_tensor(x)


def _np(x):
    """The values as a NumPy array. Index-like values of a CUDA tensor (targets, indices,
    class weights) are read on the host, as indexing reads its index: one synchronising copy."""
    if isinstance(x, Tensor):
        return x._data.host() if x.is_cuda else np.asarray(x._data)
    return np.asarray(x)


def _const(arr, like=None):
    """A constant tensor holding ``arr``, on ``like``'s device when given."""
    t = _make(np.asarray(arr))
    return t.to(like.device) if like is not None and like.is_cuda else t


# ---- erf: the op of ops/extra.py (one definition), re-exported here --------------------

erf = O.erf


# ---- layers ------------------------------------------------------------------------------

_PLAIN = (Tensor, Parameter)  # (not vmap's batched tensors: their values are not to be read)


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``: weight is (out_features, in_features)."""
    if type(weight) in _PLAIN and type(bias) in _PLAIN:  # one op, as PyTorch's addmm
        out = _linear.linear(input, weight, bias)
        if out is not None:
            return out
    x = _t(input)
    if x.ndim == 0 or weight.ndim == 0:
        raise RuntimeError("both arguments to linear need to be at least 1D, but they are "
                           f"{x.ndim}D and {weight.ndim}D")
    if isinstance(bias, Tensor) and (weight.ndim == 2 or x.ndim == 2) and \
            (err := bias_dtype_error(bias.dtype, weight.dtype)) is not None:
        raise err  # (PyTorch's addmm checks the bias first)
    # (the method: under vmap, a batched weight, an ensemble's, dispatches to its rule)
    out = O.matmul(x, weight.t() if weight.ndim >= 2 else weight)
    return out if bias is None else out + bias


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` picked by the integer tensor ``input``; ``padding_idx`` rows get no
    gradient. ``max_norm``: first the looked-up rows whose ``norm_type``-norm exceeds it are
    rescaled in ``weight`` itself (in place, without gradient: PyTorch's ``embedding_renorm_``);
    ``scale_grad_by_freq``: each row's gradient is divided by how often ``input`` holds its
    index. ``sparse`` (sparse gradients) is not supported."""
    if sparse:
        raise NotImplementedError(_embedding_bag.SPARSE_MESSAGE)
    one_device(weight, input)  # (indices are read on the host from either device)
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    idx = _np(input)
    if idx.dtype not in (np.int64, np.int32):  # (PyTorch's embedding refuses the other ints)
        raise _embedding_bag.indices_dtype_error(idx.dtype, "embedding")
    n = weight.shape[0]
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx %= n
    if idx.size and (idx.min() < 0 or idx.max() >= n):  # (no wrap-around of -1, as PyTorch)
        raise IndexError("index out of range in self")
    idx = idx.astype(np.int64)
    if max_norm is not None:
        _embedding_bag.embedding_renorm_(weight, idx, max_norm, norm_type)
    out = rows = weight[idx]
    if padding_idx is not None:
        pad_mask = (idx == padding_idx)
        if pad_mask.any():
            keep = _const(~pad_mask[..., None], out)
            out = O.where(keep, out, out.detach())
    if scale_grad_by_freq:
        out = _embedding_bag.freq_scaled(out, idx)
    return _name_node(out, "EmbeddingBackward0", rows) if out.requires_grad else out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last ``len(normalized_shape)`` dims (biased variance), then scale
    and shift."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    x = _t(input)
    if k == 0 or tuple(x.shape[x.ndim - k:]) != normalized_shape or x.ndim < k:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input "
                           f"with shape [*, {', '.join(str(s) for s in normalized_shape)}], but "
                           f"got input of size{list(x.shape)}")
    if x.numel() and _activations.fusable_array(x) and all(
            t is None or type(t) in _PLAIN and type(t._data) is np.ndarray and t.dtype == x.dtype
            and tuple(t.shape) == normalized_shape for t in (weight, bias)):
        return _layer_norm.layer_norm(x, k, weight, bias, eps)  # one op, as PyTorch's
    dims = tuple(range(x.ndim - k, x.ndim))
    mu = O.mean(x, dims, keepdim=True)
    d = x - mu
    var = O.mean(d * d, dims, keepdim=True)
    y = d * (var + eps) ** -0.5
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """``input / max(||input||_p over dim, eps)``."""
    x = _t(input)
    n = O.norm(x, p, dim, keepdim=True)
    return x / O.clamp(n, min=eps)


def bilinear(input1, input2, weight, bias=None):
    """``y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o]``."""
    x1, x2, w = _t(input1), _t(input2), _t(weight)
    if x1.ndim != x2.ndim:  # (PyTorch's checks, in its order and words)
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {x1.ndim} and "
                           f"{x2.ndim}")
    for i, (a, b) in enumerate(zip(x1.shape[:-1], x2.shape[:-1])):
        if a != b:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {i}: "
                               f"got {a} and {b}")
    for name, got, want in (("input1", x1.shape[-1], w.shape[1]),
                            ("input2", x2.shape[-1], w.shape[2]),
                            ("bias", None if bias is None else _t(bias).shape[0], w.shape[0])):
        if got is not None and got != want:
            raise RuntimeError(f"bilinear(): {name} size does not match weight size: got {got} "
                               f"but expected {want}")
    y = O.einsum("...i,oij,...j->...o", x1, weight, x2)
    return y if bias is None else y + bias


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)`` (training)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = _t(input)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    if x.numel():  # (PyTorch draws no mask for an empty input: nothing to refuse)
        _activations.real_input(x, "dropout")
    keep = _creation.draws().random(x.shape) < (1.0 - p)
    return x * _const((keep * (1.0 / (1.0 - p))).astype(x.dtype), x)


def one_hot(tensor, num_classes=-1):
    """(..., num_classes) int64 tensor with a 1 at each class index."""
    idx = _np(tensor)
    if idx.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if idx.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(idx.max()) + 1
    if idx.size and idx.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if idx.size and idx.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = np.zeros(idx.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, idx[..., None].astype(np.int64), 1, axis=-1)
    return _const(out, tensor if isinstance(tensor, Tensor) else None)


# ---- activations -------------------------------------------------------------------------

def relu(input, inplace=False):
    return O.relu(_t(input))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """``x`` clamped to ``[min_val, max_val]``; the gradient passes strictly inside (0 at the
    bounds and at NaN, as PyTorch's)."""
    x = _t(input)
    if _activations.fusable(x, "hardtanh"):  # one record (ops/activations.py)
        return _activations.hardtanh(x, min_val, max_val)
    inside = O.logical_and(x > min_val, x < max_val)  # (CUDA has no bitwise "&")
    return O.where(inside, x, O.clamp(x.detach(), min_val, max_val))


def relu6(input, inplace=False):
    """``hardtanh(x, 0, 6)``."""
    return hardtanh(input, 0.0, 6.0)


def sigmoid(input):
    return O.sigmoid(_t(input))


def tanh(input):
    return O.tanh(_t(input))


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``x`` where ``x > 0``, ``negative_slope * x`` elsewhere."""
    x = _t(input)
    if _activations.fusable(x, "leaky_relu"):  # one record (ops/activations.py)
        return _activations.leaky_relu(x, negative_slope)
    return O.where(x > 0, x, x * negative_slope)


def elu(input, alpha=1.0, inplace=False):
    """``x`` where ``x > 0``, ``alpha * (exp(x) - 1)`` elsewhere."""
    x = _t(input)  # NaN takes the identity branch (gradient 1, as PyTorch's)
    if _activations.fusable(x, "elu"):  # one record (ops/activations.py)
        return _activations.elu(x, alpha)
    return O.where(x <= 0, O.expm1(O.clamp(x, max=0.0)) * alpha, x)


def gelu(input, approximate="none"):
    """``x * Phi(x)``: exact with erf (``'none'``) or the tanh approximation (``'tanh'``)."""
    x = _t(input)
    if _activations.fusable(x, "gelu") and approximate in ("none", "tanh"):  # one record
        return _activations.gelu(x, approximate)
    if approximate == "none":
        return x * 0.5 * (1.0 + erf(x * (1.0 / math.sqrt(2.0))))
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * math.sqrt(2.0 / math.pi)
        return x * 0.5 * (1.0 + O.tanh(inner))
    raise RuntimeError("approximate argument must be either none or tanh.")


def silu(input, inplace=False):
    """``x * sigmoid(x)``."""
    x = _t(input)
    if _activations.fusable(x, "silu"):  # one record (ops/activations.py)
        return _activations.silu(x)
    return x * O.sigmoid(x)


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta x)) / beta``, and ``x`` itself where ``beta x > threshold``."""
    x = _t(input)
    if _activations.fusable(x, "softplus"):  # one record (ops/activations.py)
        return _activations.softplus(x, beta, threshold)
    bx = x * beta if beta != 1 else x
    # where, not clamp: a nan input keeps its nan gradient, as PyTorch's
    soft = O.log1p(O.exp(O.where(bx > threshold, float(threshold), bx)))
    if beta != 1:
        soft = soft / beta
    return O.where(bx > threshold, x, soft)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    x = _t(input)
    if dim is None:
        dim = _softmax_dim("softmax", x.ndim)
    return O.softmax(x, dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    x = _t(input)
    if dim is None:
        dim = _softmax_dim("log_softmax", x.ndim)
    return O.log_softmax(x, dim, dtype=dtype)


def logsumexp(input, dim, keepdim=False):
    return O.logsumexp(_t(input), dim, keepdim)


# ---- classification losses ---------------------------------------------------------------

def _long_or_byte(t, nd=2):
    """PyTorch's kernels take no other target dtype (they check the ranks first), and those
    of ``nd``-D inputs over 2-D no Byte either."""
    if t.dtype not in (np.int64, np.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{torch_dtype_name(t.dtype)}")
    if nd > 2 and t.dtype == np.uint8:
        raise RuntimeError("expected scalar type Long but found Byte")


def _class_targets(x, target, fname):
    """Integer targets checked against input (N, C, d1...) or (C,); returns int64 array."""
    t = _np(target)
    if x.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {x.ndim})")
    if x.ndim == 1:
        if t.ndim == 1:  # one class index for the one unbatched example
            if t.shape[0] != 1:
                raise ValueError("For 1D input, 1D target must have size 1, but got target "
                                 f"size: {t.shape[0]}")
            t = t.reshape(())
        elif t.ndim != 0:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    else:
        if t.ndim >= 1 and t.shape[0] != x.shape[0] or t.ndim == 0:
            tb = t.shape[0] if t.ndim else 0
            raise ValueError(f"Expected input batch_size ({x.shape[0]}) to match target "
                             f"batch_size ({tb}).")
        # (PyTorch's checks of its 2-D and 4-D kernels come first, in their words)
        if x.ndim == 2 and t.ndim != 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if x.ndim == 4 and t.ndim != 3:
            raise RuntimeError("only batches of spatial targets supported (3D tensors) but got "
                               f"targets of dimension: {t.ndim}")
        if x.ndim == 4:  # (its 4-D kernel checks the dtype before the sizes)
            _long_or_byte(t)
        if x.ndim == 4 and tuple(t.shape[1:]) != tuple(x.shape[2:]):
            raise RuntimeError(f"size mismatch (got input: {list(x.shape)} , target: "
                               f"{list(t.shape)}")
        if tuple(t.shape[1:]) != tuple(x.shape[2:]):
            raise RuntimeError(f"Expected target size {list((x.shape[0],) + x.shape[2:])}, got "
                               f"{list(t.shape)}")
    _long_or_byte(t, x.ndim)
    return t.astype(np.int64)


def _class_last(x):
    """Move the class dim (1, or 0 for 1-D input) last and flatten: (M, C)."""
    if x.ndim == 1:
        return O.reshape(x, (1, x.shape[0]))
    if x.ndim > 2:
        x = O.permute(x, (0,) + tuple(range(2, x.ndim)) + (1,))
    return O.reshape(x, (-1, x.shape[-1]))


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of log-probabilities ``input`` (N, C, ...) at class indices
    ``target``; 'mean' is the weighted mean (divides by the summed weights of used targets)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    x = _t(input)
    one_device(x, target, weight)  # (targets and weights are read on the host)
    t = _class_targets(x, target, "nll_loss")
    nll_weight_check(weight, x.ndim)
    C = x.shape[0] if x.ndim == 1 else x.shape[1]
    nll_weight_shape(weight, C, x.ndim)
    flat_t = t.reshape(-1)
    if x.ndim == 2 and type(x._data) is np.ndarray and x.dtype in _activations.FLOAT_DTYPES:  # one op
        return _nll.nll_2d(x, flat_t, ignore_index, None if weight is None else _np(weight),
                           reduction)
    used = flat_t != ignore_index
    bad = used & ((flat_t < 0) | (flat_t >= C))
    if bad.any():
        raise IndexError(f"Target {int(flat_t[bad][0])} is out of bounds.")
    safe_t = np.where(used, flat_t, 0)
    xm = _class_last(x)
    picked = xm[np.arange(xm.shape[0]), safe_t]
    w = used.astype(x.dtype)
    if weight is not None:
        w = w * _np(weight).astype(x.dtype)[safe_t]
    # ignored targets: zero through ``where`` (no gradient reaches them, even 0 * inf)
    loss = O.where(_const(used, x), -picked * _const(w, x), 0.0)
    # one node in PyTorch (``nll_loss_backward(grad, self, ...)``): linked to x
    name = "NllLoss2DBackward0" if x.ndim == 4 else "NllLossBackward0" if x.ndim <= 2 else None
    if reduction == "none":
        return _node(O.reshape(loss, t.shape), name)
    total = O.sum(loss)
    if reduction == "sum":
        return _node(total, name)
    return _node(_safe_mean(total, w.sum(), x.dtype), name)


def _safe_mean(total, denom, dtype):
    """``total / denom``; nothing left to average (denom 0) gives nan with a zero gradient,
    as PyTorch's weighted mean does."""
    if denom == 0:
        return total * 0.0 + float("nan")
    return total / _const(np.asarray(denom, dtype=dtype), total)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy of logits ``input`` (N, C, d1, ...) or (C,).

    ``target`` holds class indices (integer, shape (N, d1, ...)) or class probabilities (float,
    same shape as ``input``). ``weight`` rescales classes, ``ignore_index`` drops targets,
    ``label_smoothing`` mixes in the uniform distribution, with PyTorch's formulas.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing:g}")
    if not label_smoothing > 0.0:  # (PyTorch smooths for a positive amount only: a negative
        label_smoothing = 0.0  # one, or nan, none)
    x = _t(input)
    if x.ndim == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    one_device(x, target, weight)  # (targets and weights are read on the host)
    cdim = 0 if x.ndim == 1 else 1
    C = x.shape[cdim]
    tv0 = target if isinstance(target, Tensor) else np.asarray(target)
    if tuple(tv0.shape) == tuple(x.shape) and tv0.dtype.kind in "iub":  # (probabilities' shape)
        raise RuntimeError("Expected floating point type for target with class probabilities, "
                           f"got {torch_dtype_name(tv0.dtype)}")
    if x.ndim > 2 and tv0.dtype.kind in "iub" and tuple(tv0.shape) == (x.shape[0],) + tuple(
            x.shape[2:]):  # (N, C, d1...): rows of C classes, as the 2-D case reads them
        _long_or_byte(tv0, x.ndim)
        nll_weight_check(weight, x.ndim)
        nll_weight_shape(weight, C, x.ndim)
        rows = O.reshape(O.permute(x, (0,) + tuple(range(2, x.ndim)) + (1,)), (-1, C))
        if weight is None and label_smoothing == 0.0 and tv0.dtype.kind in "iu" and \
                _activations.fusable_array(rows):  # (the 2-D path's two ops, checked above)
            return _nll.nll_2d(O.log_softmax(rows, 1), _np(target).reshape(-1).astype(
                np.int64), ignore_index, None, reduction, tuple(tv0.shape))
        loss = cross_entropy(rows, O.reshape(_t(target), (-1,)), weight,
                             ignore_index=ignore_index, reduction=reduction,
                             label_smoothing=label_smoothing)
        return O.reshape(loss, tuple(tv0.shape)) if reduction == "none" else loss
    logp = O.log_softmax(x, cdim)
    wshape = [1] * x.ndim
    wshape[cdim] = C
    tv = target if isinstance(target, Tensor) else np.asarray(target)  # no host copy yet
    if tv.dtype.kind == "f" and tuple(tv.shape) == tuple(x.shape):  # class probabilities
        if ignore_index >= 0:  # (PyTorch lets a negative one pass: no class has it)
            raise RuntimeError("ignore_index is not supported for floating point target")
        y = _t(target)
        nll_weight_shape(weight, C, x.ndim, "cross_entropy: ")
        if label_smoothing > 0:
            y = y * (1.0 - label_smoothing) + label_smoothing / C
        prod = logp * y
        if weight is not None:
            prod = prod * O.reshape(_t(weight), tuple(wshape))
        loss = -O.sum(prod, cdim)
        if reduction == "none":
            return loss
        if reduction == "sum":
            return O.sum(loss)
        return O.sum(loss) / (x.numel() / C if x.ndim > 1 else 1.0)
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0.0:
        return nll
    t = _np(target).astype(np.int64)
    ignore = t == ignore_index
    if weight is not None:
        smooth = -O.sum(logp * O.reshape(_t(weight), tuple(wshape)), cdim)
    else:
        smooth = -O.sum(logp, cdim)
    smooth = O.where(_const(~ignore, smooth), smooth, 0.0)
    if reduction == "mean":
        if weight is not None:
            wv = _np(weight)
            denom = wv[t[~ignore].reshape(-1)].sum()
        else:
            denom = (~ignore).sum()
        ret = _safe_mean(O.sum(smooth), denom, x.dtype)
    elif reduction == "sum":
        ret = O.sum(smooth)
    else:
        ret = smooth
    return nll * (1.0 - label_smoothing) + ret * (label_smoothing / C)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """``-w (t log x + (1 - t) log(1 - x))`` with the logs clamped at -100, as PyTorch."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    x, y = _t(input), _t(target)
    if x.dtype.kind not in "fc" or y.dtype.kind not in "fc":  # (float32 with float64 is fine)
        raise RuntimeError(f"Found dtype {torch_dtype_name(y.dtype)} but expected "
                           f"{torch_dtype_name(x.dtype)}")
    _size_warning(x, y, deprecated=True)
    xv = _np(x)
    if xv.size and (np.any(xv < 0) or np.any(xv > 1) or np.any(np.isnan(xv))):
        raise RuntimeError("all elements of input should be between 0 and 1")
    loss = _bce.bce(x, y)  # one op, PyTorch's derivatives (finite at 0 and 1)
    if loss is None:  # (CUDA, vmap, tg.compile's tracer: the composition)
        with np.errstate(divide="ignore"):
            lx = O.clamp(O.log(x), min=-100.0)
            l1x = O.clamp(O.log1p(-x), min=-100.0)
        loss = (y - 1.0) * l1x - y * lx
    elif weight is None:  # one op per element: PyTorch's node's name
        return reduced_node(loss, reduction, "BinaryCrossEntropyBackward0")
    if weight is not None:
        broadcast_shapes(y.size(), _t(weight).size())  # (PyTorch expands it to the target's)
        loss = _input_shaped(loss * weight, x)
    return _reduce(loss, reduction)


def _input_shaped(loss, x):
    """PyTorch's loss kernels write into an output of the input's shape: a weight that
    broadcasts the loss to more elements is refused."""
    if tuple(loss.shape) != tuple(x.shape):
        raise RuntimeError(f"output with shape {list(x.shape)} doesn't match the broadcast "
                           f"shape {list(loss.shape)}")
    return loss


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """``binary_cross_entropy(sigmoid(x), t)`` in a stable form:
    ``(1 - t) x - (1 + (pos_weight - 1) t) log_sigmoid(x)``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    x, y = _t(input), _t(target)
    if tuple(x.shape) != tuple(y.shape):
        raise ValueError(f"Target size ({_size(y.shape)}) must be the same as input size "
                         f"({_size(x.shape)})")
    if y.dtype.kind == "b":  # (PyTorch's words: its formula subtracts the target)
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if y.dtype.kind in "iu" and x.dtype.kind in "fc":
        raise RuntimeError(f"result type {torch_dtype_name(x.dtype)} can't be cast to the desired "
                           f"output type {torch_dtype_name(y.dtype)}")
    if pos_weight is None and weight is None:
        loss = _activations.bce_with_logits(x, y)  # one record (ops/activations.py)
        if loss is not None:
            return reduced_node(loss, reduction, "BinaryCrossEntropyWithLogitsBackward0")
    ls = logsigmoid(x)
    if pos_weight is not None:
        ls = ls * ((pos_weight - 1.0) * y + 1.0)
    loss = _input_shaped((1.0 - y) * x - ls, x)
    if weight is not None:
        loss = _input_shaped(loss * weight, x)
    return _reduce(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL divergence with log-probabilities ``input``: ``target (log target - input)``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("mean", "sum", "none", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", UserWarning, stacklevel=2)
    x, y = _t(input), _t(target)
    if x.dtype.kind in "iub" or y.dtype.kind in "iub":
        raise RuntimeError("kl_div: Integral inputs not supported.")
    refuse_pair("kl_div", x, y)
    if log_target:
        loss = O.exp(y) * (y - x)
    else:  # (PyTorch's xlogy: a target's derivative at 0 is nan, 0/0)
        loss = O.xlogy(y, y) - y * x
    if reduction == "batchmean":
        s = O.sum(loss)
        return s / x.shape[0] if x.ndim else s
    return _reduce(loss, reduction)


# more activations, distances, losses, convolutions, normalisations and resizing
# (nn/more_activations.py, distances.py, more_losses.py, convolution.py, normalization.py,
# interpolate.py) under torch's names (threshold is also softplus's argument name, hence no
# import statement)
globals().update({name: getattr(m, name) for m in (_more, _distances, _losses, _convolution,
                                                  _normalization, _attention, _interpolate,
                                                  _spatial, _grid_sample, _embedding_bag,
                                                  _pool_extras)
                  for name in m.__all__})


for _name in __all__:
    _f = globals()[_name]
    if "inplace" in getattr(getattr(_f, "__code__", None), "co_varnames", ()):
        globals()[_name] = in_place_capable(_f)
# torch's in-place names (``F.relu_(x)``)
for _name in ("relu", "elu", "celu", "selu", "leaky_relu", "hardtanh", "threshold", "rrelu"):
    globals()[_name + "_"] = functools.partial(globals()[_name], inplace=True)
    __all__.append(_name + "_")
