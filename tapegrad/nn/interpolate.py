"""``F.interpolate`` and the ``Upsample`` modules: resizing the spatial dims of (N, C, ...)
input as PyTorch does.

Each spatial dim is resized on its own: 'nearest' and 'nearest-exact' pick one source index per
output position (``index_select``), the linear modes blend two neighbours with constant weights,
'bicubic' four, 'area' is an adaptive average pool. The source positions are computed with
PyTorch's formulas (``align_corners``, a given ``scale_factor`` used as given), in the same
precision (nearest: float32; linear: the input's), so the same pixels are picked and blended. A
CPU float32/float64 tensor is resized by one op (``ops/resize.py``: compiled loops, the dims
blended in the same order); other tensors by the ops of each dim, whose gradients of every order
follow.
"""

import math

import numpy as np

from .. import creation
from .. import ops as _ops  # (index_select through the namespace: batch-aware under vmap)
from ..ops import resize as _resize
from ..ops.activations import fusable_array
from ..ops.record import as_tensor
from .convolution import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d
from .module import Module

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]

_LINEAR = {"linear": 3, "bilinear": 4, "trilinear": 5}  # mode -> the input rank it needs
_MODES = ("nearest", "nearest-exact", "area", "linear", "bilinear", "trilinear", "bicubic")


def _per_dim(value, spatial, name):
    """``size`` or ``scale_factor`` as one value per spatial dim (PyTorch's error where a
    sequence has another length)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        if len(value) != len(spatial):
            what, of, fmt = ("output", "output size of", "output size in (o1, o2, ...,oK)") \
                if name == "size" else ("scale_factor", "scale_factor of shape",
                                        "scale_factor in (s1, s2, ...,sK)")
            raise ValueError(f"Input and {what} must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{list(spatial)} and {of} {value}. Please provide input tensor in "
                             f"(N, C, d1, d2, ...,dK) format and {fmt} format.")
        return list(value)
    return [value] * len(spatial)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of ``input`` (N, C, d1, ..., dk) to ``size``, or by
    ``scale_factor`` (output size ``floor(d * scale)``)."""
    x = as_tensor(input)
    if mode == "lanczos" and x.ndim == 4:  # (PyTorch's antialiased mode: no antialias here)
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        raise ValueError("Lanczos mode requires antialias=True") if not antialias else \
            NotImplementedError("interpolate: antialias=True is not supported")
    if mode not in _MODES:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                                  f"{x.ndim}D) for the modes: nearest | linear | bilinear | "
                                  f"bicubic | trilinear | lanczos | area | nearest-exact (got "
                                  f"{mode})")
    if mode in ("nearest", "nearest-exact", "area") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    k = x.ndim - 2
    if k < 1 or k > 3:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {x.ndim}D) for the modes: nearest | linear | bilinear | "
                                  f"bicubic | trilinear | lanczos | area | nearest-exact (got "
                                  f"{mode})")
    if mode == "bicubic" and x.ndim != 4:  # (PyTorch's catch-all words)
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {x.ndim}D) for the modes: nearest | linear | bilinear | "
                                  f"bicubic | trilinear | lanczos | area | nearest-exact (got "
                                  f"{mode})")
    if mode in _LINEAR and x.ndim != _LINEAR[mode]:
        raise NotImplementedError(f"Got {x.ndim}D input, but {mode} mode needs "
                                  f"{_LINEAR[mode]}D input")
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    spatial = list(x.shape[2:])
    sizes = _per_dim(size, spatial, "size")
    scales = _per_dim(scale_factor, spatial, "scale_factor")
    if sizes is None:
        sizes = [int(math.floor(float(d) * float(s))) for d, s in zip(spatial, scales)]
        if recompute_scale_factor:
            scales = None
    else:
        scales = None
    if min(sizes) <= 0:
        names = ("D", "H", "W")[3 - k:]
        raise RuntimeError("Input and output sizes should be greater than 0, but got input (" +
                           ", ".join(f"{a}: {b}" for a, b in zip(names, spatial)) + ") output (" +
                           ", ".join(f"{a}: {b}" for a, b in zip(names, sizes)) + ")")
    if mode == "area":
        if k == 1:
            return adaptive_avg_pool1d(x, sizes[0])
        return adaptive_avg_pool2d(x, sizes) if k == 2 else adaptive_avg_pool3d(x, sizes)
    # a CPU float tensor: one op, its tables built once per shape (the key of their cache)
    key = (tuple(spatial), x.shape[:2], x.dtype, mode, tuple(sizes),
           None if scales is None else tuple(scales), bool(align_corners)) \
        if fusable_array(x) else None
    if mode == "bicubic":
        def taps():
            return [_cubic_taps(n_in, n_out, None if scales is None else scales[i],
                                bool(align_corners), x.dtype)
                    for i, (n_in, n_out) in enumerate(zip(spatial, sizes))]
        if key is not None:
            return _resize.resize(x, _resize.cached(key, lambda: _resize.make_cubic_params(
                x.shape, taps(), x.dtype)))
        return _bicubic(x, taps())
    if key is not None:  # (the same steps as the composition below)
        return _resize.resize(x, _resize.cached(key, lambda: _resize.make_params(
            x.shape, _steps(mode, spatial, sizes, scales, align_corners, x.dtype), x.dtype,
            _NODE_NAMES[mode].format(k))))
    for i, step in enumerate(_steps(mode, spatial, sizes, scales, align_corners, x.dtype)):
        if isinstance(step, tuple):
            lo, hi, w = step
            w = creation.tensor(w.reshape([1] * (2 + i) + [len(w)] + [1] * (k - 1 - i)),
                                device=x.device)  # (CUDA tensors take this path)
            x = _ops.index_select(x, 2 + i, lo) * (1 - w) + _ops.index_select(x, 2 + i, hi) * w
        elif step is not None:
            x = _ops.index_select(x, 2 + i, step)
    return x


