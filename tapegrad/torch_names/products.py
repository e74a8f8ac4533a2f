"""Products, triangles and diagonals, and the top-level linear-algebra names of PyTorch
(``torch.det``, ``torch.svd``, ...), built on ``tapegrad.linalg`` and the NumPy-dispatch
compositions."""

from collections import namedtuple
import math

import numpy as np

from .. import linalg as _LA
from .._bounded_cache import bounded_cache
from .. import tape
from .. import ops as _ops
from ..numpy_dispatch import composites as _C
from ..ops import record as _R
from ..ops.activations import fusable_array
from ..ops.one_op import untracked as _untracked
from ..grad_mode import no_grad as _no_grad
from ..ops.linalg_decomp import not_float_error
from ..ops.node_names import name_record
from ..ops.product_dtypes import (addmm_dtype_error, addmv_dtype_error, baddbmm_dtype_error,
                                  mixes_kinds, product_dtype_error)
from ..creation import get_default_dtype
from ..ops.shapes import bool_kernel_error, matmul_error, norm_dim, torch_dtype_name
from ..ops.broadcast_shapes import infer_size
from ..registry import Op
from ..tensor import _make
from ._common import _t, const, dims_of, vals

SvdResult = namedtuple("svd", ["U", "S", "V"])


# ---- products ----------------------------------------------------------------------------------

def tensordot(a, b, dims=2):
    """Contract the last ``dims`` dims of ``a`` with the first of ``b``, or the dims listed in
    ``dims = (dims_a, dims_b)``."""
    if isinstance(dims, int) and dims < 0:
        raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
    if not isinstance(dims, int):
        if hasattr(dims, "_data"):
            dims = vals(dims).tolist()
        if len(dims) != 2:
            raise RuntimeError("tensordot expects dims to be a pair of dims lists")
        dims = (dims_of(dims[0]), dims_of(dims[1]))
    a, b = _t(a), _t(b)
    da, db = (range(-dims, 0), range(dims)) if isinstance(dims, int) else dims
    for i, j in zip(da, db):  # (PyTorch names the dims as given)
        if -a.ndim <= i < a.ndim and -b.ndim <= j < b.ndim and a.shape[i] != b.shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[i]} in dim {i} and second has size {b.shape[j]} in "
                               f"dim {j}")
    if mixes_kinds(a.dtype, b.dtype):
        raise RuntimeError("both inputs should have same dtype")
    if a.dtype == b.dtype == np.bool_ and a.ndim and b.ndim:
        _refuse_bool_dot([s for k, s in enumerate(a.shape) if k not in {i % a.ndim for i in da}],
                         [s for k, s in enumerate(b.shape) if k not in {j % b.ndim for j in db}])
    try:
        return _C.tensordot(a, b, dims)
    except ValueError:
        raise RuntimeError("contracted dimensions need to match, but first has size "
                           "different from second") from None


def inner(input, other):
    """The sum of products over the last dims (a product when one is 0-d)."""
    a, b = _t(input), _t(other)
    if a.ndim and b.ndim and a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(a.shape)} and {list(b.shape)}")
    if a.ndim == b.ndim == 1:  # (PyTorch's dot then: its bool refusal names it)
        return _ops.dot(a, b)
    if a.ndim and b.ndim and mixes_kinds(a.dtype, b.dtype):
        raise RuntimeError("both inputs should have same dtype")
    if a.dtype == b.dtype == np.bool_ and a.ndim and b.ndim:
        _refuse_bool_dot(a.shape[:-1], b.shape[:-1])
    return _C.inner(a, b)


def _refuse_bool_dot(free_a, free_b):
    """PyTorch's tensordot (and inner, through it) of bool operands whose free dims hold one
    element each computes one dot product: its refusal names dot, not mm's kernel."""
    if math.prod(free_a) == 1 and math.prod(free_b) == 1:
        raise bool_kernel_error("dot")


