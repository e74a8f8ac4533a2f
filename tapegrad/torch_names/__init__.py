"""PyTorch's everyday tensor functions under their torch names and signatures (``tg.floor``,
``tg.roll(x, shifts, dims)``, ``tg.tensordot(a, b, dims)``, ``tg.det``, ``tg.unique``, ...)
and as Tensor methods.

The implementations live in the NumPy-dispatch compositions, ``tapegrad.linalg`` and the op
library; these modules give them PyTorch's argument names (``dim``/``keepdim``), dtype rules,
results and error messages. Differentiable ones are compositions of ops, so every order of
derivative comes from those ops; index-valued ones (``nonzero``, ``unique``, ``searchsorted``,
...) return tensors without history, as PyTorch does.
"""

from .. import ops as _ops
from ..ops.cuda_linalg import on_host
from ..ops.keywords import numpy_keywords
from ..tensor import Tensor as _Tensor
from . import (add_alpha, construct, elementwise, incomplete_gamma, index_reductions, indices,
               lapack_factors, linalg_more, lowrank, methods, more, numerics, products,
               reductions, shapes, spectral, storage, view_copies)

_MODULES = (elementwise, reductions, shapes, products, numerics, indices, more, linalg_more,
            construct, view_copies, index_reductions, incomplete_gamma, spectral, lowrank,
            lapack_factors)

# names that are already tapegrad ops, under the extra names PyTorch also uses
ALIASES = dict(arccos=_ops.acos, arcsin=_ops.asin, arctan=_ops.atan, arccosh=_ops.acosh,
               arcsinh=_ops.asinh, arctanh=_ops.atanh, arctan2=_ops.atan2, greater=_ops.gt,
               greater_equal=_ops.ge, less=_ops.lt, less_equal=_ops.le, not_equal=_ops.ne,
               div=elementwise.divide, subtract=add_alpha.sub, bitwise_and=_ops.compare.bitwise_and,
               bitwise_or=_ops.compare.bitwise_or, bitwise_xor=_ops.compare.bitwise_xor,
               bitwise_not=_ops.compare.bitwise_not,
               bitwise_left_shift=_ops.compare.bitwise_left_shift,
               bitwise_right_shift=_ops.compare.bitwise_right_shift)

FUNCTIONS = {name: getattr(m, name) for m in _MODULES for name in m.__all__}
FUNCTIONS.update(ALIASES)


def _takes_dim(f):
    code = getattr(f, "__code__", None)
    if code is None or getattr(f, "raw", None) is not None:  # not plain, or wrapped already
        return False
    names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    return "dim" in names or "keepdim" in names


# NumPy's axis=/keepdims= wherever dim=/keepdim= go, as for the op library's reductions
FUNCTIONS = {name: numpy_keywords(f) if _takes_dim(f) else f for name, f in FUNCTIONS.items()}

# functions without a device path that read values on the host (index results, sampling,
# statistics, special functions): CUDA tensors take a differentiable round trip through the
# host (``ops/cuda_linalg.on_host``, as the linear-algebra decompositions do), so they give the
# CPU's values and gradients; their methods and in-place forms (``x.fmod_()``) too. The wrapper
# costs ~0.2 us a CPU call, so the cheapest elementwise ones (signbit, isposinf, isneginf:
# ~2 us) are left out: on CUDA they name themselves in their NotImplementedError (round, floor,
# trunc, ceil, fix and frac have a device kernel, ops/cuda_ops.rounded)
THROUGH_HOST = (
    "multinomial nonzero argwhere unique unique_consecutive masked_select bincount histc "
    "searchsorted bucketize equal quantile nanquantile nanmedian mode cummax cummin fmod "
    "remainder floor_divide lgamma digamma erfinv logit sinc logaddexp logaddexp2 heaviside "
    "nextafter polygamma scatter_reduce index_fill logical_xor igamma igammac").split()
# compositions of ops (and host draws) without a device path yet: the same round trip on CUDA,
# while tg.compile traces into them as into any composition (nansum, take: compiled)
TRACED_ON_HOST = ("copysign fmax fmin nansum nanmean take index_put index_copy masked_scatter "
                  "bernoulli poisson gcd lcm logdet normal").split()
# the binary elementwise ones among them take a 0-d CPU tensor with CUDA tensors, as PyTorch's
SCALARS_ON_HOST = set(("fmod remainder floor_divide logaddexp logaddexp2 heaviside nextafter "
                       "logical_xor igamma igammac copysign fmax fmin gcd lcm").split())
FUNCTIONS.update({name: on_host(FUNCTIONS[name], scalars=name in SCALARS_ON_HOST)
                  for name in THROUGH_HOST})
FUNCTIONS.update({name: on_host(FUNCTIONS[name], traced=True, scalars=name in SCALARS_ON_HOST)
                  for name in TRACED_ON_HOST})
__all__ = sorted(FUNCTIONS)

methods.bind(FUNCTIONS)
globals().update(FUNCTIONS)
_Tensor.untyped_storage, _Tensor.storage = storage.untyped_storage, storage.storage
_Tensor.add, _Tensor.sub = add_alpha.add, add_alpha.sub  # (alpha=, other=)


def _bind_linalg_names():
    """``torch.linalg``'s names for functions defined here (``tg.linalg`` is a lower layer)."""
    from .. import linalg

    def cross(input, other, *, dim=-1):
        """The cross product of 3-vectors along ``dim`` (the last by default)."""
        return products.cross(input, other, dim)

    def vecdot(x, y, *, dim=-1):
        """``sum(conj(x) * y, dim)``, broadcasting (floating or complex tensors, as PyTorch's)."""
        for t in (x, y):
            if t.dtype.kind not in "fc":
                from ..ops.linalg_decomp import not_float_error

                raise not_float_error("vecdot", t.dtype)
        x = _ops.conj(x) if x.dtype.kind == "c" else x
        return _ops.sum(x * y, dim)

    def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
        """The diagonals of the matrices in the last two dims (a view, as ``tg.diagonal``)."""
        return _ops.diagonal(A, offset, dim1, dim2)

    for f in (cross, vecdot, diagonal, linalg_more.vander, linalg_more.tensorinv,
              linalg_more.tensorsolve, linalg_more.householder_product,
              lapack_factors.ldl_factor, lapack_factors.ldl_factor_ex, lapack_factors.ldl_solve):
        f.__module__ = linalg.__name__
        setattr(linalg, f.__name__, f)
    linalg.matmul = _ops.matmul


_bind_linalg_names()
