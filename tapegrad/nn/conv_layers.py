"""Convolution and pooling modules over ``nn/convolution.py``'s functions."""



from . import convolution as C
from . import functional as F
from . import init
from . import pool_extras as P
from .linear import weight_and_bias
from .module import Module, _size


class _ConvNd(Module):
    """PyTorch's ``Conv*d``: weight (out, in / groups, *kernel) from kaiming-uniform with
    ``a=sqrt(5)``, bias from U(±1/sqrt(fan_in)); ``padding_mode`` as ``F.pad``'s modes."""

    _nd = None
    _transposed = False  # (the transposed ones' weight is (in, out / groups, *kernel))

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        nd = self._nd
        if in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"padding_mode must be one of ['zeros', 'reflect', 'replicate', "
                             f"'circular'], but got padding_mode='{padding_mode}'")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = C._tuple(kernel_size, nd, "kernel_size")
        self.stride, self.dilation = C._tuple(stride, nd, "stride"), C._tuple(dilation, nd,
                                                                             "dilation")
        if isinstance(padding, str):  # (PyTorch checks a padding string when the layer is made)
            if padding not in ("valid", "same"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        self.padding = padding if isinstance(padding, str) else C._tuple(padding, nd, "padding")
        self.padding_mode = padding_mode
        shape = (in_channels, out_channels // groups) if self._transposed else \
            (out_channels, in_channels // groups)
        weight_and_bias(self, shape + self.kernel_size, bias, dtype, device, out_channels)

    def reset_parameters(self):
        init._default_layer_init(self.weight, self.bias)

    def forward(self, input):
        if self.padding_mode == "zeros":
            return C._conv(self._nd, input, self.weight, self.bias, self.stride, self.padding,
                           self.dilation, self.groups)
        if isinstance(self.padding, str):  # 'same' (stride 1) or 'valid'
            totals = [d * (k - 1) if self.padding == "same" else 0
                      for d, k in zip(self.dilation, self.kernel_size)]
            pads = [(t // 2, t - t // 2) for t in totals]
        else:
            pads = [(p, p) for p in self.padding]
        flat = [a for before, after in reversed(pads) for a in (before, after)]
        x = F.pad(input, flat, mode=self.padding_mode)
        return C._conv(self._nd, x, self.weight, self.bias, self.stride, 0, self.dilation,
                       self.groups)

    def extra_repr(self):
        """PyTorch's: the settings that differ from their defaults."""
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, " \
            f"stride={self.stride}"
        nd = len(self.kernel_size)
        if self.padding != (0,) * nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * nd:
            s += f", dilation={self.dilation}"
        if getattr(self, "output_padding", (0,) * nd) != (0,) * nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    _nd = 1


class Conv2d(_ConvNd):
    _nd = 2


class Conv3d(_ConvNd):
    _nd = 3


class _ConvTransposeNd(_ConvNd):
    """PyTorch's ``ConvTranspose*d``: weight (in, out / groups, *kernel), initialised as the
    convolutions' (fan-in read off dim 1, as PyTorch reads it); ``forward(input,
    output_size)`` may ask for any of the output sizes ``output_padding`` can reach."""

    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)
        self.output_padding = C._tuple(output_padding, self._nd, "output_padding")

    def forward(self, input, output_size=None):
        pad = self.output_padding
        if output_size is not None:
            pad = self._output_padding(input, output_size)
        return C._conv_transpose(self._nd, input, self.weight, self.bias, self.stride,
                                 self.padding, pad, self.groups, self.dilation)

    def _output_padding(self, input, size):
        """The output padding that makes the output ``size`` (its spatial dims, or all of the
        output's), with PyTorch's checks and words."""
        leading = input.ndim - self._nd
        if len(size) == leading + self._nd:
            size = size[leading:]
        if len(size) != self._nd:
            raise ValueError(f"ConvTranspose{self._nd}D: for {input.ndim}D input, output_size "
                             f"must have {self._nd} or {leading + self._nd} elements (got "
                             f"{len(size)})")
        spatial = list(input.shape[-self._nd:])
        low = [(n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in
               zip(spatial, self.stride, self.padding, self.dilation, self.kernel_size)]
        high = [m + s - 1 for m, s in zip(low, self.stride)]
        if any(not lo <= o <= hi for o, lo, hi in zip(size, low, high)):
            raise ValueError(f"requested an output size of {size}, but valid sizes range from "
                             f"{low} to {high} (for an input of {_size(input.shape[2:])})")
        return tuple(o - lo for o, lo in zip(size, low))


class ConvTranspose1d(_ConvTransposeNd):
    _nd = 1


class ConvTranspose2d(_ConvTransposeNd):
    _nd = 2


class ConvTranspose3d(_ConvTransposeNd):
    _nd = 3


class _Pool(Module):
    """PyTorch's pooling layers: ``stride`` defaults to the kernel size (as shown)."""

    _fn, _shown = None, ()

    def __init__(self, kernel_size, stride=None, padding=0, **options):
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = stride if stride is not None else kernel_size
        self.options = options

    def forward(self, input):
        return type(self)._fn(input, self.kernel_size, self.stride, self.padding, **self.options)

    def extra_repr(self):
        shown = "".join(f", {k}={self.options[k]}" for k in self._shown)
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}" + \
            shown


class _MaxPool(_Pool):
    _shown = ("dilation", "ceil_mode")

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__(kernel_size, stride, padding, dilation=dilation,
                         return_indices=return_indices, ceil_mode=ceil_mode)


class MaxPool1d(_MaxPool):
    _fn = staticmethod(C.max_pool1d)


class MaxPool2d(_MaxPool):
    _fn = staticmethod(C.max_pool2d)


class MaxPool3d(_MaxPool):
    _fn = staticmethod(C.max_pool3d)


class _AvgPoolNd(_Pool):
    """The average pooling layers (PyTorch's base of that name)."""


class AvgPool1d(_AvgPoolNd):
    _fn = staticmethod(C.avg_pool1d)

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        one = C._tuple  # (PyTorch keeps AvgPool1d's sizes as 1-tuples)
        super().__init__(one(kernel_size, 1, "kernel_size"),
                         one(stride if stride is not None else kernel_size, 1, "stride"),
                         one(padding, 1, "padding"), ceil_mode=ceil_mode,
                         count_include_pad=count_include_pad)


class AvgPool2d(_AvgPoolNd):
    _fn = staticmethod(C.avg_pool2d)

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__(kernel_size, stride, padding, ceil_mode=ceil_mode,
                         count_include_pad=count_include_pad, divisor_override=divisor_override)


class AvgPool3d(AvgPool2d):
    _fn = staticmethod(C.avg_pool3d)


class _Adaptive(Module):
    _fn = None

    def __init__(self, output_size, **options):
        super().__init__()
        self.output_size, self.options = output_size, options

    def forward(self, input):
        return type(self)._fn(input, self.output_size, **self.options)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class _AdaptiveAvgPoolNd(_Adaptive):
    """The adaptive average pooling layers (PyTorch's base of that name)."""


class _AdaptiveMaxPoolNd(_Adaptive):
    """The adaptive max pooling layers (PyTorch's base of that name)."""


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    _fn = staticmethod(C.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    _fn = staticmethod(C.adaptive_avg_pool2d)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    _fn = staticmethod(C.adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    _fn = staticmethod(C.adaptive_max_pool2d)


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    _fn = staticmethod(C.adaptive_avg_pool3d)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    _fn = staticmethod(C.adaptive_max_pool3d)


class _LPPool(Module):
    _fn = None

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type, self.kernel_size, self.stride = norm_type, kernel_size, stride
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return type(self)._fn(input, float(self.norm_type), self.kernel_size, self.stride,
                              self.ceil_mode)

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPool):
    _fn = staticmethod(P.lp_pool1d)


class LPPool2d(_LPPool):
    _fn = staticmethod(P.lp_pool2d)


class LPPool3d(_LPPool):
    _fn = staticmethod(P.lp_pool3d)


class LocalResponseNorm(Module):
    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return P.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class _MaxUnpool(Module):
    _fn, _nd = None, 0

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        nd = self._nd
        self.kernel_size = C._tuple(kernel_size, nd, "kernel_size")
        self.stride = C._tuple(stride if stride is not None else kernel_size, nd, "stride")
        self.padding = C._tuple(padding, nd, "padding")

    def forward(self, input, indices, output_size=None):
        return type(self)._fn(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpool):
    _fn, _nd = staticmethod(P.max_unpool1d), 1


class MaxUnpool2d(_MaxUnpool):
    _fn, _nd = staticmethod(P.max_unpool2d), 2


class MaxUnpool3d(_MaxUnpool):
    _fn, _nd = staticmethod(P.max_unpool3d), 3