def vdot(input, other):
    """The dot product of two 1-D tensors (the first conjugated when complex)."""
    a, b = _t(input), _t(other)
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape != b.shape:  # (checked before the dtypes, as PyTorch's dot does)
        raise matmul_error(a.shape, b.shape)
    if a.dtype == np.bool_ and b.dtype == np.bool_:
        raise bool_kernel_error("dot")  # (PyTorch's dot kernel)
    if (err := product_dtype_error(a._arr(), b._arr())) is not None:
        raise err
    return _C.vdot(a, b)


def kron(input, other):
    """The Kronecker product."""
    return _C.kron(_t(input), _t(other))


def cross(input, other, dim=None):
    """The cross product of 3-vectors along ``dim`` (the first dim of size 3 when None)."""
    a, b = _t(input), _t(other)
    if a.ndim != b.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if dim is None:
        dim = next((k for k in range(a.ndim) if a.shape[k] == 3 and b.shape[k] == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    d = norm_dim(dim, a.ndim)
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{a.shape[d]} and {b.shape[d]}")
    if a.dtype.kind == "b" and b.dtype.kind == "b":  # (no bool kernel in PyTorch)
        raise NotImplementedError('"cross" not implemented for \'Bool\'')
    shape = infer_size(a.shape, b.shape)
    a, b = _ops.broadcast_to(a, shape), _ops.broadcast_to(b, shape)
    return _C.cross(a, b, axis=d)


def _expands(shape, to):
    """Whether ``shape`` expands to ``to`` (plain tuple work: np.broadcast_shapes costs more
    than the small product it would guard)."""
    k = len(to) - len(shape)
    return k >= 0 and all(d == 1 or d == t for d, t in zip(shape, to[k:]))


def _scaled(beta, input, alpha, product):
    x = _t(input)
    if product.dtype.kind in "iu" and x.dtype.kind in "iub":  # PyTorch casts the scalars to
        beta, alpha = (_as_int(v, product) for v in (beta, alpha))  # the integer type
    p = product if alpha == 1 else product * alpha
    xs, ps = x.shape, p.shape
    if xs != ps[len(ps) - len(xs):] and not _expands(xs, ps):
        _ops.expand(x, ps)  # (raises PyTorch's error: input must expand to it)
    if beta == 0:  # input is ignored (NaN in it does not propagate), as PyTorch
        if not _R.needs_grad(x):
            return p
        # ... but still differentiated: a zero gradient (not None), as PyTorch's
        return _ops.where(const(np.zeros((), bool)), x, p)
    return (x if beta == 1 else x * beta) + p


def _bool_without_products(input, a, b, batched=False, summed=False):
    """PyTorch's result where the input and both factors are bool and no product is formed:
    an empty result, or an empty sum (no columns in ``a``; no batch for addbmm), which is only
    ``beta * input``; None otherwise (the product's own refusal then applies)."""
    x, a, b = _t(input), _t(a), _t(b)
    if not (x.dtype == a.dtype == b.dtype == np.bool_) or a.ndim != 2 + batched or \
            b.ndim != 2 + batched or a.shape[-1] != b.shape[-2] or a.shape[:-2] != b.shape[:-2]:
        return None
    shape = a.shape[1 if summed else 0:-1] + b.shape[-1:]
    if 0 in shape:
        return lambda beta: _ops.expand(x, shape).clone()
    if a.shape[-1] and not (summed and a.shape[0] == 0):
        return None

    def result(beta):
        _ops.expand(x, shape)  # (raises PyTorch's error where input does not expand)
        real = isinstance(beta, float) and not isinstance(beta, bool) and beta != 0
        if summed and a.shape[0] or real or not isinstance(beta, bool) and beta != 0:
            # beta * input as a number's dtype (or the batch's sum, as int64) into bool
            raise _cast_error("Bool", real)
        return _ops.expand(x if beta else const(np.zeros(x.shape, bool)), shape).clone()
    return result


def _cast_error(to, real=True):
    """PyTorch's error where ``beta * input`` of a number (a float: the default dtype; an
    int: Long) cannot be written back into an input of type ``to``."""
    name = torch_dtype_name(np.dtype(get_default_dtype())) if real else "Long"
    return RuntimeError(f"result type {name} can't be cast to the desired output type {to}")


def _check_int_without_products(beta, input, a, summed=False):
    """Integer input and factors with no product to form (``a`` of no columns; addbmm of an
    empty batch): PyTorch scales the input by a float ``beta`` other than 0 in the float type
    and cannot write it back (with products it truncates ``beta``: ``_scaled``)."""
    x, a = _t(input), _t(a)
    if isinstance(beta, float) and beta != 0 and x.dtype.kind in "iu" and \
            a.dtype.kind in "iu" and (a.shape[-1] == 0 or summed and a.shape[0] == 0):
        raise _cast_error(torch_dtype_name(x.dtype))


def _as_int(v, product):
    """A float scalar truncated to ``product``'s integer type, as PyTorch's; inf or NaN raise
    its overflow error (an empty result casts nothing: 0 stands in)."""
    if not isinstance(v, float):
        return v
    if math.isfinite(v):
        return int(v)
    if not product.numel():
        return 0
    raise RuntimeError(f"value cannot be converted to type {np.dtype(product.dtype).name}_t "
                       "without overflow")


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)``."""
    if (bools := _bool_without_products(input, mat1, mat2)) is not None:
        return bools(beta)
    if (err := addmm_dtype_error(_t(input).dtype, _t(mat1).dtype, _t(mat2).dtype)) is not None:
        raise err  # (PyTorch checks the dtypes first)
    product = _ops.mm(mat1, mat2)
    _check_int_without_products(beta, input, mat1)
    return _scaled(beta, input, alpha, product)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat @ vec)``."""
    x, m, v = _t(input), _t(mat), _t(vec)
    if m.ndim == 2 and v.ndim == 1 and x.ndim > 1 or \
            x.ndim == 1 and x.shape[0] not in (1, m.shape[0]):
        raise RuntimeError(f"size mismatch, got input ({', '.join(map(str, x.shape))}), mat "
                           f"({'x'.join(map(str, m.shape))}), vec ({v.shape[0]})"
                           if x.ndim == 1 else "vector + matrix @ vector expected, got "
                           f"{x.ndim}, {m.ndim}, {v.ndim}")
    if x.dtype == m.dtype == v.dtype == np.bool_ and m.ndim == 2 and v.ndim == 1 and \
            m.shape[1] == v.shape[0] and 0 in (m.shape[1], m.shape[0]):
        # no products (an empty sum or result): beta * input as bool, as PyTorch's
        keep = x if beta else const(np.zeros(x.shape, bool))
        return _ops.expand(keep, (m.shape[0],)).clone()
    if m.ndim == 2 and v.ndim == 1 and m.shape[1] == v.shape[0] and \
            (err := addmv_dtype_error(x.dtype, m.dtype, v.dtype)) is not None:
        raise err  # (after the sizes, in the input's, matrix's, vector's order)
    return _scaled(beta, x, alpha, _ops.mv(m, v))


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """``beta * input + alpha * outer(vec1, vec2)``."""
    for v, name in ((_t(vec1), "vec1"), (_t(vec2), "vec2")):
        if v.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {v.ndim}-D")
    x, a, b = _t(input), _t(vec1), _t(vec2)
    kind = np.result_type(x.dtype, a.dtype, b.dtype).kind
    for value, name in ((beta, "beta"), (alpha, "alpha")):  # (PyTorch's checks, in its order)
        if isinstance(value, bool) and kind != "b":
            raise RuntimeError(f"Boolean {name} only supported for Boolean results.")
        if isinstance(value, float) and kind in "iub":
            raise RuntimeError(f"For integral input tensors, argument {name} must not be a "
                               "floating point number.")
    if kind == "b":  # (all three bool) PyTorch's logical form
        outer = _ops.outer(a, b)
        kept = x if beta else const(np.zeros(x.shape, bool))
        return _ops.logical_or(_ops.expand(kept, outer.shape),
                               outer if alpha else const(np.zeros(outer.shape, bool)))
    return _scaled(beta, input, alpha, _ops.outer(vec1, vec2))


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * (batch1 @ batch2)`` for batches of matrices."""
    if (bools := _bool_without_products(input, batch1, batch2, True)) is not None:
        return bools(beta)
    x, b1, b2 = _t(input), _t(batch1), _t(batch2)
    if (err := baddbmm_dtype_error(x.dtype, b1.dtype, b2.dtype)) is not None:
        # PyTorch's order: input expands to the result, its dtype, the batches' shapes, theirs
        three = b1.ndim == b2.ndim == 3
        if three and b1.shape[0] == b2.shape[0] and b1.shape[2] == b2.shape[1] or \
                x.dtype != b1.dtype:
            if three:
                _ops.expand(x, b1.shape[:2] + b2.shape[2:])
            raise err
    try:
        product = _ops.bmm(batch1, batch2)
    except NotImplementedError as e:  # (bools: PyTorch's refusal names its baddbmm kernel)
        raise NotImplementedError(str(e).replace('"bmm"', '"baddbmm"')) from None
    _check_int_without_products(beta, input, batch1)
    return _scaled(beta, input, alpha, product)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * sum_i batch1[i] @ batch2[i]``."""
    if (bools := _bool_without_products(input, batch1, batch2, True, True)) is not None:
        return bools(beta)
    b1, b2 = _t(batch1), _t(batch2)
    if b1.ndim == b2.ndim == 3 and b1.shape[0] == b2.shape[0] and b1.shape[2] == b2.shape[1] \
            and (err := addmm_dtype_error(_t(input).dtype, b1.dtype, b2.dtype)) is not None:
        raise err  # (after bmm's sizes: PyTorch's addbmm is an addmm of the folded batch)
    try:
        product = _ops.bmm(batch1, batch2)
    except NotImplementedError as e:  # (bools: PyTorch's addbmm is an addmm of the folded batch)
        raise NotImplementedError(str(e).replace('"bmm"', '"addmm_impl_cpu_"')) from None
    _check_int_without_products(beta, input, batch1, summed=True)
    # (the sum in the product's type: small integers stay int8/uint8, as PyTorch's)
    return _scaled(beta, input, alpha, _ops.sum(product, 0, dtype=product.dtype))


def chain_matmul(*matrices):
    """The product of 2-D matrices in the cheapest order (``linalg.multi_dot``)."""
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    for m in matrices:
        if _t(m).ndim != 2:
            raise RuntimeError(f"Tensor dimension is {_t(m).ndim}, expected 2 instead.")
    if len(matrices) == 1:
        return _t(matrices[0]).clone()
    return _LA.multi_dot(list(matrices))


def dist(input, other, p=2):
    """The p-norm of ``input - other`` (broadcast)."""
    return _LA.vector_norm(_t(input) - other, p)


def cdist(x1, x2, p=2.0, compute_mode=None):
    """The p-norm distance between each row of ``x1`` and each row of ``x2``
    (``(..., P, M)`` and ``(..., R, M)`` give ``(..., P, R)``)."""
    a, b = _t(x1), _t(x2)
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if a.ndim < 2 or b.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {a.ndim}D")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{a.shape[-1]} X2: {b.shape[-1]}")
    mode = compute_mode or "use_mm_for_euclid_dist_if_necessary"
    if mode not in ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                    "donot_use_mm_for_euclid_dist"):
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    if p == 2 and (mode == "use_mm_for_euclid_dist" or mode.endswith("if_necessary") and (
            a.shape[-2] > 25 or b.shape[-2] > 25)):
        return _euclidean_dist(a, b)
    diff = _ops.unsqueeze(a, -2) - _ops.unsqueeze(b, -3)
    if p == math.inf:
        return max_abs_distance(diff)
    return _LA.vector_norm(diff, p, dim=-1)


