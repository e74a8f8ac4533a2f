"""Batching rules of the torch-named shape functions (``tg.swapaxes``, ``movedim``, ``narrow``,
``roll``, ``tril``/``triu``, ``diag_embed``, ``cummax``/``cummin``): the per-example dims move one
place right, behind the batch dim."""

from .batched import RULES, BatchedTensor, _unwrap, _wrap, dispatch
from .batching_linalg import _rule_matrix_function
from .batching_rules import _batched_at, _reshape, _rule_along_dim, _rule_transpose, _simple
from .pytree import tree_flatten


def _only_first_batched(level, args, kwargs):
    """The physical first argument and its dims per example; None when the rule does not apply
    (the first argument is not batched at ``level``, or another argument is)."""
    p, b = _unwrap(level, args[0]) if args else (None, False)
    if not b or _batched_at(level, tree_flatten((args[1:], kwargs))[0]):
        return None
    return p, len(p.shape) - 1


def _shifted(d, nd):
    """Dim ``d`` of an example of ``nd`` dims as a dim of the batch (IndexError as PyTorch's)."""
    if not -nd <= d < max(nd, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}]"
                         f", but got {d})")
    return d % nd + 1


def _dims(d):
    return (d,) if isinstance(d, int) else tuple(d)


def _rule_movedim(level, name, raw, args, kwargs):
    got = _only_first_batched(level, args, kwargs)
    if got is None or len(args) != 3 or got[1] == 0:
        return NotImplemented
    p, nd = got
    src = tuple(_shifted(d, nd) for d in _dims(args[1]))
    dst = tuple(_shifted(d, nd) for d in _dims(args[2]))
    return _wrap(level, dispatch(name, raw, (p, src, dst), kwargs))


def _rule_narrow(level, name, raw, args, kwargs):
    got = _only_first_batched(level, args, kwargs)
    if got is None or len(args) != 4 or got[1] == 0:
        return NotImplemented
    p, nd = got
    return _wrap(level, dispatch(name, raw, (p, _shifted(args[1], nd)) + tuple(args[2:]), {}))


def _rule_roll(level, name, raw, args, kwargs):
    got = _only_first_batched(level, args, kwargs)
    if got is None or kwargs or got[1] == 0:
        return NotImplemented
    p, nd = got
    shifts, dims = args[1], args[2] if len(args) > 2 else None
    if dims is None:  # the flattened example rolls: roll each row of the flattened batch
        rolled = dispatch(name, raw, (_reshape(p, (p.shape[0], -1)), shifts, 1), {})
        return BatchedTensor(_reshape(rolled, tuple(p.shape)), level)
    dims = tuple(_shifted(d, nd) for d in _dims(dims))
    return _wrap(level, dispatch(name, raw, (p, shifts, dims), {}))


def _rule_diag_embed(level, name, raw, args, kwargs):
    got = _only_first_batched(level, args, kwargs)
    if got is None or got[1] == 0:
        return NotImplemented
    p, nd = got
    params = dict(zip(("offset", "dim1", "dim2"), args[1:]), **kwargs)
    for k in ("dim1", "dim2"):  # dims of the result, which has one dim more per example
        d = params.get(k, -2 if k == "dim1" else -1)
        params[k] = _shifted(d, nd + 1)
    return _wrap(level, dispatch(name, raw, (p,), params))



RULES.update(swapaxes=_simple(_rule_transpose), swapdims=_simple(_rule_transpose),
             movedim=_rule_movedim, moveaxis=_rule_movedim, narrow=_rule_narrow,
             roll=_rule_roll, tril=_rule_matrix_function, triu=_rule_matrix_function,
             diag_embed=_rule_diag_embed, cummax=_rule_along_dim(1, None),
             cummin=_rule_along_dim(1, None))
