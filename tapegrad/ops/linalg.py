"""Matrix products. Their backward runs in NumPy (BLAS): the compiled sweep pauses for them."""

import numpy as np

from .._bounded_cache import bounded_cache
from .._float_warnings import quiet
from ..device import DeviceArray as _DeviceArray
from ..tensor import Tensor, _make, _wrap
from . import accurate_dot, array_records as AR, einsum_integral, einsum_plan, einsum_reduce
from .blas_operands import blas_ready
from .movement import _view_strided, broadcast_to, reshape, scatter_index, sum as _sum, \
    transpose, unsqueeze
from .node_names import name_node, name_view
from .product_dtypes import einsum_dtypes, product_dtype_error
from .reduce import sum_to
from .shapes import bool_matmul_error, c_strides, matmul_error, norm_dim, vector_folds
from . import record as R
from ..registry import Op, defop

_MATMUL, _EINSUM = int(Op.MATMUL), int(Op.EINSUM)  # (an enum member costs ~0.12 µs to read)

_state = R._state
# np.dot, not np.matmul, for operands of at most two dims: the same BLAS call and the same
# bits (checked on transposed, vector and size-1 operands), ~0.35 µs less of a small product
_dot = np.dot


def _sum_to_np(x, shape):
    """Sum broadcast batch dimensions of ``x`` back down to ``shape``."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                      if s == 1 and x.shape[lead + i] != 1)
    return x.sum(axis=axes).reshape(shape) if axes else x


def _matmul_vjp_np(g, inputs, out, needs=(True, True)):
    """dA = g @ B^T, dB = A^T @ g, with 1-D operands promoted and batch dims summed.

    ``needs`` (recorded by the forward) skips the product for an input that needs no
    gradient: for ``A @ x`` with a constant ``A`` that is a whole outer product saved.
    """
    A, B = inputs
    na, nb = A.ndim, B.ndim
    if na <= 2 and nb <= 2 and na + nb >= 3:  # one BLAS call per gradient, nothing else
        return _products(g, A, B, needs, None, None)
    if na == 1 and nb == 1:  # dot product: g is 0-d
        return g * B, g * A
    A2 = A[None, :] if na == 1 else A
    B2 = B[:, None] if nb == 1 else B
    g2 = np.expand_dims(g, -2) if na == 1 else g
    if nb == 1:
        g2 = np.expand_dims(g2, -1)
    gA = _sum_to_np(g2 @ blas_ready(np.swapaxes(B2, -1, -2)), A2.shape).reshape(A.shape) \
        if needs[0] else None
    gB = _sum_to_np(np.swapaxes(A2, -1, -2) @ g2, B2.shape).reshape(B.shape) if needs[1] \
        else None
    return gA, gB


def _products(g, A, B, needs, ta, tb):
    """The gradients of ``A @ B`` for 2-D @ 2-D, matrix-vector (a Hessian-vector product's
    ``A @ x``) and vector-matrix (its re-taped gradient, ``g @ A``): one ``np.dot`` or outer
    product each, written into ``ta``/``tb`` where given (unreached arena slots)."""
    gA = gB = None
    if A.ndim == 2 and B.ndim == 2:
        if needs[0]:
            Bt = blas_ready(B.T)  # (a small B: copied to rows, see blas_operands)
            gA = _dot(g, Bt) if ta is None else _dot(g, Bt, out=ta)
        if needs[1]:
            gB = _dot(A.T, g) if tb is None else _dot(A.T, g, out=tb)
    elif A.ndim == 2:
        if needs[0]:
            gA = _outer(g, B) if ta is None else _outer(g, B, out=ta)
        if needs[1]:
            gB = _dot(g, A) if tb is None else _dot(g, A, out=tb)
    else:
        if needs[0]:
            gA = _dot(B, g) if ta is None else _dot(B, g, out=ta)
        if needs[1]:
            gB = _outer(A, g) if tb is None else _outer(A, g, out=tb)
    return gA, gB


_outer = np.multiply.outer


def _matmul_vjp_into(g, inputs, out, targets, needs=(True, True)):
    """``_matmul_vjp_np`` writing each product of the cases ``_products`` covers straight into
    its target (an unreached arena slot: the sweep then copies nothing; operands of the
    arena's dtype only); the other cases as it."""
    A, B = inputs
    na, nb = A.ndim, B.ndim
    if na <= 2 and nb <= 2 and na + nb >= 3 and g.dtype is A.dtype and g.dtype is B.dtype:
        return _products(g, A, B, needs, *targets)
    return _matmul_vjp_np(g, inputs, out, needs)


def _matmul_vjp(g, inputs, out, needs=(True, True)):
    """The same rule in tapegrad ops, for re-taping."""
    A, B = inputs
    if A.ndim == 1 and B.ndim == 1:
        return g * B, g * A
    A2 = unsqueeze(A, 0) if A.ndim == 1 else A
    B2 = unsqueeze(B, 1) if B.ndim == 1 else B
    g2 = g
    if A.ndim == 1:
        g2 = unsqueeze(g2, -2)
    if B.ndim == 1:
        g2 = unsqueeze(g2, -1)
    gA = reshape(sum_to(matmul(g2, transpose(B2, -1, -2)), A2.shape), A.shape) if needs[0] \
        else None
    gB = reshape(sum_to(matmul(transpose(A2, -1, -2), g2), B2.shape), B.shape) if needs[1] \
        else None
    return gA, gB


def _matmul_jvp_np(tangents, inputs, out, needs=(True, True)):
    """d(A @ B) = dA @ B + A @ dB for k tangent directions (a leading dim on dA, dB): 1-D
    operands promoted to matrices, the k dim kept apart from the batch dims."""
    A, B = inputs
    tA, tB = tangents
    A2 = A[None, :] if A.ndim == 1 else A
    B2 = B[:, None] if B.ndim == 1 else B
    nd = max(A2.ndim, B2.ndim)
    res = 0.0
    if tA is not None:
        k = tA.shape[0]
        t = tA[:, None, :] if A.ndim == 1 else tA
        res = res + t.reshape((k,) + (1,) * (nd - A2.ndim) + A2.shape) @ B2
    if tB is not None:
        k = tB.shape[0]
        t = tB[..., None] if B.ndim == 1 else tB
        res = res + A2 @ t.reshape((k,) + (1,) * (nd - B2.ndim) + B2.shape)
    if B.ndim == 1:
        res = res[..., 0]
    if A.ndim == 1:
        res = res[..., 0, :] if B.ndim != 1 else res[..., 0]
    return res


defop(Op.MATMUL, "matmul", "python", "MmBackward0", vjp=_matmul_vjp, vjp_np=_matmul_vjp_np,
      vjp_into=_matmul_vjp_into, jvp_np=_matmul_jvp_np)


def _current(view):
    """Whether the base of ``view`` is unchanged since the view was made (else
    ``refresh_views`` regathers it first: the general path)."""
    base = view._base
    return base._seg is view._bseg and base._rec == view._brec


def matmul(input, other):
    """Matrix product with NumPy's broadcasting rules (``x @ y``)."""
    if isinstance(input, Tensor) and isinstance(other, Tensor):
        xd, yd = input._data, other._data
        if type(xd) is np.ndarray and type(yd) is np.ndarray and xd.ndim and yd.ndim and \
                (input._base is None or _current(input)) and \
                (other._base is None or _current(other)) and \
                xd.dtype.kind == yd.dtype.kind == "f":
            # the common case first: real CPU arrays (views whose base is unchanged since,
            # e.g. a time step ``xs[t]``) whose shapes match
            if yd.ndim > 1 and yd.strides[-1] != yd.itemsize:  # ``x @ W.T``: see blas_operands
                yd = blas_ready(yd)
            try:  # (a float32 vector first: summed in float64 by accurate_dot)
                value = (_dot if xd.ndim > 1 or xd.dtype is not accurate_dot.F32 else
                         accurate_dot.dot32)(xd, yd) if xd.ndim <= 2 >= yd.ndim else \
                    np.matmul(xd, yd)
                if type(value) is not np.ndarray or not value.ndim:  # (else _wrap's own form)
                    value = _wrap(value)
            except ValueError:
                value = None  # the general path below gives PyTorch's message
            except RuntimeWarning:  # (a user's warnings filter: _float_warnings)
                value = _wrap(quiet(np.matmul, xd, yd))
            if value is not None:
                if not ((input._rg or other._rg) and _state.grad_enabled):
                    return _make(value)
                if type(value) is np.ndarray:
                    return AR.pair_result(value, _MATMUL, input, other,
                                          None if (input._rg and other._rg) else
                                          {"needs": (input._rg, other._rg)})
                return R.python_result(value, _MATMUL, (input, other), save_inputs=(0, 1),
                                       params=None if (input._rg and other._rg) else
                                       {"needs": (input._rg, other._rg)})
    input, other = R.as_tensor(input), R.as_tensor(other)
    xd, yd = input._arr(), other._arr()
    if type(xd) is _DeviceArray or type(yd) is _DeviceArray:  # CUDA (ops/cuda_ops.py)
        from .cuda_ops import matmul as cuda_matmul

        return cuda_matmul(input, other)
    if xd.ndim == 0 or yd.ndim == 0:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                           f"{xd.ndim}D and {yd.ndim}D")
    if xd.dtype != yd.dtype and (err := product_dtype_error(
            xd, yd, input.requires_grad, other.requires_grad)) is not None:
        raise err
    try:
        value = _wrap((np.matmul if xd.ndim > 1 else accurate_dot.dot32)(xd, yd))
    except ValueError:
        raise matmul_error(xd.shape, yd.shape, xd.ndim == 1 and yd.ndim > 2 and
                           vector_folds(input.requires_grad, yd)) from None
    if xd.dtype == np.bool_ and yd.dtype == np.bool_:  # (NumPy's is logical; PyTorch refuses)
        err = bool_matmul_error(xd.shape, yd.shape)
        if err is not None:
            raise err
    if not R.needs_grad(input, other):
        return _make(value)
    if type(value) is not float and value.dtype.kind == "c":  # complex: ops/complex.py
        from .complex import matmul as complex_matmul

        return complex_matmul(input, other, value)
    params = None if (input._rg and other._rg) else {"needs": (input._rg, other._rg)}
    return R.python_result(value, _MATMUL, (input, other), save_inputs=(0, 1), params=params)


