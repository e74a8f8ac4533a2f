"""The transposed convolution as one op (``ConvolutionBackward0`` with ``transposed=True`` in
PyTorch): its value is the input gradient of the convolution it transposes (``W^T @ x``, then
col2im), so no work goes to the zeros a stride spreads between the input's elements.

``conv_transpose(x, w, bias, stride, pads, dilation, groups, size)``: x (N, Cin, *in), w
(Cin, Cout/groups, *kernel) (the weight of that convolution, which maps (N, Cout, *size) to
(N, Cin, *in)), ``pads`` the convolution's ``(before, after)`` padding per dim.

Derivatives (bilinear, like the convolution's):

* in x: the convolution of the output gradient with ``w``;
* in w: the convolution's weight gradient, with the output gradient as its input and ``x`` as
  its output gradient; the bias: the output gradient summed over the batch and the positions;
* the tensor-level rule states both with the convolution op and its tensor-level rule, so
  every higher order follows from those.
"""

import numpy as np

from . import record as R
from .convolution import _conv_vjp, _conv_vjp_np, conv_np, convolution, input_grad_np
from ..registry import Op, defop
from ..tensor import _make


def conv_transpose_np(x, w, stride, pads, dilation, groups, size):
    return input_grad_np(x, w, (x.shape[0], w.shape[1] * groups) + tuple(size), stride, pads,
                         dilation, groups)


def _bias_view(b, nd):
    return b.reshape((1, -1) + (1,) * nd)


def _vjp_np(g, inputs, out, stride, pads, dilation, groups, size, needs):
    x, w = inputs[:2]
    g = np.asarray(g, np.result_type(x, w)).reshape((x.shape[0], w.shape[1] * groups) +
                                                    tuple(size))
    gx = conv_np(g, w, stride, pads, dilation, groups) if needs[0] else None
    gw = _conv_vjp_np(x, (g, w), None, stride, pads, dilation, groups, (False, True))[1] \
        if needs[1] else None
    grads = (gx, gw)
    if len(inputs) == 3:
        grads += (g.sum((0,) + tuple(range(2, g.ndim))) if needs[2] else None,)
    return grads


def _vjp(g, inputs, out, stride, pads, dilation, groups, size, needs):
    from .movement import sum as sum_

    x, w = inputs[:2]
    gx = convolution(g, w, None, stride, pads, dilation, groups) if needs[0] else None
    gw = _conv_vjp(x, (g, w), None, stride, pads, dilation, groups, (False, True))[1] \
        if needs[1] else None
    grads = (gx, gw)
    if len(inputs) == 3:
        grads += (sum_(g, (0,) + tuple(range(2, g.ndim))) if needs[2] else None,)
    return grads


def _jvp_np(tangents, inputs, out, stride, pads, dilation, groups, size, needs):
    x, w = inputs[:2]
    tx, tw = tangents[:2]
    res = 0.0
    if tx is not None:
        k = tx.shape[0]
        y = conv_transpose_np(tx.reshape((-1,) + x.shape[1:]).astype(w.dtype, copy=False), w,
                              stride, pads, dilation, groups, size)
        res = res + y.reshape((k, -1) + y.shape[1:])
    if tw is not None:
        res = res + np.stack([conv_transpose_np(x, t.astype(x.dtype, copy=False), stride, pads,
                                                dilation, groups, size) for t in tw])
    if len(tangents) == 3 and tangents[2] is not None:
        tb = tangents[2]
        res = res + tb.reshape(tb.shape + (1,) * (x.ndim - 2))[:, None]
    return res


defop(Op.CONV_TRANSPOSE, "conv_transpose", "python", "ConvolutionBackward0", vjp=_vjp,
      vjp_np=_vjp_np, jvp_np=_jvp_np)


def conv_transpose(x, w, bias, stride, pads, dilation, groups, size):
    """The transposed convolution of CPU float tensors (validated by the caller), plus
    ``bias`` unless None, recorded as one op when any requires grad."""
    xd, wd = x._data, w._data
    bd = None if bias is None else bias._data
    dtype = np.result_type(xd, wd) if bd is None else np.result_type(xd, wd, bd)
    value = conv_transpose_np(xd.astype(dtype, copy=False), wd.astype(dtype, copy=False),
                              stride, pads, dilation, groups, size)
    if bd is not None:
        value += _bias_view(bd.astype(dtype, copy=False), len(size))
    inputs = (x, w) if bias is None else (x, w, bias)
    if not any(R.needs_grad(t) for t in inputs):
        return _make(value)
    params = {"stride": tuple(stride), "pads": tuple(tuple(p) for p in pads),
              "dilation": tuple(dilation), "groups": groups, "size": tuple(size),
              "needs": tuple(t._rg for t in inputs)}
    return R.python_result(value, Op.CONV_TRANSPOSE, inputs, save_inputs=(0, 1), params=params)
