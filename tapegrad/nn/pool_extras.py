"""The rest of ``torch.nn.functional``'s pooling family, composed of tapegrad ops: power-average
pooling (``lp_pool*d``), local response normalisation, max unpooling (the max pool's indices
read back) and the ``*_with_indices`` spellings (re-exported by ``nn.functional``)."""

import math

import numpy as np

from .. import ops as O
from ..ops.movement import scatter_index
from ..ops.record import as_tensor as _t
from . import convolution as C

__all__ = ["lp_pool1d", "lp_pool2d", "lp_pool3d", "local_response_norm", "max_unpool1d",
           "max_unpool2d", "max_unpool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
           "max_pool3d_with_indices", "adaptive_max_pool1d_with_indices",
           "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d_with_indices"]

_AVG = {1: C.avg_pool1d, 2: C.avg_pool2d, 3: C.avg_pool3d}


def _lp_pool(nd, input, norm_type, kernel_size, stride, ceil_mode):
    """PyTorch's composition: the window means of ``x ** p`` (clamped at 0 by the sign trick
    that keeps its gradient), times the window size, to the power ``1 / p``."""
    x = _t(input)
    kernel = C._tuple(kernel_size, nd, "kernel_size")
    if stride is not None:
        out = _AVG[nd](x ** norm_type, kernel_size, stride, 0, ceil_mode)
    else:
        out = _AVG[nd](x ** norm_type, kernel_size, padding=0, ceil_mode=ceil_mode)
    return (O.sign(out) * O.relu(O.abs(out)) * math.prod(kernel)) ** (1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """``(sum over each window of x ** p) ** (1 / p)`` along the last dim."""
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """``x / (k + alpha * mean of x ** 2 over `size` neighbouring channels) ** beta``."""
    from .functional import pad

    x = _t(input)
    dim = x.ndim
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input "
                         f"(got {dim} dimensions)")
    if x.numel() == 0:
        return x
    div = x * x
    if dim == 3:
        div = pad(O.unsqueeze(div, 1), (0, 0, size // 2, (size - 1) // 2))
        div = O.squeeze(C.avg_pool2d(div, (size, 1), stride=1), 1)
    else:
        shape = tuple(x.shape)
        div = O.reshape(div, (shape[0], 1, shape[1], shape[2], -1))
        div = pad(div, (0, 0, 0, 0, size // 2, (size - 1) // 2))
        div = O.reshape(O.squeeze(C.avg_pool3d(div, (size, 1, 1), stride=1), 1), shape)
    return x / (div * alpha + k) ** beta


def _unpool_size(nd, in_sizes, kernel, stride, padding, output_size):
    default = [(n - 1) * s + k - 2 * p for n, s, k, p in zip(in_sizes, stride, kernel, padding)]
    if output_size is None:
        return default
    given = list(output_size)
    if len(given) == nd + 2:
        given = given[2:]
    if len(given) != nd:
        raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} "
                         f"elements, but it has a length of '{len(given)}'")
    for d in range(nd):
        low, high = default[d] - stride[d], default[d] + stride[d]
        if not low < given[d] < high:
            raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between '
                             f"{low} and {high})")
    return [int(g) for g in given]


def _max_unpool(nd, input, indices, kernel_size, stride, padding, output_size):
    """Zeros of the unpooled size with each value of ``input`` at its index (flat within its
    plane, as ``max_pool*d(..., return_indices=True)`` gives): the gradient is read back from
    those positions."""
    x = _t(input)
    kernel = C._tuple(kernel_size, nd, "kernel_size")
    stride = C._tuple(kernel_size if stride is None else stride, nd, "stride")
    padding = C._tuple(padding, nd, "padding")
    idx = np.asarray(_t(indices)._data)
    if idx.dtype != np.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: "
                           f"{str(idx.dtype).capitalize()}")
    if tuple(idx.shape) != tuple(x.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({list(x.shape)}) but got indices tensor with shape: "
                           f"{list(idx.shape)}")
    out = _unpool_size(nd, x.shape[-nd:], kernel, stride, padding, output_size)
    plane = math.prod(out)
    lead = tuple(x.shape[:-nd])
    planes = math.prod(lead)
    flat_idx = idx.reshape(planes, -1)
    bad = flat_idx[(flat_idx < 0) | (flat_idx >= plane)]
    if len(bad):
        raise RuntimeError(f"Found an invalid max index: {int(bad[0])} (output volumes are of "
                           f"size {'x'.join(map(str, out))}")
    positions = (flat_idx + np.arange(planes)[:, None] * plane).reshape(-1)
    y = scatter_index(O.reshape(x, (-1,)), positions, planes * plane)
    return O.reshape(y, lead + tuple(out))


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of ``max_pool1d``: each value back at its index, zeros elsewhere."""
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size)


def _with_indices(pool):
    def fn(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
           return_indices=False):
        return pool(input, kernel_size, stride, padding, dilation, ceil_mode, True)

    fn.__name__ = pool.__name__ + "_with_indices"
    fn.__doc__ = f"``{pool.__name__}`` returning ``(values, indices)``."
    return fn


max_pool1d_with_indices = _with_indices(C.max_pool1d)
max_pool2d_with_indices = _with_indices(C.max_pool2d)
max_pool3d_with_indices = _with_indices(C.max_pool3d)


def _adaptive_with_indices(nd, pool):
    def fn(input, output_size, return_indices=False):
        return pool(input, output_size, True)

    fn.__name__ = f"adaptive_max_pool{nd}d_with_indices"
    fn.__doc__ = f"``adaptive_max_pool{nd}d`` returning ``(values, indices)``."
    return fn


adaptive_max_pool1d_with_indices = _adaptive_with_indices(1, C.adaptive_max_pool1d)
adaptive_max_pool2d_with_indices = _adaptive_with_indices(2, C.adaptive_max_pool2d)
adaptive_max_pool3d_with_indices = _adaptive_with_indices(3, C.adaptive_max_pool3d)