def dot(input, tensor):
    """Inner product of two 1-D tensors."""
    if input.ndim != 1 or tensor.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {tensor.ndim}D "
                           "tensors")
    return matmul(input, tensor)


def outer(input, vec2):
    """Outer product of two 1-D tensors."""
    for name, t in (("self", input), ("vec2", vec2)):
        if t.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t.ndim}-D")
    if input.dtype == np.bool_ and vec2.dtype == np.bool_ or input.dtype != vec2.dtype:
        # (PyTorch's is a product: 'and' of bools, and its operands promote)
        return unsqueeze(input, 1) * unsqueeze(vec2, 0)
    return matmul(unsqueeze(input, 1), unsqueeze(vec2, 0))


# ---- mm / bmm / mv: matmul with PyTorch's shape checks ---------------------------------

def mm(input, mat2):
    """Matrix product of two 2-D tensors."""
    x, y = R.as_tensor(input), R.as_tensor(mat2)
    if x.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if y.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return matmul(x, y)


def bmm(input, mat2):
    """Batched matrix product of two 3-D tensors with the same batch size."""
    x, y = R.as_tensor(input), R.as_tensor(mat2)
    if x.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if y.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if y.shape[:2] != (x.shape[0], x.shape[2]):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{x.shape[0]}, {x.shape[2]}] but got: [{y.shape[0]}, {y.shape[1]}].")
    return matmul(x, y)


