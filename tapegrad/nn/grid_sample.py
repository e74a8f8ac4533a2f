"""``F.affine_grid`` and ``F.grid_sample`` (2-D): sampling an image at given normalised
coordinates, as PyTorch's spatial-transformer functions. Plain CPU tensors of one float dtype
are sampled by one op (``ops/grid_sample.py``, compiled loops); the composition below serves
the others (CUDA tensors, mixed dtypes, ``tg.compile``'s tracer). Under vmap a rule of its own
(``func/batching_sampling.py``) calls this function once on the whole batch.

``grid_sample`` unnormalises the grid (``align_corners``), applies the padding mode to the
coordinates ('border': clamped; 'reflection': reflected, then clamped), then reads the four
neighbours ('bilinear') or the nearest pixel ('nearest', ties to even as PyTorch's
``nearbyint``) with a gather; neighbours outside the image read 0 ('zeros'). The weights are
the coordinates' fractional parts, so gradients reach both the image and the grid, to any order.
"""

import numpy as np

from .. import creation
from .. import ops as O
from ..grad_mode import is_grad_enabled
from ..ops import grid_sample as _grid_sample_op
from ..ops.backward_ops import depends, link
from ..ops.elementwise import where
from ..ops.record import as_tensor
from .interpolate import cubic_weights

__all__ = ["affine_grid", "grid_sample"]


def affine_grid(theta, size, align_corners=False):
    """The sampling grid (N, H, W, 2) of the affine maps ``theta`` (N, 2, 3) over an output of
    ``size`` (N, C, H, W): each output pixel's normalised (x, y) mapped by ``theta``."""
    theta = as_tensor(theta)
    size = tuple(int(s) for s in size)
    if len(size) != 4:
        raise NotImplementedError("affine_grid only supports 4D sizes, for 2D affine "
                                  "transformations (3D is not supported)")
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (2, 3):
        raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                         f"{list(size)}. Got {list(theta.shape)}.")
    n, _, h, w = size
    if theta.shape[0] != n:
        raise ValueError(f"Expected theta to have {n} matrices for size {list(size)}, got "
                         f"{theta.shape[0]}")

    def axis(k):
        if k <= 1:
            return np.zeros(k)
        base = creation.linspace_values(-1.0, 1.0, k, theta.dtype)
        return base if align_corners else base * (k - 1) / k

    xs, ys = np.meshgrid(axis(w), axis(h))
    base = np.stack([xs, ys, np.ones_like(xs)], -1).reshape(1, h * w, 3).astype(theta.dtype)
    grid = creation.tensor(base, device=theta.device) @ O.transpose(theta, 1, 2)  # (N, H*W, 2)
    return O.reshape(grid, (n, h, w, 2))


def _unnormalize(coord, size, align_corners):
    if align_corners:
        return (coord + 1) * ((size - 1) / 2)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord, twice_low, twice_high):
    """PyTorch's ``reflect_coordinates``: ``coord`` reflected into [low, high]."""
    if twice_low == twice_high:
        return coord * 0.0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    dist = (coord - low).abs()
    flips = np.floor(_host(dist) / span)
    extra = dist - _like(dist, (flips * span).astype(dist.dtype))
    return where(_like(dist, flips % 2 == 0), extra + low, span - extra + low)


def _host(t):
    """The values of ``t`` as a NumPy array (copied from the device for CUDA tensors)."""
    return t.detach().cpu().numpy()


def _like(t, values):
    """A constant tensor of ``values`` on ``t``'s device."""
    return creation.tensor(values, device=t.device)


def _clip(x, size):
    """PyTorch's ``clip_coordinates_set_grad``: ``x`` clamped to [0, size - 1] with a zero
    derivative at and beyond either end (a clamp's would be 1 at the ends, where the sample
    sits on the border pixel)."""
    inside = (x > 0) & (x < size - 1)
    return where(inside, x, x.detach().clamp(0, size - 1))


