"""The op library: importing this package registers every op and binds Tensor methods."""

import builtins

import numpy as np

from ..tensor import Tensor, _make
from . import (activations, backward_ops, bce, compare, complex, conv_transpose, convolution,
               elementwise, extra, fft, index_add_checks, index_put_nodes, inplace, join, layout, linalg,
               linalg_decomp, linalg_spectral, movement, pointwise_losses, reduce)
from .compare import eq, ge, gt, le, logical_and, logical_not, logical_or, lt, ne
from .elementwise import (abs, add, clamp, cos, div, exp, expm1, log, log1p, maximum, minimum,
                          mul, neg, pow, relu, sigmoid, sign, sin, sqrt, sub, tan, tanh, where)
from .join import cat, chunk, concat, concatenate, split, stack, unbind
from .linalg import bmm, diagonal, dot, einsum, matmul, mm, mv, outer, trace
from .movement import (expand, flatten, flip, getitem, permute, ravel, reshape,
                       squeeze, transpose, unsqueeze)
from .view_dtype import view
from .reduce import (amax, amin, argmax, argmin, log_softmax, logsumexp, max, mean, min, norm,
                     prod, softmax, std, sum, var)
from .cumulative import cumprod, cumsum
from .extra import (acos, acosh, allclose, argsort, asin, asinh, atan, atan2, atanh,
                    broadcast_shapes, cosh, erf, erfc, gather, index_add, index_select, isclose,
                    isfinite, isinf, isnan, kthvalue, log2, log10, logcumsumexp, masked_fill,
                    median,
                    nan_to_num, repeat, repeat_interleave, rsqrt, scatter, scatter_add, sinh,
                    sort, square, take_along_dim, topk, xlogy)
from .complex import angle, conj, imag, real
from .complex import complex as complex_  # tapegrad.complex(real, imag), as torch.complex
from ..registry import REGISTRY, Op
from .keywords import numpy_keywords

# ops with a dim/keepdim argument also take NumPy's axis/keepdims (as PyTorch's do)
(sum, mean, prod, max, min, amax, amin, argmax, argmin, var, std, norm, logsumexp, softmax,
 log_softmax, cumsum, median, kthvalue, logcumsumexp, sort, argsort, topk, squeeze, unsqueeze,
 cat, concat, concatenate, stack, split, chunk, unbind) = [
    numpy_keywords(f) for f in (
        sum, mean, prod, max, min, amax, amin, argmax, argmin, var, std, norm, logsumexp,
        softmax, log_softmax, cumsum, median, kthvalue, logcumsumexp, sort, argsort, topk,
        squeeze, unsqueeze, cat, concat, concatenate, stack, split, chunk, unbind)]


def broadcast_to(input, size):
    """``torch.broadcast_to``: a new view (``ExpandBackward0``), to ``input``'s own shape too
    (``movement.broadcast_to``, for the ops, returns ``input`` itself then)."""
    t = movement.broadcast_to(input, size)
    if t is input:
        return permute(input, tuple(range(input.ndim)), _name="ExpandBackward0")
    return movement.name_view(t, input, "ExpandBackward0")


def _rule_where(cond, a, b):
    """``where`` in derivative formulas: a Python-bool condition (on constants) just picks."""
    if isinstance(cond, (bool, np.bool_)):
        pick, other = (a, b) if cond else (b, a)
        if isinstance(pick, Tensor):
            return pick
        # a constant branch is a constant (no 0 * other: an inf/nan in other must not leak)
        shape = other.shape if isinstance(other, Tensor) else ()
        return _make(np.full(shape, float(pick)) if shape else float(pick))
    return where(cond, a, b)


def rule_namespace():
    """Names a derivative formula may use, bound to tapegrad ops (re-taping)."""
    return dict(exp=exp, log=log, sin=sin, cos=cos, tan=tan, tanh=tanh, sqrt=sqrt, sign=sign,
                where=_rule_where, log1p=log1p, expm1=expm1, sigmoid=sigmoid, erf=erf)