def mv(input, vec):
    """Matrix-vector product."""
    x, v = R.as_tensor(input), R.as_tensor(vec)
    if x.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {x.ndim}, {v.ndim}")
    if x.shape[1] != v.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({x.shape[0]}), mat "
                           f"({x.shape[0]}x{x.shape[1]}), vec ({v.shape[0]})")
    return matmul(x, v)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of the ``dim1``/``dim2`` planes as a new last dimension: a view sharing
    storage and the version counter with ``input``, as in PyTorch."""
    x = R.as_tensor(input)
    nd = x.ndim
    d1, d2 = norm_dim(dim1, nd), norm_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    offset = int(offset)
    shape, cs = x.shape, c_strides(x.shape)
    n = max(0, min(shape[d1] + min(offset, 0), shape[d2] - max(offset, 0)))
    first = (0, offset) if offset >= 0 else (-offset, 0)  # (row, column) of the first element
    if n == 0:
        first = (0, 0)
    rest = [k for k in range(nd) if k not in (d1, d2)]
    out_shape = tuple(shape[k] for k in rest) + (n,)
    strides = tuple(cs[k] for k in rest) + (cs[d1] + cs[d2],)
    start = first[0] * cs[d1] + first[1] * cs[d2]
    if type(x._data) is _DeviceArray:  # CUDA: a gathered copy (ops/cuda_ops.py)
        from .cuda_ops import view as cuda_view

        return cuda_view(x, out_shape, strides, start)
    # the NumPy value: a writeable strided view of x's own memory (np.diagonal is read-only)
    xd = x._arr()
    sub = xd
    if n:
        idx = [slice(None)] * nd
        idx[d1], idx[d2] = slice(first[0], None), slice(first[1], None)
        sub = xd[tuple(idx)]  # starts at the first diagonal element
    value = np.lib.stride_tricks.as_strided(
        sub, out_shape, tuple(xd.strides[k] for k in rest) + (xd.strides[d1] + xd.strides[d2],))
    return name_view(_view_strided(x, value, out_shape, strides, start), x, "DiagonalBackward0")


def trace(input):
    """Sum of the main diagonal of a matrix."""
    x = R.as_tensor(input)
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x.ndim}")
    d = diagonal(x)
    return name_node(_sum(d), "TraceBackward0", d)


# ---- einsum (python op; the VJP of each operand is another einsum) ---------------------

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


# (equation, shapes) -> _parse_einsum's answer: ~4 us a call, the forward's third
_PARSED, _keep_parsed = bounded_cache(512)


def _parse_einsum(equation, shapes):
    """Subscripts per operand and output, '...' expanded to letters; size of every letter."""
    key = (equation, tuple(shapes))
    hit = _PARSED.get(key)
    if hit is None:
        hit = _keep_parsed(key, _parse(equation, shapes))
    subs, out, sizes = hit
    return list(subs), out, dict(sizes)  # (copies: a caller may keep or change them)


def _parse(equation, shapes):
    eq = equation.replace(" ", "")
    for i, c in enumerate(eq):
        if not (c in _LETTERS or c in ".,->"):
            raise RuntimeError(f"einsum(): invalid subscript given at index {i} in the equation "
                               "string, subscripts must be in [a-zA-Z]")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(shapes):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    free = iter([c for c in _LETTERS if c not in eq])
    n_ell = 0
    for i, (t, s) in enumerate(zip(terms, shapes)):
        named = len(t.replace("...", ""))
        if "..." in t:
            if t.count("...") > 1 or "." in t.replace("...", "", 1):
                raise RuntimeError("einsum(): found '.' for operand %d that is not part of any "
                                   "ellipsis" % i)
            if named > len(s):
                raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                                   f"({named}) is more than the number of dimensions "
                                   f"({len(s)}) for operand {i}")
            n_ell = max(n_ell, len(s) - named)
        elif named != len(s):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) "
                               f"does not match the number of dimensions ({len(s)}) for operand "
                               f"{i} and no ellipsis was given")
    ell = "".join(next(free) for _ in range(n_ell))
    subs = [t.replace("...", ell[n_ell - (len(s) - len(t.replace("...", ""))):])
            for t, s in zip(terms, shapes)]
    sizes = {}
    for i, (sub, s) in enumerate(zip(subs, shapes)):
        mine = {}
        for c, n in zip(sub, s):
            if c in mine and mine[c] != n:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {i} but the "
                                   f"sizes don't match, {n} != {mine[c]}")
            mine[c] = n
        for c, n in mine.items():
            seen = sizes.get(c)
            if seen is None or seen == 1:
                sizes[c] = n
            elif n != 1 and n != seen:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {i} which "
                                   f"does not broadcast with previously seen size {seen}")
    if arrow:
        if "." in rhs.replace("...", "", 1) or rhs.count("...") > 1:
            raise RuntimeError("einsum(): found '.' for output but it is not part of any ellipsis")
        out = rhs.replace("...", ell)
        for c in out:
            if out.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the "
                                   "output")
            if c not in sizes:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the "
                                   "equation for any input operand")
    else:
        joined = "".join(subs)
        out = ell + "".join(sorted(c for c in set(joined) if joined.count(c) == 1
                                   and c not in ell))
    return subs, out, sizes


def _grad_spec(k, subs, out, sizes):
    """Einsum equation (and extra constant operands) giving the gradient of operand ``k``.

    d out / d operand_k is the einsum of g with the other operands onto operand k's distinct
    subscripts; a letter repeated in operand k ('ii') is then scattered onto that diagonal
    (``_diag_positions``), as PyTorch does, never multiplied by an identity mask (inf * 0).
    A letter only operand k has (summed away) gets a vector of ones.
    """
    target, extras, seen = [], [], set()
    for c in subs[k]:
        if c not in seen:
            seen.add(c)
            target.append(c)
    present = set(out).union(*[subs[j] for j in range(len(subs)) if j != k])
    for c in seen:
        if c not in present:
            extras.append((c, ("ones", sizes[c])))
    ins = [out] + [subs[j] for j in range(len(subs)) if j != k] + [e[0] for e in extras]
    return ",".join(ins) + "->" + "".join(target), [e[1] for e in extras]


def _diag_positions(sub, sizes):
    """For an operand with repeated subscripts: its full shape (at the broadcast sizes) and the
    flat positions of its distinct-subscript diagonal; None when no subscript repeats."""
    uniq = "".join(dict.fromkeys(sub))
    if len(uniq) == len(sub):
        return None
    shape = tuple(sizes[c] for c in sub)
    size = int(np.prod(shape, dtype=np.int64))
    pos = np.einsum(f"{sub}->{uniq}", np.arange(size, dtype=np.int64).reshape(shape))
    return shape, size, np.ascontiguousarray(pos).reshape(-1)


def _extra_array(kind, n):
    """A constant operand of a gradient einsum: shared by every VJP of that plan (cached),
    so read-only (a re-taped VJP wraps it as a tensor that user code could reach)."""
    a = np.eye(n) if kind == "eye" else np.ones(n)
    a.flags.writeable = False
    return a


def _optimize(arrays):
    # BLAS contraction paths pay off for big operands; a path search costs ~10s of us
    return len(arrays) > 2 or max(a.size for a in arrays) > 4096


def _np_einsum(eq, arrays):
    """``np.einsum`` of expanded subscripts; two big operands with a batched-matmul form (a
    batch letter has no BLAS path in ``np.einsum``) as that matmul (``einsum_plan``)."""
    if len(arrays) == 2:
        mm = einsum_plan.cached(eq, *arrays)
        if mm is not None:
            return mm(*arrays)
    return np.einsum(eq, *arrays, optimize=_optimize(arrays) if len(arrays) > 1 else False)


def _fit(gk, shape):
    """Match a gradient computed at the broadcast sizes to the operand's own shape."""
    if gk.shape == tuple(shape):
        return gk
    gk = np.broadcast_to(gk, np.broadcast_shapes(gk.shape, shape))
    return _sum_to_np(gk, shape)


