"""Batching rule of ``F.grid_sample``: the examples join one of the op's own dims, so one call
samples the whole batch (the composition it would otherwise run on batched tensors reads the
grid's values, which a batched tensor refuses).

The images of the examples (B, N, C, H, W) with their grids (B, N, Ho, Wo, 2) join the images'
batch (B*N); grids alone join the output's height (N, B*Ho, Wo), so the image is not copied B
times; images alone join the channels (N, B*C), which every grid samples alike."""

import inspect

from .. import ops
from ..ops.record import as_tensor
from .batched import RULES, BatchedTensor, _unwrap, dispatch


def _sample(raw, x, grid, options):
    return dispatch("grid_sample", raw, (x, grid), options)  # (x, grid: outer levels' values)


def _rule_grid_sample(level, name, raw, args, kwargs):
    try:
        p = inspect.signature(raw).bind(*args, **kwargs).arguments
    except TypeError:
        return NotImplemented  # the loop raises the call's own error
    x, grid = as_tensor(p.pop("input")), as_tensor(p.pop("grid"))
    if x.ndim != 4 or grid.ndim != 4 or grid.shape[-1] != 2 or grid.shape[0] != x.shape[0] \
            or 0 in x.shape[2:]:
        return raw(x, grid, **p)  # (its checks raise PyTorch's error before reading a value)
    (px, bx), (pg, bg) = _unwrap(level, x), _unwrap(level, grid)
    n, c, h, w = x.shape
    ho, wo = grid.shape[1:3]
    b = (px if bx else pg).shape[0]
    if bx and bg:
        out = _sample(raw, ops.reshape(px, (b * n, c, h, w)),
                      ops.reshape(pg, (b * n, ho, wo, 2)), p)
        out = ops.reshape(out, (b, n, c, ho, wo))
    elif bg:
        rows = ops.reshape(ops.permute(pg, (1, 0, 2, 3, 4)), (n, b * ho, wo, 2))
        out = ops.reshape(_sample(raw, px, rows, p), (n, c, b, ho, wo))
        out = ops.permute(out, (2, 0, 1, 3, 4))
    else:
        channels = ops.reshape(ops.permute(px, (1, 0, 2, 3, 4)), (n, b * c, h, w))
        out = ops.reshape(_sample(raw, channels, pg, p), (n, b, c, ho, wo))
        out = ops.permute(out, (1, 0, 2, 3, 4))
    return BatchedTensor(out, level)


RULES["grid_sample"] = _rule_grid_sample
