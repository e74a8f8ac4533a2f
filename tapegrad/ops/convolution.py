"""Convolution as one op: im2col and a matrix product forward, two matrix products and a
col2im backward (``ConvolutionBackward0``), as PyTorch's CPU convolution does.

``convolution(x, w, bias, stride, pads, dilation, groups)`` takes an input (N, C, *spatial), a
weight (O, C/groups, *kernel) and a bias (O,) or None, and returns (N, O, *out);
``pads[i] = (before, after)`` zeros around spatial dim i. The windows of the padded input are
copied into columns (``(C, *kernel, N, *out)``, a Numba kernel) and contracted with the weight
by BLAS, a chunk of the batch at a time so that the columns stay within ``_CHUNK_ELEMENTS``. The backward recomputes the columns
from the saved input (PyTorch saves the input too, not the K-times-larger columns).

Derivatives (``y = W * x``, bilinear):

* ``dW = g @ cols^T`` summed over the batch; ``dx = col2im(W^T @ g)``, the columns' gradients
  added back into the input positions they were copied from; ``db = g`` summed over the batch
  and the output positions;
* the tensor-level rule (``create_graph``) states the same maps with tapegrad ops: the padded
  input's windows are a strided gather, their adjoint a strided scatter, the contractions
  einsums, so every higher order is that of those ops;
* the JVP is ``conv(dx, W) + conv(x, dW) + db``.

CPU float arrays only: CUDA tensors, complex values and vmap's batched tensors take the
composition of ops in ``nn/convolution.py``.
"""

import math

import numpy as np

from . import record as R
from .shapes import c_strides
from ..tensor import _make
from ..registry import Op, defop

_CHUNK_ELEMENTS = 1 << 17  # column elements per batch chunk (1 MB in float64: the columns a
# chunk writes are still in the L2 cache when its matrix product reads them; 16 MB chunks made a
# (64, 3, 32, 32) input's forward + backward 17.5 ms instead of 13.8)


def out_sizes(spatial, kernel, stride, pads, dilation):
    """Output size per spatial dim of a convolution of ``spatial`` (unpadded) sizes."""
    return tuple((n + a + b - d * (k - 1) - 1) // s + 1
                 for n, k, s, (a, b), d in zip(spatial, kernel, stride, pads, dilation))


def _padded(x, pads):
    if not any(a or b for a, b in pads):
        return np.ascontiguousarray(x)
    # zeros and one copy: np.pad's Python takes ~3x as long on a batch of small images
    xp = np.zeros(x.shape[:2] + tuple(n + a + b for n, (a, b) in zip(x.shape[2:], pads)),
                  x.dtype)
    xp[(slice(None), slice(None)) + tuple(slice(a, a + n) for n, (a, _) in
                                          zip(x.shape[2:], pads))] = x
    return xp


_kernels = None  # ops/_window_kernels.py, loaded (with Numba) by the first convolution


def _three(t, fill=1):
    """``t`` (per spatial dim) with leading ``fill`` entries: the kernels see three dims."""
    return (fill,) * (3 - len(t)) + tuple(t)


def window_kernels():
    """``ops/_window_kernels.py`` (importing it loads Numba: done at the first use)."""
    global _kernels
    if _kernels is None:
        from . import _window_kernels as _kernels
    return _kernels


def max_positions(x, kernel, stride, dilation, pads, out):
    """Per window of the array ``x`` (N, C, *spatial; ``pads`` as ``(before, after)`` per dim,
    windows of ``kernel`` every ``stride``), the flat index of its maximum within its plane, as
    PyTorch's max pooling returns it (``return_indices``), shaped (N, C, *out)."""
    n, c = x.shape[:2]
    where = np.empty((n, c) + tuple(out), np.int64)
    if len(out) == 2 and tuple(kernel) == tuple(stride) == (2, 2) and tuple(dilation) == (1, 1) \
            and not any(a for a, _ in pads) and 2 * out[0] <= x.shape[2] and \
            2 * out[1] <= x.shape[3]:  # every 2x2 window inside x
        window_kernels().max_positions_2x2(np.ascontiguousarray(x), where)
        return where
    window_kernels().max_positions(
        np.ascontiguousarray(x).reshape((n, c) + _three(x.shape[2:])),
        where.reshape((n, c) + _three(out)), _three(stride), _three(dilation),
        _three([a for a, _ in pads], 0), _three(kernel))
    return where