def max_abs_distance(diff):
    """``amax(|diff|, -1)`` with the gradient of PyTorch's cdist/pdist for p = inf:
    ``sign(diff)`` at every coordinate that ties for the maximum (``amax`` and
    ``vector_norm`` share it among the ties instead), as the maximum (a constant) plus the
    tied coordinates' ``|diff| - |diff|`` (0 in value). With an inf or NaN distance (inf - inf
    is NaN) and on CUDA tensors: ``amax``'s shared gradient."""
    ad = _ops.abs(diff)
    if diff.shape[-1] == 0:  # (no columns: distances 0, as PyTorch's)
        return _ops.sum(ad, -1)
    if diff.is_cuda:
        return _ops.amax(ad, -1)
    top = np.max(vals(ad), -1, keepdims=True)
    if not np.isfinite(top).all():
        return _ops.amax(ad, -1)
    tied = const(vals(ad) == top)
    return const(top[..., 0]) + _ops.sum((ad - ad.detach()) * tied, -1)


def _euclidean_dist(a, b):
    """PyTorch's matrix-product form of the 2-norm distances (what it uses past 25 rows):
    ``|a|^2 + |b|^2 - 2 a.b`` in one product of padded rows, clamped at 0; the gradient is 0
    where a distance is 0, as PyTorch's."""
    na = _ops.sum(a * a, -1, keepdim=True)
    nb = _ops.sum(b * b, -1, keepdim=True)
    one_a, one_b = const(np.ones(na.shape, na.dtype)), const(np.ones(nb.shape, nb.dtype))
    left = _ops.cat([a * -2.0, na, one_a], -1)
    right = _ops.cat([b, one_b, nb], -1)
    sq = _ops.matmul(left, _ops.transpose(right, -1, -2))
    pos = sq > 0
    return _ops.where(pos, _ops.sqrt(_ops.where(pos, sq, 1.0)), 0.0)