def _named_pow(op):
    # (the op itself in the closure: the module's name ``pow`` is rebound to vmap's wrapper)
    def pow(input, exponent):
        """``pow`` with PyTorch's names for its arguments, ``x.pow(exponent=2)``, as ``tg.pow``
        and ``Tensor.pow`` (``x ** y`` calls the op itself: the operator pays no extra call)."""
        return op(input, exponent)

    return pow


_pow_named = _named_pow(pow)


def _rev(f):
    return lambda self, other: f(other, self)


def _contains(self, element):
    """``element in t``: whether any element equals it (PyTorch's ``(t == element).any()``)."""
    if not isinstance(element, (Tensor, int, float, builtins.complex, np.number, np.bool_)):
        raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you "
                           f"passed in a {type(element)}.")
    return bool(np.any((eq(element, self) if isinstance(element, Tensor) else
                        eq(self, element))._arr()))


def _bitwise_inplace(f):
    def method(self, other):
        return inplace.apply(self, f, other)

    method.__name__ = f.__name__ + "_"
    return method


def _bind_tensor_methods():
    T = Tensor
    for name, f in dict(
        __add__=add, __sub__=sub, __mul__=mul, __truediv__=div, __pow__=pow, __matmul__=matmul,
        __radd__=_rev(add), __rsub__=_rev(sub), __rmul__=_rev(mul), __rtruediv__=_rev(div),
        __rpow__=_rev(pow), __rmatmul__=_rev(matmul), __neg__=neg, __abs__=abs,
        __getitem__=getitem, __lt__=lt, __le__=le, __gt__=gt, __ge__=ge, __eq__=eq, __ne__=ne,
        __and__=compare.bitwise_and, __or__=compare.bitwise_or, __invert__=compare.invert,
        __rand__=_rev(compare.bitwise_and), __ror__=_rev(compare.bitwise_or),
        __xor__=compare.bitwise_xor, __rxor__=_rev(compare.bitwise_xor),
        __lshift__=compare.bitwise_left_shift, __rlshift__=_rev(compare.bitwise_left_shift),
        __rshift__=compare.bitwise_right_shift, __rrshift__=_rev(compare.bitwise_right_shift),
        bitwise_and=compare.bitwise_and, bitwise_or=compare.bitwise_or,
        bitwise_xor=compare.bitwise_xor, bitwise_not=compare.bitwise_not,
        bitwise_left_shift=compare.bitwise_left_shift,
        bitwise_right_shift=compare.bitwise_right_shift, logical_and=logical_and,
        logical_or=logical_or, logical_not=logical_not,
        add=add, sub=sub, mul=mul, div=div, pow=_pow_named, matmul=matmul, dot=dot, outer=outer,
        neg=neg, exp=exp, log=log, log1p=log1p, expm1=expm1, sin=sin, cos=cos, tan=tan,
        tanh=tanh, sigmoid=sigmoid, relu=relu, sqrt=sqrt, abs=abs, sign=sign, clamp=clamp,
        maximum=maximum, minimum=minimum, sum=sum, mean=mean, argmax=argmax, argmin=argmin,
        reshape=reshape, view=view, flatten=flatten, ravel=ravel, squeeze=squeeze, unsqueeze=unsqueeze,
        permute=permute, transpose=transpose, t=movement.t, expand=expand, flip=flip,
        broadcast_to=broadcast_to, eq=eq, ne=ne, lt=lt, le=le, gt=gt, ge=ge,
        prod=prod, max=max, min=min, amax=amax, amin=amin, var=var, std=std, norm=norm,
        logsumexp=logsumexp, softmax=softmax, log_softmax=log_softmax, cumsum=cumsum,
        split=split, chunk=chunk, unbind=unbind, mm=mm, bmm=bmm, mv=mv, trace=trace,
        diagonal=diagonal,
        atan=atan, asin=asin, acos=acos, sinh=sinh, cosh=cosh, asinh=asinh, acosh=acosh,
        atanh=atanh, arctan=atan, arcsin=asin, arccos=acos, atan2=atan2, arctan2=atan2,
        square=square, rsqrt=rsqrt, erf=erf, erfc=erfc, xlogy=xlogy, masked_fill=masked_fill,
        gather=gather, scatter=scatter, scatter_add=scatter_add, index_select=index_select,
        take_along_dim=take_along_dim, repeat=repeat, repeat_interleave=repeat_interleave,
        isnan=isnan, isinf=isinf, isfinite=isfinite, nan_to_num=nan_to_num,
        allclose=allclose, isclose=isclose, topk=topk, sort=sort, argsort=argsort,
        median=median, logcumsumexp=logcumsumexp, kthvalue=kthvalue,
    ).items():
        setattr(T, name, f)
    from .scalar_fast import METHODS

    for name, f in METHODS.items():  # Python-float fast path in front of the generic ops
        setattr(T, name, f)
    T.__pos__ = lambda self: self
    T.__contains__ = _contains
    T.conj = conj
    T.conj_physical = conj
    T.angle = angle
    T.is_complex = lambda self: self.dtype.kind == "c"
    T.real = property(real)
    T.imag = property(imag)
    T.T = property(movement.T)
    T.mT = property(lambda self: transpose(self, -2, -1))
    T.mH = property(lambda self: conj(transpose(self, -2, -1)))  # the conjugate transpose
    T.adjoint = lambda self: conj(transpose(self, -2, -1))
    for name, f in inplace.METHODS.items():  # add_, zero_, fill_, +=, __setitem__ ...
        setattr(T, name, f)
    T.__setitem__ = index_put_nodes.setitem  # (x[index] = v: PyTorch's IndexPutBackward0)
    for name in ("and", "or", "xor", "left_shift", "right_shift"):  # x ^= y, x.bitwise_or_(y)
        method = _bitwise_inplace(getattr(compare, "bitwise_" + name))
        setattr(T, f"bitwise_{name}_", method)
        setattr(T, "__i" + {"left_shift": "lshift", "right_shift": "rshift"}.get(name, name)
                + "__", method)
    T.bitwise_not_ = lambda self: inplace.apply(self, compare.bitwise_not)
    T.logical_not_ = lambda self: inplace.apply(self, logical_not, casting="unsafe")
    T.index_add = lambda self, dim, index, source, *, alpha=1: index_add(
        self, dim, *index_add_checks.tensor_args("index_add", 2, index=index, source=source),
        alpha=alpha)

    def index_add_(self, dim, index, source, *, alpha=1):  # (its name: for the device error)
        return inplace.apply(
            self, lambda a, s: index_add(a, dim, index, s, alpha=alpha),
            *index_add_checks.tensor_args("index_add_", 2, index=index, source=source)[1:],
            casting="unsafe")

    T.index_add_ = index_add_
    E = elementwise
    T.clone = E.clone
    T.to = E.to
    T.cpu = lambda self: E.to(self, device="cpu")
    T.cuda = lambda self, device=None, non_blocking=False: E.to(
        self, device="cuda" if device is None else device)
    T.contiguous = E.contiguous
    T.is_contiguous = layout.is_contiguous
    T.stride = layout.stride
    T.unfold = layout.unfold
    T.double = lambda self: E.to(self, np.float64)
    T.float = lambda self: E.to(self, np.float32)
    T.half = lambda self: E.to(self, np.float16)
    T.long = lambda self: E.to(self, np.int64)
    T.int = lambda self: E.to(self, np.int32)
    T.short = lambda self: E.to(self, np.int16)
    T.char = lambda self: E.to(self, np.int8)
    T.byte = lambda self: E.to(self, np.uint8)
    T.bool = lambda self: E.to(self, np.bool_)
    T.type = lambda self, dtype=None: str(self.dtype) if dtype is None else E.to(self, dtype)
    def data_ptr(self):
        if self.is_cuda:  # (cuda_views imports the device kernels: CUDA tensors only)
            from .cuda_views import data_ptr as device_ptr

            return device_ptr(self)
        return self._arr().__array_interface__["data"][0]

    T.data_ptr = data_ptr
    T.element_size = lambda self: self.dtype.itemsize
    T.nelement = T.numel


_bind_tensor_methods()
