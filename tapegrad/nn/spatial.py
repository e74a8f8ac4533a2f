"""Rearranging and padding (N, C, *spatial) input, with PyTorch's API: ``pixel_shuffle``,
``pixel_unshuffle``, ``channel_shuffle``, ``unfold`` (im2col) and ``fold`` (its adjoint),
channel dropout (``dropout1d/2d/3d``), and their layers with the padding layers
(``ZeroPad*d``, ``ConstantPad*d``, ``ReflectionPad*d``, ``ReplicationPad*d``, ``CircularPad*d``).

All are compositions: reshapes and permutations, strided windows (``Tensor.unfold``), an
``index_add`` for ``fold``, a constant mask for dropout; derivatives of every order come from
those ops.
"""

import warnings

import numpy as np

from .. import creation
from .. import ops as O
from ..ops.activations import real_input
from ..ops.node_names import name_inputs
from ..ops.record import as_tensor
from .convolution import _tuple
from .inplace_option import in_place_capable
from .module import Module

__all__ = ["pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "unfold", "fold",
           "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]


def pixel_shuffle(input, upscale_factor):
    """(*, C·r², H, W) -> (*, C, H·r, W·r)."""
    x, r = as_tensor(input), int(upscale_factor)
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    if x.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {x.ndim} dimension(s)")
    *lead, c, h, w = x.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    k = len(lead)
    y = O.reshape(x, (*lead, c // (r * r), r, r, h, w))
    y = O.permute(y, (*range(k), k, k + 3, k + 1, k + 4, k + 2))
    return O.reshape(y, (*lead, c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H·r, W·r) -> (*, C·r², H, W)."""
    x, r = as_tensor(input), int(downscale_factor)
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    if x.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {x.ndim} dimension(s)")
    *lead, c, h, w = x.shape
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects {'height' if h % r else 'width'} to be "
                           f"divisible by downscale_factor, but input.size("
                           f"{-2 if h % r else -1})={h if h % r else w} is not divisible by {r}")
    k = len(lead)
    y = O.reshape(x, (*lead, c, h // r, r, w // r, r))
    y = O.permute(y, (*range(k), k, k + 2, k + 4, k + 1, k + 3))
    return O.reshape(y, (*lead, c * r * r, h // r, w // r))


def channel_shuffle(input, groups):
    """(N, C, *) with C = g·m -> the channels read as (m, g) instead of (g, m)."""
    x, g = as_tensor(input), int(groups)
    if g <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{g}")
    if x.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(x.shape)}")
    n, c, *rest = x.shape
    if c % g:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {g} groups.")
    y = O.transpose(O.reshape(x, (n, g, c // g, *rest)), 1, 2)
    return O.reshape(y, (n, c, *rest))


def _tuple2(v, name):
    return _tuple(v, 2, name)


def _blocks(spatial, kernel, dilation, padding, stride):
    """Positions per dim of the sliding blocks of ``unfold``/``fold``."""
    return [(s + 2 * p - d * (k - 1) - 1) // st + 1
            for s, k, d, p, st in zip(spatial, kernel, dilation, padding, stride)]


def _check_window(k, d, p, s):
    """PyTorch's checks of unfold's and fold's window parameters."""
    for name, key, (a, b), ok, rule in (
            ("kernel size", "kernel", k, min(k) > 0, "greater than zero"),
            ("dilation", "dilation", d, min(d) > 0, "greater than zero"),
            ("padding", "pad", p, min(p) >= 0, "non-negative"),
            ("stride", "stride", s, min(s) > 0, "greater than zero")):
        if not ok:
            raise RuntimeError(f"{name} should be {rule}, but got {key}_height: {a} "
                               f"{key}_width: {b}")


def _check_rank(x, low, words):
    """PyTorch's im2col/col2im input check: ``low`` or ``low + 1`` dims, only a batch dim of
    size 0 (im2col reads ``size(1)`` and ``size(2)`` first, failing on fewer dims)."""
    for dim in (1, 2) if low == 3 else ():
        if not x.ndim:
            raise IndexError("Dimension specified as 1 but tensor has no dimensions")
        if x.ndim <= dim:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-x.ndim}, {x.ndim - 1}], but got {dim})")
        if not x.shape[dim]:  # (``size(1) != 0 && size(2) != 0``)
            break
    if x.ndim not in (low, low + 1) or 0 in x.shape[x.ndim > low:]:
        raise RuntimeError(f"{words}, but got: {list(x.shape)}")


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks of (N, C, H, W) (or (C, H, W)) as columns: (N, C·kh·kw, L), channels
    outermost, then the kernel's rows and columns; blocks in row-major order."""
    x = x0 = as_tensor(input)
    k, d = _tuple2(kernel_size, "kernel_size"), _tuple2(dilation, "dilation")
    p, s = _tuple2(padding, "padding"), _tuple2(stride, "stride")
    _check_window(k, d, p, s)
    _check_rank(x, 3, "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and "
                "other non-zero dimensions for input")
    batched = x.ndim == 4
    if not batched:
        x = O.unsqueeze(x, 0)
    blocks = _blocks(x.shape[2:], k, d, p, s)
    if min(blocks) < 1:
        raise RuntimeError(f"Given input with spatial size {tuple(x.shape[2:])}, kernel_size={k}"
                           f", dilation={d}, padding={p}, calculated shape of the array of "
                           f"sliding blocks as {tuple(blocks)}, but its components must be at "
                           "least one.")
    from .functional import pad  # (functional imports this module)

    if p[0] or p[1]:
        x = pad(x, (p[1], p[1], p[0], p[0]))
    span = [di * (ki - 1) + 1 for ki, di in zip(k, d)]
    w = x.unfold(2, span[0], s[0]).unfold(3, span[1], s[1])  # (N, C, oh, ow, span_h, span_w)
    w = w[..., :: d[0], :: d[1]]
    n, c = x.shape[:2]
    cols = O.reshape(O.permute(w, (0, 1, 4, 5, 2, 3)), (n, c * k[0] * k[1], blocks[0] * blocks[1]))
    return name_inputs(cols if batched else O.squeeze(cols, 0), "Im2ColBackward0", x0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The adjoint of ``unfold``: columns (N, C·kh·kw, L) summed into (N, C, H, W) where their
    blocks overlap."""
    x = x0 = as_tensor(input)
    size, k = _tuple2(output_size, "output_size"), _tuple2(kernel_size, "kernel_size")
    d, p, s = _tuple2(dilation, "dilation"), _tuple2(padding, "padding"), _tuple2(stride, "stride")
    _check_window(k, d, p, s)
    _check_rank(x, 2, "Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch "
                "size and non-zero dimensions for input")
    batched = x.ndim == 3
    if not batched:
        x = O.unsqueeze(x, 0)
    n, ck, length = x.shape
    if ck % (k[0] * k[1]):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={ck} and kernel_size={k}.")
    blocks = _blocks(size, k, d, p, s)
    if blocks[0] * blocks[1] != length:
        raise RuntimeError(f"Given output_size={size}, kernel_size={k}, dilation={d}, padding="
                           f"{p}, stride={s}, expected size of input's dimension 2 to match the "
                           f"calculated number of sliding blocks {blocks[0]} * {blocks[1]} = "
                           f"{blocks[0] * blocks[1]}, but got input.size(2)={length}.")
    c = ck // (k[0] * k[1])
    hp, wp = size[0] + 2 * p[0], size[1] + 2 * p[1]
    # flat position in the padded output of each (kernel row, kernel col, block row, block col)
    rows = (np.arange(k[0]) * d[0])[:, None, None, None] + \
        (np.arange(blocks[0]) * s[0])[None, None, :, None]
    cols = (np.arange(k[1]) * d[1])[None, :, None, None] + \
        (np.arange(blocks[1]) * s[1])[None, None, None, :]
    index = (rows * wp + cols).reshape(-1)
    flat = O.reshape(x, (n, c, k[0] * k[1] * length))
    out = creation.zeros((n, c, hp * wp), dtype=x.dtype, device=x.device)
    out = O.reshape(out.index_add(2, creation.tensor(index), flat), (n, c, hp, wp))
    out = out[:, :, p[0] : p[0] + size[0], p[1] : p[1] + size[1]]
    return name_inputs(out if batched else O.squeeze(out, 0), "Col2ImBackward0", x0)


def _feature_dropout(x, p, training):
    """Zero whole (N, C) channels of ``x`` (dims 0 and 1) with probability ``p``."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return x
    if x.ndim < 2 and x.numel() and p < 1.0:  # (PyTorch zeroes any input for p = 1)
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if p < 1.0 and x.numel():  # (PyTorch draws no mask for p = 1 or an empty input)
        real_input(x, "dropout")
    lead = tuple(x.shape[:2])
    keep = creation.draws().random(lead) >= p
    scale = (keep / (1.0 - p) if p < 1.0 else keep * 0.0).astype(x.dtype)
    return x * creation.tensor(scale.reshape(lead + (1,) * (x.ndim - 2)))


def _deprecated_rank(name, ndim, nd):
    warnings.warn(f"{name}: Received a {ndim}-D input to {name}, which is deprecated and will "
                  "result in an error in a future release. To retain the behavior and silence "
                  f"this warning, please use dropout instead. Note that {name} exists to provide "
                  f"channel-wise dropout on inputs with {nd} spatial dimensions, a channel "
                  f"dimension, and an optional batch dimension (i.e. {nd + 1}D or {nd + 2}D "
                  "inputs).", stacklevel=3)


def _unbatched_first(x, batched, f):
    """``f`` of ``x`` with a batch dim added first unless ``batched`` (removed after)."""
    if batched:
        return f(x)
    return O.squeeze(f(O.unsqueeze(x, 0)), 0)


@in_place_capable
def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) input with probability ``p``."""
    x = as_tensor(input)
    if x.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {x.ndim}D "
                           "input. Note that dropout1d exists to provide channel-wise dropout on "
                           "inputs with 1 spatial dimension, a channel dimension, and an optional "
                           "batch dimension (i.e. 2D or 3D inputs).")
    return _unbatched_first(x, x.ndim == 3, lambda t: _feature_dropout(t, p, training))


@in_place_capable
def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) input with probability ``p``; as PyTorch, any other
    rank is read as (N, C, ...) (with its warnings: 3-D input is (N, C, L))."""
    x = as_tensor(input)
    if x.ndim not in (3, 4):
        _deprecated_rank("dropout2d", x.ndim, 2)
    if x.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. This behavior will change in a future release "
                      "to interpret the input as one without a batch dimension, i.e. shape (C, H, "
                      "W). To maintain the 1D channel-wise dropout behavior, please switch to "
                      "using dropout1d instead.", stacklevel=2)
    return _feature_dropout(x, p, training)