# ---- triangles and diagonals ----------------------------------------------------------------

def _triangle(f, name):
    def fn(input, diagonal=0):
        x = _t(input)
        if x.ndim < 2:
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
        if x._inference and _untracked(x):  # (one op in PyTorch: records nothing)
            with _no_grad():
                return f(x, int(diagonal))
        # (where(mask, x, 0): PyTorch's node of x alone)
        return name_record(f(x, int(diagonal)), Op.WHERE, name.capitalize() + "Backward0",
                           pick=(0,))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"The {'lower' if name == 'tril' else 'upper'} triangle of the last two dims "
                  "(relative to the diagonal ``diagonal``); the rest is zero.")
    return fn


tril = _triangle(_C.tril, "tril")
triu = _triangle(_C.triu, "triu")


def diag(input, diagonal=0):
    """A 1-D tensor as a diagonal matrix, or a matrix's ``diagonal``-th diagonal."""
    x = _t(input)
    if x.ndim not in (1, 2):
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{x.ndim}D")
    return _C.diag(x, int(diagonal))


def diagflat(input, offset=0):
    """The flattened input as the ``offset``-th diagonal of a square matrix."""
    return _C.diag(_ops.reshape(_t(input), (-1,)), int(offset))


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """The last dim as the ``offset``-th diagonal of new dims ``dim1``, ``dim2``."""
    from ..ops.movement import scatter_index

    x = _t(input)
    if x.ndim and fusable_array(x):  # a plain CPU float tensor: one record, indices cached
        return _diag_embed_one(x, int(offset), dim1, dim2)
    n = x.shape[-1] if x.ndim else 1
    m = n + abs(int(offset))
    lead = tuple(x.shape[:-1])
    rows = int(np.prod(lead))
    i = np.arange(n)
    # each value to its place on the diagonal of its (m, m) block: a linear map (a scatter)
    pos = ((i + max(-offset, 0)) * m + i + max(offset, 0))[None, :] + \
        (np.arange(rows) * m * m)[:, None]
    out = _ops.reshape(scatter_index(_ops.reshape(x, (-1,)), pos.reshape(-1).astype(np.int64),
                                     rows * m * m), lead + (m, m))
    nd = out.ndim
    d1, d2 = norm_dim(dim1, nd), norm_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return out if (d1, d2) == (nd - 2, nd - 1) else \
        _ops.permute(out, _placement(nd, d1, d2))