# PyTorch's node of each mode (``k``: the spatial dims)
_NODE_NAMES = {"nearest": "UpsampleNearest{}DBackward0",
               "nearest-exact": "UpsampleNearestExact{}DBackward0",
               "linear": "UpsampleLinear1DBackward0", "bilinear": "UpsampleBilinear2DBackward0",
               "trilinear": "UpsampleTrilinear3DBackward0"}


def _steps(mode, spatial, sizes, scales, align_corners, dtype):
    """Per spatial dim: None (its size is unchanged), the source index of each output position
    (nearest), or ``(lo, hi, w)``: the blend ``x[lo] * (1 - w) + x[hi] * w`` (linear)."""
    steps = []
    for i, (n_in, n_out) in enumerate(zip(spatial, sizes)):
        scale = None if scales is None else scales[i]
        if mode in _LINEAR:  # (PyTorch's kernels copy a dim of unchanged size, whatever scale)
            steps.append(None if n_out == n_in else
                         _linear_source(n_in, n_out, scale, bool(align_corners), dtype))
        elif mode == "nearest" and len(spatial) == 2 and n_out in (n_in, 2 * n_in):
            # (its 2-D kernel's shortcuts: a copy, and index // 2)
            steps.append(None if n_out == n_in else np.arange(n_out) // 2)
        else:
            steps.append(_nearest_index(n_in, n_out, scale, mode == "nearest"))
    return steps


def _nearest_index(n_in, n_out, scale, floor_only):
    """PyTorch's nearest source indices, computed in float32 as its kernels compute them."""
    s = np.float32(1.0 / scale) if scale is not None and scale > 0 else \
        np.float32(n_in) / np.float32(n_out)
    if floor_only:
        src = np.arange(n_out, dtype=np.float32) * s
    else:  # nearest-exact: the pixel centre, in double, rounded to float for the floor
        src = ((np.arange(n_out) + 0.5) * np.float64(s)).astype(np.float32)
    return np.minimum(np.floor(src).astype(np.int64), n_in - 1)


def _linear_source(n_in, n_out, scale, align_corners, dtype):
    """The two source neighbours of each output position and the weight of the second."""
    ftype = np.float32 if dtype == np.float32 else np.float64
    if align_corners:
        s = ftype(n_in - 1) / ftype(n_out - 1) if n_out > 1 else ftype(0)
        src = np.arange(n_out, dtype=ftype) * s
    else:
        s = ftype(1.0 / scale) if scale is not None and scale > 0 else ftype(n_in) / ftype(n_out)
        src = np.maximum((np.arange(n_out, dtype=ftype) + ftype(0.5)) * s - ftype(0.5), 0)
    lo = np.minimum(src.astype(np.int64), n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    return lo, hi, (src - lo).astype(dtype)


def _cubic_taps(n_in, n_out, scale, align_corners, dtype):
    """The four source indices (4, n_out) of each output position, clamped into the image,
    and their weights (4, n_out): PyTorch's ``HelperInterpCubic`` in the input's precision,
    its source index floored in float32 (``floorf``) and the fraction clamped to [0, 1]."""
    ftype = np.float32 if dtype == np.float32 else np.float64
    dst = np.arange(n_out, dtype=ftype)
    if align_corners:
        src = dst * (ftype(n_in - 1) / ftype(n_out - 1) if n_out > 1 else ftype(0))
    else:
        s = ftype(1.0 / scale) if scale is not None and scale > 0 else ftype(n_in) / ftype(n_out)
        src = s * (dst + ftype(0.5)) - ftype(0.5)
    lo = np.minimum(np.floor(src.astype(np.float32)).astype(np.int64), n_in - 1)
    t = np.clip(src - lo.astype(ftype), ftype(0), ftype(1))
    index = np.clip(lo + np.arange(-1, 3)[:, None], 0, n_in - 1)
    return index, np.stack(cubic_weights(t, ftype)).astype(dtype)


def cubic_weights(t, ftype):
    """The weights of the neighbours at -1, 0, 1, 2 of a source position ``t`` past the
    second (PyTorch's ``get_cubic_upsample_coefficients``, A = -0.75, its rounding), its
    constants of type ``ftype``; ``t`` a NumPy array, or a tensor (grid_sample's, ``float``)."""
    a, one = ftype(-0.75), ftype(1)

    def near(d):  # |d| <= 1
        return ((a + ftype(2)) * d - (a + ftype(3))) * d * d + one

    def far(d):  # 1 < |d| < 2
        return ((a * d - ftype(5) * a) * d + ftype(8) * a) * d - ftype(4) * a

    return far(t + one), near(t), near(one - t), far((one - t) + one)


def _bicubic(x, taps):
    """The composition of a bicubic resize (tensors other than CPU float32/float64): W, then
    H, blended from four ``index_select``s each, in the order of the one op's loops."""
    for dim, (index, weights) in ((3, taps[1]), (2, taps[0])):
        shape = [1, 1, 1, 1]
        shape[dim] = index.shape[1]
        out = None
        for idx, w in zip(index, weights):
            part = _ops.index_select(x, dim, idx) * creation.tensor(w.reshape(shape),
                                                              device=x.device)
            out = part if out is None else out + part
        x = out
    return x


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate`` (as PyTorch's)."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


class Upsample(Module):
    """``interpolate`` as a layer."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) \
            else tuple(float(f) for f in scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else \
            f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