# (operand, subscripts, its sizes) -> its gradient's einsum plan
_PLANS, _keep_plan = bounded_cache(512)


def _vjp_plan(k, subs, out_sub, sizes):
    """Operand k's gradient einsum, its constant operands and diagonal positions (they depend
    on the subscripts and operand k's sizes only: built once, ~8 us of a ~18 us VJP)."""
    key = (k, tuple(subs), out_sub, tuple(sizes[c] for c in subs[k]))
    plan = _PLANS.get(key)
    if plan is None:
        eq, extras = _grad_spec(k, subs, out_sub, sizes)
        plan = _keep_plan(key, (eq, [_extra_array(*e) for e in extras],
                                _diag_positions(subs[k], sizes)))
    return plan


def _einsum_vjp_np(g, inputs, out, subs, out_sub, sizes, needs, shapes):
    grads = []
    for k, x in enumerate(inputs):
        if not needs[k]:
            grads.append(None)
            continue
        eq, extras, diag = _vjp_plan(k, subs, out_sub, sizes)
        # g in its own dtype: a float32 program's gradient stays float32 (as PyTorch's)
        ops = [np.asarray(g)] + [np.asarray(inputs[j]) for j in range(len(inputs))
                                 if j != k] + extras
        gk = _np_einsum(eq, ops)
        if diag is not None:
            full = np.zeros(diag[1])
            full[diag[2]] = gk.reshape(-1)
            gk = full.reshape(diag[0])
        grads.append(_fit(gk, shapes[k]))
    return tuple(grads)