@in_place_capable
def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) input (any rank but 5: one sample) with
    probability ``p``."""
    x = as_tensor(input)
    if x.ndim not in (4, 5):
        _deprecated_rank("dropout3d", x.ndim, 3)
    return _unbatched_first(x, x.ndim == 5, lambda t: _feature_dropout(t, p, training))


_SELU_NEG = 1.7580993408473766  # -(SELU's value at -inf): what a dropped unit becomes


def _alpha_dropout(x, p, training, feature):
    """PyTorch's alpha dropout: dropped units (whole channels when ``feature``) are set to
    SELU's negative saturation and an affine map keeps the mean and variance."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if p == 0.0 or not training or x.numel() == 0:
        return x
    if p == 1.0:
        return x * 0.0
    real_input(x, "dropout")
    shape = tuple(x.shape[:2]) + (1,) * (x.ndim - 2) if feature else tuple(x.shape)
    keep = (creation.draws().random(shape) >= p).astype(x.dtype)
    a = 1.0 / np.sqrt((_SELU_NEG * _SELU_NEG * p + 1) * (1 - p))
    b = (keep - 1.0) * (_SELU_NEG * a) + _SELU_NEG * a * p
    return x * creation.tensor((keep * a).astype(x.dtype)) + creation.tensor(b.astype(x.dtype))