# (input shape, offset) -> the scatter's flat positions (read-only)
_DIAG_POS, _keep_diag_pos = bounded_cache(64)


def _diag_embed_one(x, offset, dim1, dim2):
    """``diag_embed`` of a CPU float array as one SCATTER_INDEX record (input and output
    unflattened: records see flat slots), its positions built once per shape and offset, the
    value written through a strided view of the zeros (was np.add.at and two reshapes)."""
    from ..ops import record as R
    from ..ops.movement import _SCATTER_INDEX, _record_linear

    shape = x.shape
    n = shape[-1]
    m = n + abs(offset)
    lead = tuple(shape[:-1])
    rows = math.prod(lead)
    first = max(-offset, 0) * m + max(offset, 0)
    xd = x._data
    out = np.zeros(lead + (m, m), xd.dtype)
    view = out.reshape(rows, m * m)[:, first:first + n * (m + 1):m + 1]
    view += xd.reshape(rows, n)  # (added onto the zeros, as the scatter: -0.0 becomes 0.0)
    nd = out.ndim
    d1, d2 = norm_dim(dim1, nd), norm_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    if not (x._rg and R._grad_on()):
        res = _make(out)
    else:
        key = (shape, offset)
        pos = _DIAG_POS.get(key)
        if pos is None:
            i = np.arange(n, dtype=np.int64)
            pos = ((i * (m + 1) + first)[None, :] +
                   (np.arange(rows, dtype=np.int64) * m * m)[:, None]).reshape(-1)
            pos.flags.writeable = False
            _keep_diag_pos(key, pos)
        res = _record_linear(out, _SCATTER_INDEX, x, lambda seg: tape.add_ivals(seg, pos))
    return res if (d1, d2) == (nd - 2, nd - 1) else _ops.permute(res, _placement(nd, d1, d2))


