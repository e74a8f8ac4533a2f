"""Convolution and pooling (``F.conv1d/2d/3d``, ``F.max_pool1d/2d``, ``F.avg_pool1d/2d``,
``F.adaptive_avg_pool1d/2d``).

A convolution of CPU float tensors is one op (``ops/convolution.py``: im2col and BLAS). Other
convolutions (CUDA, complex, vmap's batched tensors) and pooling are compositions of ops: the
input is padded, its sliding windows are taken as a strided view (``Tensor.unfold`` on each
spatial dim, every ``dilation``-th element of a window), and one ``einsum`` contracts the windows
with the kernel (grouped: the channels split into groups first); pooling reduces each window
instead. So every derivative, at any order, is that of the ops: the view's gradient adds
overlapping windows back, the einsum's is two more contractions.
"""

import math

import numpy as np

from .. import creation
from .._bounded_cache import bounded_cache
from .. import ops as O
from ..ops import avg_pool as _avg_pool_op
from ..ops.activations import fusable
from ..ops.backward_ops import link
from ..ops.conv_transpose import conv_transpose as _conv_transpose_op
from ..ops.convolution import convolution as _convolution, max_positions, window_kernels
from ..ops.convolution import empty_windows, padding_windows
from ..ops.convolution import out_sizes as _out_sizes
from .. import tape
from ..ops.movement import _GATHER_INDEX, _record_linear, gather_index
from ..ops.node_names import name_node
from ..ops.record import _grad_on
from ..ops.record import as_tensor
from .pool_checks import adaptive_output_size, check_pool_args, check_pool_padding
from .pool_checks import check_dim_range, check_pool_rank
from .conv_checks import check_weight_rank
from ..tensor import Tensor, _make, _wrap

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
           "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d",
           "adaptive_max_pool2d", "max_pool3d", "avg_pool3d", "adaptive_avg_pool3d",
           "adaptive_max_pool3d"]

_LETTERS = "hwd"  # spatial dims in einsum equations (at most three)


def _tuple(v, nd, name):
    if isinstance(v, (int, np.integer)):
        return (int(v),) * nd
    v = tuple(int(a) for a in v)
    if len(v) == 1:
        return v * nd
    if len(v) != nd:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {nd} "
                           f"values to match the convolution dimensions, but got {name}={list(v)}")
    return v


def _batched(x, nd, name):
    """``x`` with a batch dim (an unbatched (C, *spatial) input gets one), and whether it had."""
    if x.ndim == nd + 1:
        return O.unsqueeze(x, 0), False
    if x.ndim != nd + 2:
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{name}, but got input of size: {list(x.shape)}")
    return x, True


def _pad_spatial(x, pads, value):
    """Pad the spatial dims of ``x`` (N, C, *spatial) by ``pads[i] = (before, after)``."""
    if not any(a or b for a, b in pads):
        return x
    flat = []
    for before, after in reversed(pads):  # F.pad lists the last dim first
        flat += [before, after]
    from .functional import pad

    return pad(x, flat, value=value)


def _windows(x, kernel, stride, dilation):
    """(N, C, *out, *kernel): the windows of the (already padded) spatial dims of ``x``."""
    nd = len(kernel)
    for i in range(nd):
        span = dilation[i] * (kernel[i] - 1) + 1
        x = x.unfold(2 + i, span, stride[i])
    if any(d > 1 for d in dilation):
        key = (slice(None),) * (2 + nd) + tuple(slice(None, None, d) for d in dilation)
        x = x[key]
    return x