def _einsum_vjp(g, inputs, out, subs, out_sub, sizes, needs, shapes):
    grads = []
    for k, x in enumerate(inputs):
        if not needs[k]:
            grads.append(None)
            continue
        eq, extras, diag = _vjp_plan(k, subs, out_sub, sizes)
        ops = [g] + [inputs[j] for j in range(len(inputs)) if j != k] + \
            [_make(e) for e in extras]
        gk = einsum(eq, *ops)
        if diag is not None:
            gk = reshape(scatter_index(reshape(gk, -1), diag[2], diag[1]), diag[0])
        gk = broadcast_to(gk, np.broadcast_shapes(gk.shape, shapes[k]))
        grads.append(sum_to(gk, shapes[k]))
    return tuple(grads)


def _einsum_jvp_np(tangents, inputs, out, subs, out_sub, sizes, needs, shapes):
    """Linear in each operand: the sum over operands of the einsum with that operand's
    tangent in its place, the directions a letter of their own."""
    k = next(t.shape[0] for t in tangents if t is not None)
    res = 0.0
    if k == 1:  # one direction: the einsum itself (no extra letter, the same plan)
        eq = ",".join(subs) + "->" + out_sub
        for i, t in enumerate(tangents):
            if t is not None:
                ops = [np.asarray(t[0]) if j == i else inputs[j] for j in range(len(subs))]
                res = res + _np_einsum(eq, ops)[None]
        return res
    d = next(c for c in _LETTERS if c not in sizes)
    for i, t in enumerate(tangents):
        if t is not None:
            eq = ",".join(d + s if j == i else s for j, s in enumerate(subs)) + "->" + d + out_sub
            res = res + _np_einsum(eq, [t if j == i else inputs[j] for j in range(len(subs))])
    return res