def _placement(nd, d1, d2):
    """The permutation that moves the last two dims to ``d1`` and ``d2``."""
    rest = iter(range(nd - 2))
    return tuple(nd - 2 if k == d1 else nd - 1 if k == d2 else next(rest) for k in range(nd))


def vander(x, N=None, increasing=False):
    """Columns ``x ** (N - 1), ..., x, 1`` (the other way round with ``increasing``)."""
    v = _t(x)
    if v.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    N = v.shape[0] if N is None else int(N)
    if N < 0:
        raise RuntimeError("N must be non-negative.")
    if v.dtype.kind in "iub":
        v = v.to(np.int64)
    cols = [v.new_ones(v.shape) if k == 0 else (v if k == 1 else v ** k) for k in range(N)]
    if not cols:  # (new_*: on v's device)
        return v.new_zeros((v.shape[0], 0))
    return _ops.stack(cols if increasing else cols[::-1], 1)


def renorm(input, p, dim, maxnorm):
    """Each slice along ``dim`` with p-norm above ``maxnorm`` scaled down to norm ``maxnorm``."""
    x = _t(input)
    if x.ndim < 2:  # (a 1-D input's slices are numbers: no dims left to take norms over)
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {x.ndim} dimensions")
    d = norm_dim(dim, x.ndim)
    other = tuple(k for k in range(x.ndim) if k != d)
    norms = _LA.vector_norm(x, p, dim=other, keepdim=True)
    scale = _ops.where(norms > maxnorm, maxnorm / (norms + 1e-7), const(1.0, x.dtype))
    return x * scale


# ---- linear-algebra names ------------------------------------------------------------------

def det(input):
    return _LA.det(input)


def inverse(input):
    return _LA.inv(input)


def slogdet(input):
    return _LA.slogdet(input)


def logdet(input):
    """``log det``: NaN for a negative determinant, -inf for a singular matrix; complex for a
    complex matrix (``log(sign) + log|det|``, as PyTorch's)."""
    try:
        sign, logabs = _LA.slogdet(input)
    except RuntimeError as e:  # bad input: PyTorch names logdet, not the slogdet it runs
        if isinstance(e, _LA.LinAlgError) or not str(e).startswith("linalg.slogdet: "):
            raise
        raise RuntimeError("logdet: " + str(e)[len("linalg.slogdet: "):]) from None
    if sign.dtype.kind == "c":
        return _ops.log(sign) + logabs
    s = vals(sign)
    if (s < 0).any():  # (a constant nan there, as PyTorch's where: no gradient flows to it)
        logabs = _ops.where(const(s < 0), const(np.array(np.nan, logabs.dtype)), logabs)
    return logabs


