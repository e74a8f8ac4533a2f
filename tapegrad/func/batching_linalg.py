"""Batching rules of the linear-algebra functions (``tg.linalg.*`` and their torch names).

They already treat every leading dimension as a batch dimension, so a batch of examples is one
more such dimension in front: a function of one matrix takes the physical tensor as it is; a
solve pads its batched operands' ranks (as broadcasting ops do) so that the vmapped dimension
lines up, and turns a right-hand side that is a vector per example into a column.
"""

from ..ops import movement as _M
from ..tensor import Tensor
from .batched import RULES, _unwrap, _wrap, dispatch
from .batching_rules import _batched_at, _reshape
from .pytree import tree_flatten


def _rule_matrix_function(level, name, raw, args, kwargs):
    """``f(A, *options)``: ``A`` batched, of at least two dims per example (fewer: the loop,
    which raises the function's own error); options batched too: the loop."""
    if not args or not _batched_at(level, args[:1]) or args[0].ndim < 2:
        return NotImplemented
    if _batched_at(level, tree_flatten((args[1:], kwargs))[0]):
        return NotImplemented
    return _wrap(level, dispatch(name, raw, (args[0]._phys,) + tuple(args[1:]), kwargs))


def _padded(level, t, rank):
    """Physical ``t`` with ones inserted behind the batch dim up to ``rank`` dims per example;
    an unbatched ``t`` as it is (it broadcasts from the right)."""
    p, batched = _unwrap(level, t)
    if batched and t.ndim < rank:
        p = _reshape(p, (p.shape[0],) + (1,) * (rank - t.ndim) + tuple(p.shape[1:]))
    return p


def _rule_solve(level, name, raw, args, kwargs):
    """``solve(A, B, ...)`` / ``solve_triangular(A, B, ...)`` with either operand batched."""
    if len(args) != 2 or _batched_at(level, tree_flatten(kwargs)[0]):
        return NotImplemented
    A, B = args
    if not isinstance(A, Tensor) or not isinstance(B, Tensor) or A.ndim < 2 or B.ndim < 1:
        return NotImplemented
    left = kwargs.get("left", True)
    # PyTorch's rule, on the examples' shapes: B is a (batch of) vector(s) when 1-D or of A's
    # shape without its last dim (a vector per example is solved as a column)
    vector = name.endswith("solve") and left and (
        B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1]))
    if vector:
        B = dispatch("unsqueeze", _M.unsqueeze, (B, -1), {})
    rank = max(A.ndim, B.ndim)
    out = _wrap(level, dispatch(name, raw, (_padded(level, A, rank), _padded(level, B, rank)),
                                kwargs))
    return dispatch("squeeze", _M.squeeze, (out, -1), {}) if vector else out


def _rule_lu_solve(level, name, raw, args, kwargs):
    """``linalg.lu_solve(LU, pivots, B)``: a factorization batched with its pivots (or
    neither) and B batched or not; ranks padded as for a solve (PyTorch's lu_solve takes
    matrices for B, so there is no vector case)."""
    if len(args) != 3 or _batched_at(level, tree_flatten(kwargs)[0]):
        return NotImplemented
    LU, pivots, B = args
    if not all(isinstance(t, Tensor) for t in args) or LU.ndim < 2 or B.ndim < 2 or \
            _batched_at(level, [LU]) != _batched_at(level, [pivots]):
        return NotImplemented  # (pivots shared by a batch of factors: the loop)
    rank = max(LU.ndim, B.ndim)
    return _wrap(level, dispatch(name, raw, (_padded(level, LU, rank),
                                             _padded(level, pivots, rank - 1),
                                             _padded(level, B, rank)), kwargs))


def _rule_torch_lu_solve(level, name, raw, args, kwargs):
    """The deprecated ``lu_solve(b, LU_data, LU_pivots)``: the rule above, its order."""
    if len(args) != 3 or kwargs:
        return NotImplemented
    b, LU, pivots = args
    return _rule_lu_solve(level, name, lambda L, p, B: raw(B, L, p), (LU, pivots, b), {})


def _rule_lu_unpack(level, name, raw, args, kwargs):
    """``lu_unpack(LU, pivots)`` of factors batched with their pivots: one unpacking of the
    physical batch (with a part not unpacked, whose empty result has no batch: the loop)."""
    if len(args) != 2 or kwargs or not all(isinstance(t, Tensor) for t in args) or \
            not (_batched_at(level, [args[0]]) and _batched_at(level, [args[1]])):
        return NotImplemented
    return _wrap(level, dispatch(name, raw, (args[0]._phys, args[1]._phys), {}))


_ONE_MATRIX = ("inv det slogdet eigh eigvalsh svd svdvals qr cholesky pinv matrix_power "
               "matrix_exp eig eigvals matrix_rank cond lu lu_factor lu_factor_ex").split()
for _n in _ONE_MATRIX:
    RULES["linalg." + _n] = _rule_matrix_function
# the torch names (tg.det, Tensor.inverse, ...) of the same functions
for _n in "det slogdet logdet inverse pinverse matrix_exp matrix_power cholesky svd lu".split():
    RULES[_n] = _rule_matrix_function
RULES["linalg.solve"] = RULES["linalg.solve_triangular"] = _rule_solve
RULES["linalg.lu_solve"] = _rule_lu_solve
RULES["lu_solve"] = _rule_torch_lu_solve
RULES["lu_unpack"] = _rule_lu_unpack