def _source(coord, size, padding_mode, align_corners):
    x = _unnormalize(coord, size, align_corners)
    if padding_mode == "border":
        x = _clip(x, size)
    elif padding_mode == "reflection":
        x = _reflect(x, 0, 2 * (size - 1)) if align_corners else _reflect(x, -1, 2 * size - 1)
        x = _clip(x, size)
    return x


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """``input`` (N, C, H, W) read at ``grid`` (N, Ho, Wo, 2) of normalised (x, y) in
    [-1, 1]: (N, C, Ho, Wo)."""
    x, grid = as_tensor(input), as_tensor(grid)
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    _check_shapes(x, grid)
    if x.ndim != 4:
        raise NotImplementedError("grid_sample: only 4-D input (N, C, H, W) is supported")
    align = bool(align_corners)
    if _grid_sample_op.takes(x, grid):  # (CPU float32/float64: one op, compiled loops)
        return _node(_grid_sample_op.grid_sample(x, grid, mode, padding_mode, align))
    n, c, h, w = x.shape
    ho, wo = grid.shape[1], grid.shape[2]
    if mode == "bicubic":
        return _node(_bicubic(O.reshape(x, (n, c, h * w)), grid, h, w, padding_mode, align))
    gx = _source(grid[..., 0], w, padding_mode, align)  # (N, Ho, Wo)
    gy = _source(grid[..., 1], h, padding_mode, align)
    flat = O.reshape(x, (n, c, h * w))
    if mode == "nearest":
        ix, iy = np.rint(_host(gx)), np.rint(_host(gy))  # (half to even)
        out = _read(flat, ix, iy, h, w, c, ho, wo, None)
        if grid.requires_grad and is_grad_enabled():  # (a zero gradient, as PyTorch's)
            out = out + depends(creation.zeros(out.shape, dtype=out.dtype, device=out.device),
                                (grid,))
        return _node(out)
    x0, y0 = np.floor(_host(gx)), np.floor(_host(gy))
    fx = gx - _like(gx, x0.astype(gx.dtype))  # (the weights: differentiable in grid)
    fy = gy - _like(gy, y0.astype(gy.dtype))
    out = 0.0
    for dx, dy, weight in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)),
                           (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        out = out + _read(flat, x0 + dx, y0 + dy, h, w, c, ho, wo, weight)
    return _node(out)


def _bicubic(flat, grid, h, w, padding_mode, align):
    """``flat`` (N, C, H*W) read at the 4 x 4 pixels around the unnormalised grid, each row
    blended along x with the cubic weights of the fractional part, then the rows along y.
    The padding moves each tap (PyTorch's kernel), not the coordinate, so the weights' slopes
    reach the grid unclipped."""
    c, ho, wo = flat.shape[1], grid.shape[1], grid.shape[2]
    # (PyTorch's vectorised unnormalisation: its CPU kernel of float and double)
    if align:
        gx, gy = (grid[..., 0] + 1) * ((w - 1) / 2), (grid[..., 1] + 1) * ((h - 1) / 2)
    else:
        gx, gy = (grid[..., 0] + 1) * (w / 2) - 0.5, (grid[..., 1] + 1) * (h / 2) - 0.5
    x0, y0 = np.floor(_host(gx)), np.floor(_host(gy))
    # (interpolate's Keys weights, A = -0.75, of the fractional parts as tensors: Python floats
    # for its constants)
    wx = cubic_weights(gx - _like(gx, x0.astype(gx.dtype)), float)
    wy = cubic_weights(gy - _like(gy, y0.astype(gy.dtype)), float)
    xs = [_pad_tap(x0 + (i - 1), w, padding_mode, align) for i in range(4)]
    out = None
    for j in range(4):
        iy = _pad_tap(y0 + (j - 1), h, padding_mode, align)
        row = None
        for i in range(4):
            part = _read(flat, xs[i], iy, h, w, c, ho, wo, wx[i])
            row = part if row is None else row + part
        part = row * O.unsqueeze(wy[j], 1)
        out = part if out is None else out + part
    return out


def _pad_tap(v, size, padding_mode, align):
    """The integer tap coordinates ``v`` (host values) padded as PyTorch pads each bicubic
    tap: 'border' clamps, 'reflection' reflects about the edges (their centres with
    ``align_corners``, else their outer sides), then clamps; 'zeros' leaves them (``_read``
    reads 0 outside)."""
    if padding_mode == "zeros":
        return v
    if padding_mode == "reflection":
        if align and size == 1:  # (every tap reflects onto the one pixel, a NaN one too)
            v = np.zeros_like(v)
        else:
            low, twice = (0.0, 2.0 * (size - 1)) if align else (-0.5, 2.0 * size)
            with np.errstate(invalid="ignore"):
                dist = np.abs(v - low)
                extra = dist - np.trunc(dist / twice) * twice
                v = np.minimum(extra, twice - extra) + low
    return np.clip(v, 0, size - 1)


def _check_shapes(x, grid):
    """PyTorch's ``grid_sampler`` shape checks, in its order and words."""
    sizes = f"input with sizes {list(x.shape)} and grid with sizes {list(grid.shape)}"
    if x.ndim and grid.ndim and x.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, "
                           f"but got {sizes}")
    if not grid.ndim or grid.shape[-1] != x.ndim - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {x.ndim - 2} in last "
                           f"dimension, but got grid with sizes {list(grid.shape)}")
    for d in range(2, x.ndim):
        if x.shape[d] == 0:
            raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial "
                               f"dimensions, but input has sizes {list(x.shape)} with dimension "
                               f"{d} being empty")
    if x.ndim == 4 and grid.ndim != 4:
        raise RuntimeError(f"grid_sampler(): expected 4D input and grid with same number of "
                           f"dimensions, but got {sizes}")


def _node(out):
    """``out`` as PyTorch's one node: its derivative, ``grid_sampler_2d_backward(grad, input,
    grid, ...)``, requires grad when the input does, and differentiates to None for it."""
    return link(out, "GridSampler2DBackward0", unused=True)


def _read(flat, ix, iy, h, w, c, ho, wo, weight):
    """``flat`` (N, C, H*W) at integer pixels (ix, iy) (N, Ho, Wo), 0 outside the image, times
    ``weight`` (N, Ho, Wo) if given."""
    n = flat.shape[0]
    inside = (ix >= 0) & (ix <= w - 1) & (iy >= 0) & (iy <= h - 1)
    index = np.where(inside, iy * w + ix, 0).astype(np.int64).reshape(n, 1, ho * wo)
    values = O.reshape(flat.gather(2, _like(flat, np.broadcast_to(index, (n, c, ho * wo))
                                            .copy())), (n, c, ho, wo))
    # (a tap outside reads 0 and passes no gradient, not even a NaN weight's: PyTorch's masks)
    values = where(_like(flat, inside[:, None]), values, 0.0)
    return values if weight is None else values * O.unsqueeze(weight, 1)