defop(Op.EINSUM, "einsum", "python", "EinsumBackward0", vjp=_einsum_vjp, vjp_np=_einsum_vjp_np,
      jvp_np=_einsum_jvp_np)


def _complex_einsum(equation, ts):
    """Einsum of complex operands that require grad, as real einsums of their real and
    imaginary parts (a product of k operands has 2^k real terms, each sign i^m folded in):
    the gradient comes from the real einsum's rule and those of real/imag/complex."""
    import itertools

    from .complex import complex as make_complex
    from .complex import imag, real

    parts = [(real(t), imag(t)) if t.dtype.kind == "c" else (t, None) for t in ts]
    re = im = None
    for pick in itertools.product((0, 1), repeat=len(ts)):
        if any(parts[j][p] is None for j, p in enumerate(pick)):
            continue
        term = einsum(equation, *[parts[j][p] for j, p in enumerate(pick)])
        m = sum(pick)  # the term carries i^m: +1, +i, -1, -i
        if m % 2 == 0:
            term = term if m % 4 == 0 else -term
            re = term if re is None else re + term
        else:
            term = term if m % 4 == 1 else -term
            im = term if im is None else im + term
    if im is None:
        im = re * 0.0
    return make_complex(re, im)


def _sublist_equation(args):
    """``(equation, operands)`` of einsum's sublist form: operands alternating with lists of
    integer subscripts (``Ellipsis`` for ``...``), an optional output list last."""
    def spelled(sub):
        try:
            return "".join("..." if k is Ellipsis else _LETTERS[k] for k in sub)
        except (IndexError, TypeError):
            raise ValueError("einsum(): subscript in subscript list is not within the valid "
                             "range [0, 52)") from None

    pairs, out = (args[:-1], "->" + spelled(args[-1])) if len(args) % 2 else (args, "")
    return ",".join(spelled(s) for s in pairs[1::2]) + out, tuple(pairs[0::2])


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def einsum(equation, *operands):
    """Einstein summation, e.g. ``'ij,jk->ik'`` (matrix product), ``'bij,bjk->bik'``,
    ``'i,j->ij'``, ``'ii->'`` (trace), ``'ii->i'`` (diagonal), ``'i,ij,j->'``; ``...`` broadcasts.

    Example:
        >>> import tapegrad as tg
        >>> tg.einsum('ii->', tg.eye(3)).item()
        3.0
    """
    if not isinstance(equation, str):  # the sublist form: op0, [0, 1], op1, [1, 2], [0, 2]
        equation, operands = _sublist_equation((equation,) + operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ts = [R.as_tensor(t) for t in operands]
    arrays = [t._arr() for t in ts]
    subs, out_sub, sizes = einsum_dtypes(arrays, _parse_einsum(equation, [a.shape for a in arrays]))
    if any(t.dtype.kind == "c" for t in ts) and R._grad_on() and any(t._rg for t in ts):
        return _complex_einsum(equation, ts)
    if any(type(a) is _DeviceArray for a in arrays):  # device ops (ops/cuda_linalg.py)
        from .cuda_linalg import einsum as device_einsum

        return device_einsum(ts, subs, out_sub, sizes)
    if not any(a.dtype.kind in "fc" for a in arrays):  # integer and bool: PyTorch's sums first
        subs, arrays = einsum_integral.prepare(subs, out_sub, arrays)
    eq = ",".join(subs) + "->" + out_sub
    value = None
    if len(arrays) == 1:  # a float32 sum: as sum's, pairwise (einsum_reduce)
        value = einsum_reduce.reduction(subs[0], out_sub, arrays[0])
    if value is None:
        value = _np_einsum(eq, arrays)
    if any(np.may_share_memory(value, a) for a in arrays):
        value = value.copy()  # 'ij->ji' gives a NumPy view; PyTorch's einsum does not alias
    value = _wrap(np.asarray(value))
    if not (R._grad_on() and any(t._rg for t in ts)):
        return _make(value)
    needs = tuple(t._rg for t in ts)
    return R.python_result(value, _EINSUM, tuple(ts),
                           save_inputs=tuple(j for j in range(len(ts))
                                             if any(needs[:j] + needs[j + 1:])),
                           params=dict(subs=tuple(subs), out_sub=out_sub, sizes=sizes,
                                       needs=needs, shapes=tuple(a.shape for a in arrays)))