def _out_size(n, k, s, p, d, ceil_mode=False):
    span = d * (k - 1) + 1
    if ceil_mode:
        out = -(-(n + 2 * p - span) // s) + 1
        if (out - 1) * s >= n + p:  # the last window must start inside the input or its padding
            out -= 1
        return out
    return (n + 2 * p - span) // s + 1


def _conv(nd, input, weight, bias, stride, padding, dilation, groups):
    name = f"conv{nd}d"
    x, batched = _batched(as_tensor(input), nd, name)
    w = weight
    check_weight_rank(nd, x, w, stride, padding, dilation)
    stride, dilation = _tuple(stride, nd, "stride"), _tuple(dilation, nd, "dilation")
    C, O_ = x.shape[1], w.shape[0]
    if not isinstance(padding, str) and min(_tuple(padding, nd, "padding")) < 0:
        raise RuntimeError("negative padding is not supported")
    if min(stride) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if min(dilation) <= 0:  # (PyTorch's conv1d is its conv2d: a height 1)
        raise RuntimeError(f"dilation should be greater than zero, but got "
                           f"{[1] * (nd == 1) + list(dilation)}")
    if isinstance(padding, str) and padding not in ("valid", "same"):
        raise RuntimeError(f"Invalid padding string: '{padding}'")
    if padding == "same" and any(s != 1 for s in stride):  # (before the shapes, as PyTorch)
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    if 1 <= groups and O_ < groups:  # (no output channel a group: PyTorch refuses the weight)
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at "
                           f"dimension 0, but got weight of size {list(w.shape)} instead")
    if O_ % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{list(w.shape)}] instead")
    if w.shape[1] * groups != C:  # (the input as PyTorch shows it: 'same' pads one side first)
        odd = [(padding == "same") * (d * (k - 1) % 2) for d, k in zip(dilation, w.shape[2:])]
        shown = list(x.shape[:2]) + [n + e for n, e in zip(x.shape[2:], odd)]
        raise RuntimeError(f"Given groups={groups}, weight of size {list(w.shape)}, expected "
                           f"input{shown} to have {w.shape[1] * groups} channels, but "
                           f"got {C} channels instead")
    _check_bias(bias, w, O_, "")
    kernel = tuple(w.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pads = [(0, 0)] * nd
        else:  # 'same'
            totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
            pads = [(t // 2, t - t // 2) for t in totals]
    else:
        pads = [(p, p) for p in _tuple(padding, nd, "padding")]
    padded = [n + a + b for n, (a, b) in zip(x.shape[2:], pads)]
    spans = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]  # (the dilated kernel)
    if any(n < k for n, k in zip(padded, spans)):
        raise RuntimeError(f"Calculated padded input size per channel: "
                           f"({' x '.join(str(n) for n in padded)}). Kernel size: "
                           f"({' x '.join(str(k) for k in spans)}). Kernel size can't be "
                           "greater than actual input size")
    if 0 in x.shape[2:] and x.shape[0] and C:  # (PyTorch's conv1d is its conv2d: a height 1)
        shape = list(x.shape) if nd != 1 else [x.shape[0], C, 1, x.shape[2]]
        raise RuntimeError("Only zero batch or zero channel inputs are supported, but got "
                           f"input shape: {shape}")
    if _one_op(x, w, bias):  # CPU float arrays: im2col and BLAS (ops/convolution.py)
        y = _convolution(x, w, bias, stride, pads, dilation, groups)
    else:
        y = _composed(x, w, kernel, pads, stride, dilation, groups)
        if bias is not None:
            y = y + O.reshape(bias, (1, O_) + (1,) * nd)
    return y if batched else O.squeeze(y, 0)


def _check_bias(bias, w, n, transposed):
    if bias is not None and tuple(bias.shape) != (n,):
        raise RuntimeError(f"Given {transposed}weight of size {list(w.shape)}, expected bias to "
                           f"be 1-dimensional with {n} elements, but got bias of size "
                           f"{list(bias.shape)} instead")


def _one_op(*ts):
    """Whether a convolution or pooling of these tensors (None: no bias) runs as the one CPU
    op: float32 or float64 NumPy arrays (what the compiled loops take), not vmap's batched
    tensors (those batch the composed ops)."""
    for t in ts:
        if t is None:
            continue
        if not isinstance(t, Tensor) or getattr(t, "_vmap_level", 0):
            return False
        d = t._data
        if type(d) is not np.ndarray or d.dtype not in _KERNEL_DTYPES:
            return False
    return True


_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _composed(x, w, kernel, pads, stride, dilation, groups):
    """The convolution as a composition of ops: the padded input's windows as a strided view,
    contracted with the kernel by one einsum (CUDA, complex and batched tensors)."""
    nd = len(kernel)
    C, O_ = x.shape[1], w.shape[0]
    xp = _pad_spatial(x, pads, 0.0)
    win = _windows(xp, kernel, stride, dilation)  # (N, C, *out, *kernel)
    sp, kp = _LETTERS[:nd], "ijk"[:nd]
    N, out = win.shape[0], tuple(win.shape[2:2 + nd])
    win = O.reshape(win, (N, groups, C // groups) + out + kernel)
    wg = O.reshape(w, (groups, O_ // groups, C // groups) + kernel)
    y = O.einsum(f"ngc{sp}{kp},goc{kp}->ngo{sp}", win, wg)
    return O.reshape(y, (N, O_) + out)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation, as PyTorch's) of (N, C, L) or (C, L) input."""
    return _conv(1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution of (N, C, H, W) or (C, H, W) input by weight (O, C/groups, kH, kW)."""
    return _conv(2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution of (N, C, D, H, W) or (C, D, H, W) input."""
    return _conv(3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(nd, input, weight, bias, stride, padding, output_padding, groups, dilation):
    """The transposed convolution (the gradient of ``conv`` with respect to its input) as a
    convolution: the input spread out by ``stride`` (zeros between its elements), padded by
    ``dilation * (k - 1) - padding`` (plus ``output_padding`` after), convolved with the
    kernel flipped and its channel dims swapped within each group."""
    name = f"conv_transpose{nd}d"
    x, batched = _batched(as_tensor(input), nd, name)
    w = as_tensor(weight)
    check_weight_rank(nd, x, w, stride, padding, dilation, output_padding)
    stride, dilation = _tuple(stride, nd, "stride"), _tuple(dilation, nd, "dilation")
    padding = _tuple(padding, nd, "padding")
    output_padding = _tuple(output_padding, nd, "output_padding")
    if groups < 1 or w.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{list(w.shape)}] instead")
    if x.shape[1] != w.shape[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {list(w.shape)}, expected input"
                           f"{list(x.shape)} to have {w.shape[0]} channels, but got "
                           f"{x.shape[1]} channels instead")
    _check_bias(bias, w, w.shape[1] * groups, "transposed=1, ")
    if min(padding) < 0:
        raise RuntimeError("negative padding is not supported")
    if min(stride) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilation) <= 0:
        names = ("depth", "height", "width")[3 - nd:] if nd > 1 else ("width",)
        raise RuntimeError("dilation should be greater than zero, but got " + ", ".join(
            f"dilation_{n}: {v}" for n, v in zip(names, dilation)))
    if any(o >= s and o >= d for o, s, d in zip(output_padding, stride, dilation)):
        names = ("depth", "height", "width")[3 - nd:] if nd > 1 else ("width",)
        parts = [f"output_padding_{n}: {o}" for n, o in zip(names, output_padding)] + \
            [f"stride_{n}: {v}" for n, v in zip(names, stride)] + \
            [f"dilation_{n}: {v}" for n, v in zip(names, dilation)]
        raise RuntimeError("output padding must be smaller than either stride or dilation, but "
                           "got " + " ".join(parts))
    spatial = x.shape[2:]
    size = [(n - 1) * s - 2 * p + dl * (k - 1) + o + 1 for n, s, p, dl, k, o in
            zip(spatial, stride, padding, dilation, w.shape[2:], output_padding)]
    if min(size) < 1:
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, spatial))}). "
                           f"Calculated output size per channel: ({' x '.join(map(str, size))})."
                           " Output size is too small")
    pads = [(p, p) for p in padding]
    if _one_op(x, w, bias) and w.dtype == x.dtype and tuple(spatial) == _out_sizes(
            size, w.shape[2:], stride, pads, dilation):  # CPU float arrays: one op, no zeros
        # (an output_padding at least the stride, which a dilation allows, leaves the
        # convolution this transposes ambiguous: the composition below handles it)
        y = _conv_transpose_op(x, w, bias, stride, pads, dilation, groups, size)
        return y if batched else O.squeeze(y, 0)
    for i, s in enumerate(stride):
        if s > 1:  # zeros between the elements along spatial dim i
            d = 2 + i
            n = x.shape[d]
            zeros = creation.zeros(x.shape, dtype=x.dtype, device=x.device)
            spread = O.stack([x] + [zeros] * (s - 1), d + 1)
            x = O.reshape(spread, x.shape[:d] + (n * s,) + x.shape[d + 1:])
            x = x[(slice(None),) * d + (slice(0, (n - 1) * s + 1),)]
    kernel = w.shape[2:]
    pads = [(dl * (k - 1) - p, dl * (k - 1) - p + o)
            for k, p, o, dl in zip(kernel, padding, output_padding, dilation)]
    flat = [a for before, after in reversed(pads) for a in (before, after)]
    from .functional import pad  # (functional imports this module)

    x = pad(x, flat)
    cin, cout = w.shape[0] // groups, w.shape[1]
    wt = O.reshape(w, (groups, cin, cout) + kernel)
    wt = O.reshape(O.transpose(wt, 1, 2), (groups * cout, cin) + kernel)
    wt = O.flip(wt, tuple(range(2, nd + 2)))
    out = _conv(nd, x, wt, bias, 1, 0, dilation, groups)
    return out if batched else O.squeeze(out, 0)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 1-D convolution of (N, C_in, L) by weight (C_in, C_out / groups, k)."""
    return _conv_transpose(1, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 2-D convolution of (N, C_in, H, W) by weight (C_in, C_out / groups, kH, kW)."""
    return _conv_transpose(2, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 3-D convolution of (N, C_in, D, H, W)."""
    return _conv_transpose(3, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


# ---- pooling ------------------------------------------------------------------------------------

def _pool_setup(nd, input, kernel_size, stride, padding, dilation, ceil_mode, name):
    check_pool_rank(as_tensor(input), name)
    x, batched = _batched(as_tensor(input), nd, name)
    kernel = _tuple(kernel_size, nd, "kernel_size")
    stride = kernel if stride is None or isinstance(stride, (list, tuple)) and not stride else \
        _tuple(stride, nd, "stride")
    padding, dilation = _tuple(padding, nd, "padding"), _tuple(dilation, nd, "dilation")
    check_pool_args(nd, kernel, stride, padding, dilation, name)
    check_pool_padding(nd, kernel, padding, dilation)
    outs = [_out_size(x.shape[2 + i], kernel[i], stride[i], padding[i], dilation[i], ceil_mode)
            for i in range(nd)]
    if name == "avg_pool3d" and any(x.shape[2 + i] < kernel[i] for i in range(3)):
        raise RuntimeError("input image (T: {} H: {} W: {}) smaller than kernel size (kT: {} "
                           "kH: {} kW: {})".format(*x.shape[2:], *kernel))
    if any(o <= 0 for o in outs):
        if name == "max_pool1d":
            raise RuntimeError(f"max_pool1d() Invalid computed output size: {outs[0]}")
        one = [1] if nd == 1 else []  # (PyTorch's 1-d average pool is its 2-d one)
        sizes = ["x".join(map(str, [x.shape[1]] + one + list(v))) for v in (x.shape[2:], outs)]
        raise RuntimeError("Given input size: ({}). Calculated output size: ({}). Output size "
                           "is too small".format(*sizes))
    # the right padding a ceil_mode window may reach past the input's padding
    pads = []
    for i in range(nd):
        need = (outs[i] - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1
        pads.append((padding[i], max(need - x.shape[2 + i] - padding[i], 0)))
    return x, batched, kernel, stride, dilation, pads, outs


_MAX, _ADAPTIVE_MAX = "MaxPool{}DWithIndices", "AdaptiveMaxPool{}D"  # (PyTorch's node names)


def _pool_node(y, kind, nd, first=None):
    """``y`` as PyTorch's one pooling node (``backward_ops.link``): under ``create_graph`` its
    gradient requires grad whenever the input does, with a zero second derivative, as that
    of PyTorch's ``*_backward(grad, self, ...)``. 1-d pooling is PyTorch's 2-d one between an
    unsqueeze and a squeeze, hence its names. ``first``: the tensor of the op's first record,
    whose input becomes the node's next function (None: the last record's inputs)."""
    if nd == 1:
        return link(y, "SqueezeBackward1", "SqueezeBackward1")
    name = kind.format(nd) + "Backward0"
    if first is not None:
        name_node(y, name, first)
    return link(y, name)


def _max_pool(nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    name = f"max_pool{nd}d"
    x, batched, kernel, stride, dilation, pads, outs = _pool_setup(
        nd, input, kernel_size, stride, padding, dilation, ceil_mode, name)
    if _one_op(x):  # CPU float arrays: the maxima's positions by a compiled loop
        res, first = _max_pool_gathered(x, batched, kernel, stride, dilation, pads, outs,
                                        return_indices)
        _pool_node(res[0] if return_indices else res, _MAX, nd, first)
        return res
    xp = _pad_spatial(x, pads, -math.inf)
    win = _windows(xp, kernel, stride, dilation)
    flat = O.reshape(win, tuple(win.shape[:2 + nd]) + (-1,))
    # the gradient goes to one element per window (the first maximum), as PyTorch's
    values, where = O.max(flat, -1)
    if not return_indices:
        return _pool_node(values if batched else O.squeeze(values, 0), _MAX, nd)
    # the flat index of each maximum in its input plane (NumPy's integers; a batched tensor
    # of vmap, whose values cannot be read, the same arithmetic in ops)
    j = np.asarray(where._data) if type(where) is Tensor else where
    pos = None
    sizes = x.shape[2:]
    for i in range(nd):
        inner = int(np.prod(kernel[i + 1:]))
        ki = (j // inner) % kernel[i]
        grid = np.arange(outs[i]).reshape((-1,) + (1,) * (nd - 1 - i)) * stride[i]
        coord = ki * dilation[i] + (grid - pads[i][0])
        pos = coord if pos is None else pos * sizes[i] + coord
    idx = _make(pos) if type(pos) is np.ndarray else pos
    if not batched:
        return _pool_node(O.squeeze(values, 0), _MAX, nd), O.squeeze(idx, 0)
    return _pool_node(values, _MAX, nd), idx


def _max_pool_gathered(x, batched, kernel, stride, dilation, pads, outs, return_indices):
    """Max pooling as one gather: the maxima's positions found by ``max_positions`` (PyTorch's
    choice: the first largest value, the last NaN), the values gathered from there, so the
    gradient is a scatter to those positions (at any order: the gather is a linear op).
    Returns the result and the tensor of the op's first record."""
    N, C = x.shape[:2]
    where, empty = empty_windows(max_positions(x._data, kernel, stride, dilation, pads, outs),
                                 x.shape[2:], kernel, stride, dilation, pads)
    plane = math.prod(x.shape[2:])
    at = where if empty is None else np.where(where < plane, where, 0)
    flat = (at.reshape(N * C, math.prod(outs)) + (np.arange(N * C) * plane)[:, None]).reshape(-1)
    x_flat = O.reshape(x, -1)
    values = O.reshape(gather_index(x_flat, flat), (N, C) + tuple(outs))
    if empty is not None:  # windows of padding only
        values = padding_windows(values, where, empty, plane)
    if not batched:
        values, where = O.squeeze(values, 0), where[0]
    # (the op's first record: the unbatched input's unsqueeze, else the flattening)
    first = x_flat if batched else x
    return ((values, _make(where)) if return_indices else values), first


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The maximum of each window of (N, C, L) or (C, L) input."""
    if return_indices:  # (PyTorch's max_pool1d_with_indices: words of its own)
        check_dim_range(as_tensor(input), 2, 3, "max_pool1d")
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The maximum of each window of (N, C, H, W) or (C, H, W) input."""
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def _avg_pool(nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    name = f"avg_pool{nd}d"
    x, batched, kernel, stride, dilation, pads, outs = _pool_setup(
        nd, input, kernel_size, stride, padding, 1, ceil_mode, name)
    if _one_op(x) and fusable(x):  # CPU float arrays: one op, compiled window means
        y = _avg_pool_op.avg_pool(x, kernel, stride, _tuple(padding, nd, "padding"), outs,
                                  count_include_pad, divisor_override)
        return y if batched else O.squeeze(y, 0)
    win = _windows(_pad_spatial(x, pads, 0.0), kernel, stride, dilation)
    total = O.sum(win, tuple(range(2 + nd, 2 + 2 * nd)))
    if divisor_override:
        count = np.array(float(divisor_override))
    else:
        # per window: its elements in the input (and in the padding with count_include_pad;
        # never the part past the padding that ceil_mode adds)
        ones = np.zeros(tuple(n + a + b for n, (a, b) in zip(x.shape[2:], pads)))
        inner = tuple(slice(a, a + n) for n, (a, _) in zip(x.shape[2:], pads))
        if count_include_pad:
            inner = tuple(slice(0, a + n + p) for n, (a, _), p in
                          zip(x.shape[2:], pads, _tuple(padding, nd, "padding")))
        ones[inner] = 1.0
        view = np.lib.stride_tricks.sliding_window_view(ones, kernel)
        view = view[tuple(slice(None, None, s) for s in stride)]
        count = view.sum(tuple(range(nd, 2 * nd)))[tuple(slice(0, o) for o in outs)]
    count = _make(count.astype(x.dtype))
    y = total / (count.to(x.device) if x.is_cuda else count)
    return _pool_node(y if batched else O.squeeze(y, 0), "AvgPool{}D", nd)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The maximum of each window of (N, C, D, H, W) or (C, D, H, W) input."""
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """The mean of each window of (N, C, L) or (C, L) input."""
    return _avg_pool(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """The mean of each window of (N, C, H, W) or (C, H, W) input."""
    return _avg_pool(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """The mean of each window of (N, C, D, H, W) or (C, D, H, W) input."""
    return _avg_pool(3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def _adaptive(nd, input, output_size, reduce, name):
    """Each output cell reduces input cells ``floor(i n / out)`` to ``ceil((i + 1) n / out)``
    along each spatial dim (PyTorch's bins)."""
    x = as_tensor(input)
    out = adaptive_output_size(nd, x, output_size, name)
    if reduce is _mean and all(o == 1 for o in out):  # global pooling: one mean
        return O.mean(x, tuple(range(-1, -nd - 1, -1)), keepdim=True)  # (PyTorch's: any rank)
    sizes = x.shape[x.ndim - nd:]
    lead = (slice(None),) * (x.ndim - nd)
    if 0 in out:  # (no cells: an empty result)
        return O.reshape(x[lead + (slice(0, 0),) * nd], x.shape[:x.ndim - nd] + out)
    if reduce is _mean and _one_op(x) and fusable(x):
        one = x if x.ndim == nd + 2 else O.unsqueeze(x, 0)  # (global pooling: one mean)
        y = _avg_pool_op.adaptive_avg_pool(one, out)
        return y if x.ndim == nd + 2 else O.squeeze(y, 0)

    def cells(i, key):
        if i == nd:
            return reduce(x[lead + key], tuple(range(x.ndim - nd, x.ndim)))
        n, o = sizes[i], out[i]
        parts = [cells(i + 1, key + (slice(c * n // o, -(-(c + 1) * n // o)),))
                 for c in range(o)]
        return O.stack(parts, -1)

    r = cells(0, ())  # dims come out innermost-first: put them back in order
    r = O.permute(r, tuple(range(x.ndim - nd)) + tuple(range(x.ndim - 1, x.ndim - nd - 1, -1)))
    return _pool_node(r, "AdaptiveAvgPool{}D", nd) if reduce is _mean else r


def _mean(t, dims):
    return O.mean(t, dims)


def adaptive_avg_pool1d(input, output_size):
    return _adaptive(1, input, output_size, _mean, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):
    """Means over ``output_size`` bins of the last two dims (``(1, 1)``: global average)."""
    return _adaptive(2, input, output_size, _mean, "adaptive_avg_pool2d")


def adaptive_avg_pool3d(input, output_size):
    return _adaptive(3, input, output_size, _mean, "adaptive_avg_pool3d")


def _first_max(t, dims):
    """The maximum over ``dims`` (the trailing ones), its gradient to one element as PyTorch's."""
    flat = O.reshape(t, tuple(t.shape[:t.ndim - len(dims)]) + (-1,))
    return O.max(flat, -1)[0]


def _adaptive_max(nd, input, output_size, return_indices):
    name = f"adaptive_max_pool{nd}d"
    x = as_tensor(input)
    if not (_one_op(x) and x.ndim in (nd + 1, nd + 2)):
        values = _pool_node(_adaptive(nd, x, output_size, _first_max, name), _ADAPTIVE_MAX,
                            nd)
        if not return_indices:
            return values
        return values, _adaptive_max_indices(np.asarray(x._data), tuple(values.shape[-nd:]))
    # CPU arrays: each cell's first maximum found by a compiled loop, the values one gather
    sizes = x.shape[x.ndim - nd:]
    out = adaptive_output_size(nd, x, output_size, name)
    lead = math.prod(x.shape[:x.ndim - nd])
    pos, count, offs = _adaptive_cells(tuple(sizes), out, lead)
    where = np.empty((lead, pos.shape[0]), np.int64)
    if pos.size and lead:
        if not math.prod(sizes):  # (an empty plane: the NumPy search's error)
            _adaptive_max_indices(x._data, out)
        window_kernels().cell_max_positions(
            np.ascontiguousarray(x._data).reshape(lead, -1), pos, count, where)
    # the values one gather (input and output unflattened: records see flat slots)
    flat = (where + offs).reshape(-1)
    values = _wrap(np.asarray(x._data).reshape(-1)[flat].reshape(x.shape[:x.ndim - nd] + out))
    values = _make(values) if not (x._rg and _grad_on()) else _record_linear(
        values, _GATHER_INDEX, x, lambda seg: tape.add_ivals(seg, flat))
    _pool_node(values, _ADAPTIVE_MAX, nd)
    return (values, _make(where.reshape(values.shape))) if return_indices else values


# (sizes, out, lead) -> adaptive_max's cell positions, counts, plane offsets
_CELLS, _keep_cells = bounded_cache(64)


def _adaptive_cells(sizes, out, lead):
    """Each adaptive cell's window as flat positions within its plane (scan order; padded to
    the largest window, ``count`` the real ones), and each plane's flat offset: built once per
    shape."""
    key = (sizes, out, lead)
    hit = _CELLS.get(key)
    if hit is not None:
        return hit
    pos = np.zeros((1, 1), np.int64)
    pad = np.zeros((1, 1), bool)
    for n, o in zip(sizes, out):
        lo = np.arange(o) * n // o
        hi = -(-(np.arange(o) + 1) * n // o)
        k = int((hi - lo).max()) if o else 0
        j = lo[:, None] + np.arange(k)  # (o, k): this dim's positions of each cell's window
        bad = j >= hi[:, None]
        j = np.minimum(j, n - 1)
        w = pos.shape[1] * k  # (the windows' width so far: no -1, which an empty size cannot infer)
        pos = (pos[:, None, :, None] * n + j[None, :, None, :]).reshape(pos.shape[0] * o, w)
        pad = (pad[:, None, :, None] | bad[None, :, None, :]).reshape(pad.shape[0] * o, w)
    count = (~pad).sum(-1)
    pos = np.take_along_axis(pos, np.argsort(pad, -1, kind="stable"), -1)  # real ones first
    offs = (np.arange(lead, dtype=np.int64) * math.prod(sizes))[:, None]
    hit = (np.ascontiguousarray(pos), count.astype(np.int64), offs)
    for a in hit:
        a.flags.writeable = False
    return _keep_cells(key, hit)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max(1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    return _adaptive_max(2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    return _adaptive_max(3, input, output_size, return_indices)


def _adaptive_max_indices(x, out):
    """For each output cell of an adaptive max pool over the last ``len(out)`` dims of the
    values ``x``: the flat index, within the input plane, of the cell's first maximum (its last
    NaN, where there is one), as PyTorch's kernel picks. Every cell's window is read in one
    gather (windows padded to the largest one), so the work is vectorised over the cells."""
    nd = len(out)
    sizes = x.shape[-nd:]
    lead = x.shape[:-nd]
    if 0 in out:  # (no cells)
        return _make(np.zeros(lead + tuple(out), np.int64))
    pos = np.zeros((1, 1), np.int64)  # (cells so far, window offsets so far): plane index
    pad = np.zeros((1, 1), bool)
    for n, o in zip(sizes, out):
        lo = np.arange(o) * n // o
        hi = -(-(np.arange(o) + 1) * n // o)
        k = int((hi - lo).max())
        j = lo[:, None] + np.arange(k)  # (o, k): this dim's positions of each cell's window
        bad = j >= hi[:, None]
        j = np.minimum(j, n - 1)
        pos = (pos[:, None, :, None] * n + j[None, :, None, :]).reshape(
            pos.shape[0] * o, -1)
        pad = (pad[:, None, :, None] | bad[None, :, None, :]).reshape(pad.shape[0] * o, -1)
    planes = x.reshape((-1, int(np.prod(sizes, dtype=np.int64))))
    win = planes[:, pos]  # (planes, cells, window)
    nan = np.isnan(win) & ~pad
    win = np.where(pad | nan, -np.inf, win)
    k = win.shape[-1]
    last_nan = k - 1 - np.argmax(nan[..., ::-1], axis=-1)
    pick = np.where(nan.any(-1), last_nan, np.argmax(win, axis=-1))  # (first max otherwise)
    chosen = np.take_along_axis(np.broadcast_to(pos, win.shape), pick[..., None], -1)[..., 0]
    return _make(chosen.reshape(lead + tuple(out)).astype(np.int64))