@in_place_capable
def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: zero-mean, unit-variance inputs stay so (training only)."""
    return _alpha_dropout(as_tensor(input), p, training, False)


@in_place_capable
def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """``alpha_dropout`` of whole channels (dims 0 and 1)."""
    return _alpha_dropout(as_tensor(input), p, training, True)


# ---- layers -------------------------------------------------------------------------------

class _Padding(Module):
    _nd, _mode = None, None

    def __init__(self, padding, value=None):
        super().__init__()
        n = 2 * self._nd  # (a tuple of another even length pads that many dims, as F.pad)
        self.padding = (int(padding),) * n if isinstance(padding, (int, np.integer)) else \
            tuple(int(a) for a in padding)
        self.value = value

    def forward(self, input):
        from .functional import pad

        if self._mode == "constant":
            return pad(input, self.padding, "constant", self.value)
        return pad(input, self.padding, self._mode)

    def extra_repr(self):
        if self._mode == "constant" and not type(self).__name__.startswith("Zero"):
            return f"padding={self.padding}, value={self.value}"
        return f"{self.padding}"


def _padding_class(name, nd, mode):
    if mode == "constant" and not name.startswith("Zero"):
        def __init__(self, padding, value):
            _Padding.__init__(self, padding, value)
    elif mode == "constant":
        def __init__(self, padding):
            _Padding.__init__(self, padding, 0.0)
    else:
        def __init__(self, padding):
            _Padding.__init__(self, padding)
    return type(name, (_Padding,), {"_nd": nd, "_mode": mode, "__init__": __init__,
                                    "__doc__": f"``F.pad`` of the last {nd} dims, '{mode}'.",
                                    "__module__": __name__})


PADDING_LAYERS = {}
for _nd in (1, 2, 3):
    for _name, _mode in (("ZeroPad", "constant"), ("ConstantPad", "constant"),
                         ("ReflectionPad", "reflect"), ("ReplicationPad", "replicate"),
                         ("CircularPad", "circular")):
        PADDING_LAYERS[f"{_name}{_nd}d"] = _padding_class(f"{_name}{_nd}d", _nd, _mode)


class PixelShuffle(Module):
    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"


class Unfold(Module):
    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = (kernel_size, dilation,
                                                                      padding, stride)

    def forward(self, input):
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Unfold):
    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__(kernel_size, dilation, padding, stride)
        self.output_size = output_size

    def forward(self, input):
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                    self.stride)

    def extra_repr(self):
        return f"output_size={self.output_size}, " + super().extra_repr()


class _DropoutNd(Module):
    """The dropout layers (PyTorch's base of that name): ``p`` checked, ``_f`` the function."""

    _f = None

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return type(self)._f(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_DropoutNd):
    _f = staticmethod(dropout1d)


class Dropout2d(_DropoutNd):
    _f = staticmethod(dropout2d)


class Dropout3d(_DropoutNd):
    _f = staticmethod(dropout3d)


class AlphaDropout(_DropoutNd):
    _f = staticmethod(alpha_dropout)


class FeatureAlphaDropout(_DropoutNd):
    _f = staticmethod(feature_alpha_dropout)