def empty_windows(where, spatial, kernel, stride, dilation, pads):
    """Windows of a dilated max pool that hold padding only (``max_positions`` leaves -1
    there): PyTorch's loop gives them the value -inf and the index of its first tap moved
    past the padding, ``(z0 * H + y0) * W + u0``, which may lie outside the plane. Returns
    ``where`` with those indices and the mask of such windows (None when there are none: only
    a dilated window can miss the input)."""
    if max(dilation) == 1 or where.min(initial=0) >= 0:
        return where, None
    nd = len(spatial)
    empty = where < 0
    starts = [np.arange(where.shape[2 + i]) * stride[i] - pads[i][0] for i in range(nd)]
    # PyTorch's ``while (start < 0) start += dilation``
    firsts = [np.where(s < 0, s + (-s + dilation[i] - 1) // dilation[i] * dilation[i], s)
              for i, s in enumerate(starts)]
    flat = np.zeros(where.shape[2:], np.int64)
    for i in range(nd):
        shape = [1] * nd
        shape[i] = -1
        flat = flat * spatial[i] + firsts[i].reshape(shape)
    where = where.copy()
    where[empty] = np.broadcast_to(flat, where.shape)[empty]
    return where, empty


def padding_windows(values, where, empty, plane):
    """Max pool ``values`` gathered at ``where`` with -inf in the ``empty`` windows, whose
    gradient goes to the element at their index when it lies in the plane (PyTorch's backward
    scatters there), and nowhere else."""
    from .elementwise import where as select

    minus_inf = np.where(empty, -np.inf, 0.0).astype(values.dtype)
    return select(_make(where >= plane), _make(np.array(-np.inf, values.dtype)),
                  values + _make(minus_inf))


def _cols(xp, kernel, out, stride, dilation):
    """Columns ``(C, *kernel, n, *out)`` of the padded input chunk ``xp`` (n, C, *spatial)."""
    n, c = xp.shape[:2]
    # (the kernel is compiled for writeable C-contiguous arrays: a read-only tangent or a
    # broadcast view is copied first rather than compiled for again or refused)
    xp = np.require(xp, requirements=("C", "W"))
    cols = np.empty((c,) + tuple(kernel) + (n,) + tuple(out), xp.dtype)
    window_kernels().windows(xp.reshape((n, c) + _three(xp.shape[2:])),
                     cols.reshape((c,) + _three(kernel) + (n,) + _three(out)),
                     _three(stride), _three(dilation), False)
    return cols


def _col2im(dcols, dxp, kernel, out, stride, dilation):
    """Add the column gradients ``dcols`` (laid out as ``_cols``) into ``dxp``, in place."""
    n, c = dxp.shape[:2]
    window_kernels().windows(dxp.reshape((n, c) + _three(dxp.shape[2:])),
                     dcols.reshape((c,) + _three(kernel) + (n,) + _three(out)),
                     _three(stride), _three(dilation), True)


def _chunks(n, per_item):
    """Batch slices whose columns (``per_item`` elements each) stay within the chunk size."""
    step = max(1, _CHUNK_ELEMENTS // max(per_item, 1))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


def _geometry(x, w, stride, pads, dilation):
    """(kernel, out, per-group column height C/groups * prod(kernel), prod(out))."""
    kernel = tuple(w.shape[2:])
    out = out_sizes(x.shape[2:], kernel, stride, pads, dilation)
    return kernel, out, w.shape[1] * math.prod(kernel), math.prod(out)


def conv_np(x, w, stride, pads, dilation, groups, bias=None):
    """The convolution of arrays ``x`` and ``w`` of one float dtype: per batch chunk, the
    weight times its columns, one matrix product per group; ``bias`` (O,) is added as the
    products are laid out (one pass, not two)."""
    N, C, n_out = x.shape[0], x.shape[1], w.shape[0]
    kernel, out, ck, L = _geometry(x, w, stride, pads, dilation)
    G, og = groups, n_out // groups
    wm = w.reshape(G, og, ck)
    y = np.empty((N, G, og, L), np.result_type(x, w))
    xp = _padded(x, pads)
    for b in _chunks(N, C * math.prod(kernel) * L):
        nb = b.stop - b.start
        cols = _cols(xp[b], kernel, out, stride, dilation).reshape(G, ck, nb, L)
        # one product per (sample, group), written where y holds it: BLAS reads each sample's
        # columns in place (rows nb L apart); one product of all the chunk's columns then a
        # transposing copy into y took ~1.7x as long (16 28x28 images by 8 5x5 filters)
        np.matmul(wm, cols.transpose(2, 0, 1, 3), out=y[b])
        if bias is not None:
            y[b] += bias.reshape(1, G, og, 1)
    return y.reshape((N, n_out) + out)


def _conv_vjp_np(g, inputs, out_value, stride, pads, dilation, groups, needs=(True, True)):
    """``dW = g @ cols^T`` over the batch, ``dx = col2im(W^T @ g)``, a batch chunk at a time;
    a bias (third input) gets ``g`` summed over the batch and the output positions."""
    x, w = inputs[:2]
    N, C, n_out = x.shape[0], x.shape[1], w.shape[0]
    kernel, out, ck, L = _geometry(x, w, stride, pads, dilation)
    G, og = groups, n_out // groups
    dtype = np.result_type(g, x, w)
    g4 = np.asarray(g, dtype).reshape(N, G, og, L)
    dw = None
    if needs[1]:
        xp = _padded(x.astype(dtype, copy=False), pads)
        dw = np.zeros((G, og, ck), dtype)
        per_sample = og * ck <= _PER_SAMPLE_DW  # (see below)
        for b in _chunks(N, C * math.prod(kernel) * L):
            nb = b.stop - b.start
            cols = _cols(xp[b], kernel, out, stride, dilation).reshape(G, ck, nb, L)
            if per_sample:  # one small product per (sample, group), then their sum: BLAS's
                # one product over all positions (a long inner dimension for a small weight)
                # took 2.5-3x as long for MNIST's first layers (16 3x3 or 8 5x5 filters)
                dw += np.matmul(g4[b], cols.transpose(2, 0, 3, 1)).sum(0)
            else:
                dw += np.matmul(_grouped(g4, b), np.swapaxes(cols.reshape(G, ck, nb * L), 1, 2))
        dw = dw.reshape(w.shape)
    dx = input_grad_np(g4, w.astype(dtype, copy=False), x.shape, stride, pads, dilation,
                       groups) if needs[0] else None
    if len(inputs) == 2:
        return dx, dw
    return dx, dw, (g4.sum((0, 3)).reshape(n_out) if needs[2] else None)


def input_grad_np(g, w, in_shape, stride, pads, dilation, groups):
    """The gradient of a convolution's input of shape ``in_shape`` from the gradient ``g`` of
    its output: ``col2im(W^T @ g)`` a batch chunk at a time (also the transposed convolution
    of ``g``)."""
    N, C, n_out = in_shape[0], in_shape[1], w.shape[0]
    kernel = tuple(w.shape[2:])
    out = out_sizes(in_shape[2:], kernel, stride, pads, dilation)
    ck, L = w.shape[1] * math.prod(kernel), math.prod(out)
    G, og = groups, n_out // groups
    g4 = np.asarray(g).reshape(N, G, og, L)
    wm = w.reshape(G, og, ck)
    dxp = np.zeros((N, C) + tuple(n + a + b for n, (a, b) in zip(in_shape[2:], pads)),
                   g4.dtype)
    for b in _chunks(N, C * math.prod(kernel) * L):
        dcols = np.matmul(np.swapaxes(wm, 1, 2), _grouped(g4, b))  # (G, ck, nb L)
        _col2im(dcols, dxp[b], kernel, out, stride, dilation)
    crop = (slice(None), slice(None)) + tuple(slice(a, a + n) for (a, _), n in
                                              zip(pads, in_shape[2:]))
    return dxp[crop] if dxp.shape != tuple(in_shape) else dxp


_PER_SAMPLE_DW = 2048  # weight elements per group (filters x column height) up to which dW
# is a product per sample (BLAS's one long product was as quick from ~4600: a (32, 16, 3, 3)
# weight; 1.35x quicker at (128, 128, 3, 3) on 7x7 images)


def _grouped(g4, b):
    """The gradient of batch chunk ``b`` as (G, O/G, n L): one row per filter."""
    nb = b.stop - b.start
    G, og, L = g4.shape[1:]
    return np.ascontiguousarray(g4[b].transpose(1, 2, 0, 3)).reshape(G, og, nb * L)


def _conv_jvp_np(tangents, inputs, out_value, stride, pads, dilation, groups,
                 needs=(True, True)):
    """``conv(dx, W) + conv(x, dW) (+ db)`` for k tangent directions (a leading dim)."""
    x, w = inputs[:2]
    tx, tw = tangents[:2]
    res = 0.0
    if tx is not None:
        k = tx.shape[0]
        y = conv_np(tx.reshape((-1,) + x.shape[1:]).astype(w.dtype, copy=False), w, stride,
                    pads, dilation, groups)
        res = res + y.reshape((k, -1) + y.shape[1:])
    if tw is not None:
        res = res + np.stack([conv_np(x, t.astype(x.dtype, copy=False), stride, pads,
                                      dilation, groups) for t in tw])
    if len(tangents) == 3 and tangents[2] is not None:
        tb = tangents[2]
        res = res + tb.reshape(tb.shape + (1,) * (x.ndim - 2))[:, None]
    return res


def _conv_vjp(g, inputs, out_value, stride, pads, dilation, groups, needs=(True, True)):
    """The same VJP in tapegrad ops (re-taping): the padded input and its windows as strided
    maps, the contractions as einsums."""
    from .linalg import einsum
    from .movement import gather_strided, reshape, scatter_strided, sum as sum_

    x, w = inputs[:2]
    N, C = x.shape[:2]
    n_out = w.shape[0]
    nd = x.ndim - 2
    kernel, out, _, _ = _geometry(x, w, stride, pads, dilation)
    padded = (N, C) + tuple(n + a + b for n, (a, b) in zip(x.shape[2:], pads))
    ps = c_strides(padded)
    size = math.prod(padded)
    # x inside its padding: x's element i sits at offset + i . strides of the padded array
    offset = sum(a * s for (a, _), s in zip(pads, ps[2:]))
    win_shape = (N, C) + out + tuple(kernel)
    win_strides = ps[:2] + tuple(s * p for s, p in zip(stride, ps[2:])) + \
        tuple(d * p for d, p in zip(dilation, ps[2:]))
    sp, kp = "hwd"[:nd], "ijk"[:nd]
    Cg, Og = C // groups, n_out // groups
    gg = reshape(g, (N, groups, Og) + out)
    dx = dw = None
    if needs[1]:
        xp = scatter_strided(x, x.shape, ps, offset, size)
        win = reshape(gather_strided(xp, win_shape, win_strides, 0),
                      (N, groups, Cg) + out + tuple(kernel))
        dw = reshape(einsum(f"ngo{sp},ngc{sp}{kp}->goc{kp}", gg, win), w.shape)
    if needs[0]:
        wg = reshape(w, (groups, Og, Cg) + tuple(kernel))
        dwin = reshape(einsum(f"ngo{sp},goc{kp}->ngc{sp}{kp}", gg, wg), win_shape)
        dxp = scatter_strided(dwin, win_shape, win_strides, 0, size)
        dx = reshape(gather_strided(dxp, x.shape, ps, offset), x.shape)
    if len(inputs) == 2:
        return dx, dw
    return dx, dw, (sum_(g, (0,) + tuple(range(2, 2 + nd))) if needs[2] else None)


defop(Op.CONVOLUTION, "convolution", "python", "ConvolutionBackward0", vjp=_conv_vjp,
      vjp_np=_conv_vjp_np, jvp_np=_conv_jvp_np)


def convolution(x, w, bias, stride, pads, dilation, groups):
    """The convolution of CPU float tensors ``x`` (N, C, *spatial) and ``w`` (validated by
    the caller), plus ``bias`` (O,) unless None, recorded as one op when any requires grad."""
    xd, wd = x._data, w._data
    bd = None if bias is None else bias._data
    dtype = np.result_type(xd, wd) if bd is None else np.result_type(xd, wd, bd)
    value = conv_np(xd.astype(dtype, copy=False), wd.astype(dtype, copy=False), stride, pads,
                    dilation, groups, None if bd is None else bd.astype(dtype, copy=False))
    inputs = (x, w) if bias is None else (x, w, bias)
    if not R.needs_grad(x, w) and not (bias is not None and R.needs_grad(bias)):
        return _make(value)
    params = {"stride": tuple(stride), "pads": tuple(tuple(p) for p in pads),
              "dilation": tuple(dilation), "groups": groups,
              "needs": tuple(t._rg for t in inputs)}
    return R.python_result(value, Op.CONVOLUTION, inputs, save_inputs=(0, 1), params=params)
