"""``rsqrt`` as eager composes it (``ops/extra.rsqrt``): ``1.0 / sqrt(x)`` of a floating
tensor, an ``rdivc`` over a ``sqrt`` node (their VJPs give every order of gradient)."""

from ..tensor import Tensor
from .ir import Unsupported


def rsqrt(tr, name, a, result):
    x = a["input"]
    if not isinstance(x, Tensor) or x.dtype.kind != "f" or not isinstance(result, Tensor):
        raise Unsupported(f"{name} of an integer or complex tensor")
    tr.out(result, tr.e("rdivc", (tr.e("sqrt", (tr.v(x),)),), c=1.0), name)


HANDLERS = {"rsqrt": rsqrt}