def svd(input, some=True, compute_uv=True):
    """``(U, S, V)`` with ``input = U diag(S) V^T`` (V, not V^T as in ``linalg.svd``); with
    ``compute_uv=False`` U and V are zero-filled (m, m) and (n, n) matrices."""
    A = _t(input)
    if not compute_uv:
        m, n = A.shape[-2:]
        return SvdResult(const(np.zeros(A.shape[:-2] + (m, m), A.dtype)), _LA.svdvals(A),
                         const(np.zeros(A.shape[:-2] + (n, n), A.dtype)))
    U, S, Vh = _LA.svd(A, full_matrices=not some)
    V = _ops.transpose(Vh, -2, -1)
    return SvdResult(U, S, _ops.conj(V) if V.dtype.kind == "c" else V)


def pinverse(input, rcond=1e-15):
    """The pseudo-inverse, dropping singular values below ``rcond`` times the largest."""
    return _LA.pinv(input, rtol=rcond)


def matrix_power(input, n):
    return _LA.matrix_power(input, _LA.power_arg(n, "matrix_power"))


def cholesky(input, upper=False):
    return _LA.cholesky(input, upper=upper)


matrix_exp = _LA.matrix_exp


def cholesky_solve(B, L, upper=False):
    """``X`` with ``A X = B`` for ``A = L L^H`` (``upper``: ``U^H U``) given its Cholesky
    factor: two triangular solves."""
    B, L = _t(B), _t(L)
    for x, name in ((B, "b"), (L, "u")):
        if x.ndim < 2:
            raise RuntimeError(f"{name} should have at least 2 dimensions, but has {x.ndim} "
                               "dimensions instead")
    if L.shape[-1] != L.shape[-2]:
        raise RuntimeError("A must be batches of square matrices, but they are "
                           f"{L.shape[-2]} by {L.shape[-1]} matrices")
    if B.shape[-2] != L.shape[-1]:
        raise RuntimeError("Incompatible matrix sizes for cholesky_solve: each A matrix is "
                           f"{L.shape[-1]} by {L.shape[-1]} but each b matrix is "
                           f"{B.shape[-2]} by {B.shape[-1]}")
    if B.dtype == L.dtype and L.dtype.kind not in "fc":
        raise not_float_error("cholesky_solve", L.dtype)
    if upper:
        L = _ops.transpose(L, -2, -1)
        L = _ops.conj(L) if L.dtype.kind == "c" else L
    Y = _LA.solve_triangular(L, B, upper=False)
    Lh = _ops.transpose(L, -2, -1)
    Lh = _ops.conj(Lh) if Lh.dtype.kind == "c" else Lh
    return _LA.solve_triangular(Lh, Y, upper=True)


def cholesky_inverse(L, upper=False):
    """``A^-1`` for ``A = L L^H`` (``upper``: ``U^H U``) given its Cholesky factor."""
    L = _t(L)
    if L.ndim < 2:
        raise RuntimeError("cholesky_inverse: The input tensor A must have at least 2 "
                           "dimensions.")
    if L.shape[-1] != L.shape[-2]:
        raise RuntimeError("cholesky_inverse: A must be batches of square matrices, but they "
                           f"are {L.shape[-2]} by {L.shape[-1]} matrices")
    if L.dtype.kind not in "fc":
        raise not_float_error("cholesky_inverse", L.dtype)
    n = L.shape[-1]
    eye = _ops.expand(const(np.eye(n, dtype=L.dtype)), tuple(L.shape))
    return cholesky_solve(eye, L, upper)


__all__ = ["tensordot", "inner", "vdot", "kron", "cross", "addmm", "addmv", "addr", "baddbmm",
           "addbmm", "chain_matmul", "dist", "cdist", "tril", "triu", "diag", "diagflat",
           "diag_embed", "vander", "renorm", "det", "inverse", "slogdet", "logdet", "svd",
           "pinverse", "matrix_power", "cholesky", "matrix_exp", "cholesky_solve",
           "cholesky_inverse"]
