"""PyTorch's refusal of a matrix product whose operands have different dtypes where one is an
integer or bool tensor (``float32 @ int64``), or one is complex and the other real. NumPy would
promote; PyTorch's kernels take operands of one dtype and say so, in words that depend on the
kernel the shapes reach. Mixed float32/float64 (or complex64/complex128) operands are computed
in the wider dtype (a documented difference), so only those other mixes are refused here."""

import numpy as np

from ..promotion import result_dtype
from ..tensor import _DTYPE_NAMES


def mixes_kinds(dx, dy):
    """Whether dtypes ``dx`` and ``dy`` differ with an integer or bool one among them, or one
    complex and the other not (PyTorch's products take one dtype; only float widths meet)."""
    return dx != dy and (dx.kind in "biu" or dy.kind in "biu" or (dx.kind == "c") != (dy.kind == "c"))


def product_dtype_error(xd, yd, x_grad=False, y_grad=False):
    """The error PyTorch raises for ``x @ y`` of the arrays ``xd``/``yd`` (both at least 1-D;
    ``x_grad``/``y_grad``: whether each requires grad, which decides whether PyTorch folds a
    batch into one matrix), or None where the dtypes may meet."""
    dx, dy = xd.dtype, yd.dtype
    if not mixes_kinds(dx, dy):
        return None
    (cx, sx), (cy, sy) = _names(dx), _names(dy)
    nx, ny = xd.ndim, yd.ndim
    if nx == 1 and ny == 1:
        return RuntimeError(f"dot : expected both vectors to have same dtype, but found {sx} "
                            f"and {sy}")
    if nx <= 2 and ny <= 2:
        folded = (0, ny)
    elif nx >= ny:
        folded = (0, ny) if ny <= 2 and _folds(xd, y_grad, False) else None
    else:
        folded = (1, nx) if nx <= 2 and _folds(yd, x_grad, True) else None
    if folded is None:  # bmm
        if dx.kind == "b":
            return NotImplementedError("\"bmm\" not implemented for 'Bool'")
        return RuntimeError(f"expected scalar type {sx} but found {sy}")
    if folded[0]:  # y.mT's batch folded into the matrix, x the vector or second matrix
        (cx, sx), (cy, sy) = (cy, sy), (cx, sx)
    if folded[1] == 1:
        return RuntimeError(f"addmv input tensors must have the same dtype, but got {sy}, {sx}, "
                            f"and {sy}")
    return RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {cx} != {cy}")


def _folds(big, other_grad, transposed):
    """PyTorch's ``should_fold``: the >= 3-D operand ``big`` (``.mT`` of it where
    ``transposed``) is viewed as one matrix when the other operand requires grad, ``big`` is
    empty, or its leading dims are laid out as one."""
    if other_grad or big.size == 0:
        return True
    shape, st = list(big.shape), list(big.strides)
    if transposed:
        shape[-2:], st[-2:] = shape[:-3:-1], st[:-3:-1]
    return all(st[i] == st[i + 1] * shape[i + 1] for i in range(len(shape) - 2))


def bias_dtype_error(db, dw):
    """``linear``'s refusal of a bias whose dtype does not meet the weight's (PyTorch's addmm
    checks it first), or None."""
    if not mixes_kinds(db, dw):
        return None
    return RuntimeError(f"self and mat2 must have the same dtype, but got {_names(db)[1]} and "
                        f"{_names(dw)[1]}")


def addmm_dtype_error(ds, d1, d2):
    """PyTorch's addmm (and addbmm) refusal, in its order (self against mat2, then mat1
    against mat2), where the input's and factors' dtypes ``ds``, ``d1``, ``d2`` cannot meet
    (mixed float widths alone are computed in the widest), or None."""
    if not (mixes_kinds(ds, d2) or mixes_kinds(d1, d2)):
        return None
    (a, b), who = ((ds, d2), "self") if ds != d2 else ((d1, d2), "mat1")
    return RuntimeError(f"{who} and mat2 must have the same dtype, but got {_names(a)[1]} and "
                        f"{_names(b)[1]}")


def addmv_dtype_error(ds, dm, dv):
    """PyTorch's addmv refusal where the input's, matrix's and vector's dtypes cannot meet
    (mixed float widths alone are computed in the widest), or None."""
    if not (mixes_kinds(ds, dm) or mixes_kinds(dm, dv) or mixes_kinds(ds, dv)):
        return None
    return RuntimeError("addmv input tensors must have the same dtype, but got "
                        f"{_names(ds)[1]}, {_names(dm)[1]}, and {_names(dv)[1]}")


def baddbmm_dtype_error(ds, d1, d2):
    """PyTorch's baddbmm refusal where the input's and batches' dtypes cannot meet (mixed
    float widths alone are computed in the widest), or None: an input of another dtype than
    batch1 first, then bmm's."""
    if not (mixes_kinds(ds, d2) or mixes_kinds(d1, d2) or mixes_kinds(ds, d1)):
        return None
    if ds != d1:
        return RuntimeError(f"Input dtypes must be the same, got: input {_names(ds)[0]}, "
                            f"batch1: {_names(d1)[0]}, batch2: {_names(d2)[0]}")
    if d1.kind == "b":
        return NotImplementedError("\"baddbmm\" not implemented for 'Bool'")
    return RuntimeError(f"expected scalar type {_names(d1)[1]} but found {_names(d2)[1]}")


def _names(dt):
    return _DTYPE_NAMES.get(str(dt), (str(dt), str(dt)))


def einsum_dtypes(arrays, parsed):
    """``parsed`` (einsum's subscripts, output and sizes) where the operand ``arrays``' dtypes
    meet as in PyTorch's einsum, else its error: operands are contracted left to right, and a
    pair that shares a summed index goes through ``bmm``, which takes one dtype ("expected
    scalar type Long but found Float"); a pair without one is multiplied, which promotes as
    PyTorch does (int64 with float32: float32; the arrays are cast in place). As for the
    matrix products, mixed float32/float64 is computed in the wider dtype."""
    if len(arrays) < 2 or all(a.dtype == arrays[0].dtype for a in arrays):
        return parsed
    subs, out, _ = parsed
    dt, have = arrays[0].dtype, set(subs[0])
    for k in range(1, len(arrays)):
        needed = set(out).union(*subs[k + 1:])
        if mixes_kinds(dt, arrays[k].dtype) and (have & set(subs[k])) - needed:
            raise RuntimeError(f"expected scalar type {_names(dt)[1]} but found "
                               f"{_names(arrays[k].dtype)[1]}")
        dt = result_dtype(dt, False, arrays[k].dtype, False)
        have = (have | set(subs[k])) & needed
    if any(a.dtype.kind in "biu" for a in arrays):  # (NumPy would widen int64 * float32)
        arrays[:] = [a.astype(dt) if type(a) is np.ndarray else a for a in arrays]
    return parsed


def check_chain(ts):
    """``multi_dot``'s checks of its 2-D operands, in PyTorch's words: one dtype (where an
    integer or bool one is among them; mixed float32/float64 is computed in the wider dtype),
    then shapes that chain."""
    for i, t in enumerate(ts[1:], 1):
        if mixes_kinds(ts[0].dtype, t.dtype):
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor"
                               f" 0 is {_names(ts[0].dtype)[0]} and tensor {i} "
                               f"{_names(t.dtype)[0]}")
    for i in range(len(ts) - 1):
        if ts[i].shape[1] != ts[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                               f"{list(ts[i].shape)} and {list(ts[i + 1].shape)} cannot be "
                               "multiplied")
