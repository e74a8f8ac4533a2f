"""Jacobians and Hessians: ``jacrev`` (reverse mode), ``jacfwd`` (forward mode), ``hessian``."""

import functools

import numpy as np

from .. import grad_mode as _gm
from ..tensor import Tensor
from .aux_outputs import aux_out
from .pytree import tree_flatten, tree_map, tree_unflatten
from .randomness import running
from .forward import linearized_from, plain_forward, push_tangents, record_for_forward, value
from .transforms import (_check_argnums, _create_graph, _depth, _linearized, _push,
                         _reads_outer, _tensor_leaves, jvp, vjp)

__all__ = ["jacrev", "jacfwd", "hessian"]


def _basis(sizes, like_dtype=np.float64, leaves=None):
    """One-hot rows: for a total of N elements, the N x N identity cut per leaf, each block on
    its leaf's device (a cotangent or tangent must be on its tensor's device)."""
    from ..creation import tensor

    n = int(sum(sizes))
    eye = np.eye(n, dtype=like_dtype)
    out, k = [], 0
    for j, s in enumerate(sizes):
        out.append(tensor(eye[:, k:k + s], device=None if leaves is None else leaves[j].device))
        k += s
    return out


_VECTORIZE_LIMIT = 1 << 24  # elements of the replicated inputs; above it, one row at a time


def _replicated(diff, n):
    """Each argument's leaves repeated ``n`` times along a new first dim (differentiably:
    enclosing transforms see through the expand)."""
    from ..ops.record import as_tensor

    out = []
    for a in diff:
        leaves, spec = tree_flatten(a)
        reps = []
        for t in leaves:
            t = t if isinstance(t, Tensor) else as_tensor(t)
            if t.dtype.kind != "f":
                t = t.to(np.float64)
            reps.append(t.unsqueeze(0).expand((n,) + tuple(t.shape)))
        out.append(tree_unflatten(reps, spec))
    return out


def _vectorizable(diff, n):
    total = sum(int(np.prod(np.shape(t) if not isinstance(t, Tensor) else t.shape))
                for a in diff for t in tree_flatten(a)[0])
    return n > 1 and total * n <= _VECTORIZE_LIMIT


def _batched_rows(f, diff, cts, n, has_aux):
    """All rows of the Jacobian in one batched pass: vmap over (copies of the inputs, rows of
    the identity) of the vjp, so each example's backward is independent and one sweep of the
    batched graph computes them all. None when ``f`` cannot be batched (a loop is used)."""
    from .vmap import vmap

    if not _vectorizable(diff, n):
        return None

    def row(xs, ct):
        r = vjp(f, *xs, has_aux=has_aux)
        return r[1](ct)

    try:
        return vmap(row)(_replicated(diff, n), cts)
    except Exception:  # data-dependent control flow, .item(), in-place ops...
        return None


def _batched_cols(f, diff, basis, n, ospec, has_aux, randomness="error"):
    """All columns of the Jacobian in one batched pass: vmap of the jvp over (copies of the
    inputs, columns of the identity); None when ``f`` cannot be batched."""
    from .vmap import vmap

    if not _vectorizable(diff, n):
        return None
    trees = [tree_flatten(a)[1] for a in diff]
    k = 0
    tans = []
    for spec in trees:
        tans.append(tree_unflatten(basis[k:k + spec.num_leaves], spec))
        k += spec.num_leaves

    def col(xs, ts):
        return jvp(f, tuple(xs), tuple(ts), has_aux=has_aux)[1]

    try:
        return vmap(col, randomness=randomness)(_replicated(diff, n), tans)
    except Exception:
        return None


def _refuse_complex(name, tree, is_input):
    """PyTorch's jacrev and jacfwd take real inputs and outputs only (a complex Jacobian has no
    single convention)."""
    for i, t in enumerate(tree_flatten(tree)[0]):
        if isinstance(t, Tensor) and t.dtype.kind == "c":
            kind = "inputs" if is_input else "outputs"
            raise RuntimeError(f"{name}: Expected all {kind} to be real but received complex "
                               f"tensor at flattened input idx: {i}")


def _real_outputs(func, has_aux):
    """``func`` refusing complex outputs as it returns them (before a sweep meets them)."""

    def checked(*args):
        out = func(*args)
        main = out[0] if has_aux and isinstance(out, tuple) and len(out) == 2 else out
        _refuse_complex("jacfwd", main, False)
        return out

    return checked


def _restricted(func, args, argnums):
    """The positions ``argnums`` picks, those arguments, and ``func`` of them alone (the other
    arguments held at ``args``)."""
    idx = _check_argnums(argnums, len(args))
    diff = tuple(args[i] for i in idx)

    def f_diff(*d):
        full = list(args)
        for i, v in zip(idx, d):
            full[i] = v
        return func(*full)

    f_diff.own_args = args  # (the arguments held are the function's own: func/captures.py)
    return idx, diff, f_diff


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None):
    """The Jacobian of ``func`` w.r.t. ``args[argnums]`` by reverse mode (``torch.func``):
    ``vmap`` of the vjp over the rows of the identity. Each output leaf's Jacobian has shape
    ``out.shape + in.shape``; tuple ``argnums`` give a tuple per output leaf.

    Without an enclosing transform every row comes from one sweep carrying all the seeds;
    ``chunk_size`` bounds how many rows one sweep (or one vmap) carries.

    Example:
        >>> import tapegrad as tg
        >>> tg.func.jacrev(lambda a: a * a)(tg.tensor([1., 2.]))
        tensor([[2., 0.],
                [0., 4.]])
    """
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    def wrapper(*args):
        from .vmap import vmap

        _refuse_complex("jacrev", args, True)
        idx, diff, f_diff = _restricted(func, args, argnums)

        versions = _versions(args)
        res = vjp(f_diff, *diff, has_aux=has_aux)
        out, vjp_fn = res[0], res[1]
        outs, ospec = _tensor_leaves(out, "jacrev")
        _refuse_complex("jacrev", outs, False)
        sizes = [o.numel() for o in outs]
        rows = _basis(sizes, leaves=outs)
        cts = tree_unflatten([r.reshape((sum(sizes),) + tuple(o.shape))
                              for r, o in zip(rows, outs)], ospec)
        n = sum(sizes)
        jac = _rows_in_chunks(vjp_fn.rows, tree_flatten(cts)[0], n, chunk_size)
        if jac is None and n == 1:  # one row: one vjp, no batching needed
            jac = tuple(tree_map(lambda t: t.unsqueeze(0), j)
                        for j in vjp_fn(tree_unflatten([c[0] for c in tree_flatten(cts)[0]],
                                                       ospec)))
        if jac is None and chunk_size is None and _versions(args) == versions:
            # differentiable rows: the vjp batched by vmap, running func again; not where
            # func changed an argument in place (a BatchNorm's buffers passed in), as
            # PyTorch's jacrev runs it once
            jac = _batched_rows(f_diff, diff, cts, n, has_aux)
        if jac is None:
            jac = vmap(vjp_fn, chunk_size=chunk_size)(cts)  # per argument: leading dim N
        per_arg = [tree_flatten(j) for j in jac]
        out_jacs = []
        k = 0
        for o, s in zip(outs, sizes):
            entry = []
            for leaves, spec in per_arg:
                entry.append(tree_unflatten(
                    [leaf[k:k + s].reshape(tuple(o.shape) + tuple(leaf.shape[1:]))
                     for leaf in leaves], spec))
            out_jacs.append(tuple(entry) if isinstance(argnums, tuple) else entry[0])
            k += s
        result = tree_unflatten(out_jacs, ospec)
        return (result, res[2]) if has_aux else result

    functools.update_wrapper(wrapper, func, updated=())  # (torch.func's wraps)
    return wrapper


def _versions(args):
    return [t._version for t in tree_flatten(args)[0] if isinstance(t, Tensor)]


def _rows_in_chunks(rows, cts, n, chunk_size):
    """``rows(cts)`` (one sweep carrying every seed), ``chunk_size`` seeds at a time; None
    when the rows must be differentiable (``rows`` declines)."""
    if chunk_size is None or n <= chunk_size:
        return rows(cts)
    parts = []
    for lo in range(0, n, chunk_size):
        part = rows([c[lo:lo + chunk_size] for c in cts])
        if part is None:
            return None
        parts.append(part)
    from ..ops import cat

    return tuple(tree_map(lambda *ps: cat(list(ps), 0), *ps) for ps in zip(*parts))


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian of ``func`` w.r.t. ``args[argnums]`` by forward mode (``torch.func``):
    ``vmap`` of the jvp over the columns of the identity (the linearization is built once).

    Example:
        >>> import tapegrad as tg
        >>> tg.func.jacfwd(lambda a: a * a)(tg.tensor([1., 2.]))
        tensor([[2., 0.],
                [0., 4.]])
    """

    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")

    def wrapper(*args):
        from .vmap import vmap

        _refuse_complex("jacfwd", args, True)
        idx, diff, f_diff = _restricted(_real_outputs(func, has_aux), args, argnums)
        for t in tree_flatten(diff)[0]:
            if isinstance(t, Tensor) and t.dtype.kind != "f":
                raise ValueError(f"Expected primal to be floating point or complex, but got: "
                                 f"torch.{t.dtype}")
        if plain_forward(f_diff, diff, ()):
            # every column at once: n tangent directions pushed through the records; func
            # runs once, so its random draws are shared by the columns unless they raise
            with running(randomness if randomness == "error" else "same", 0, 1):
                _, aux, outs, ospec, ins, trees, start = record_for_forward(
                    f_diff, diff, has_aux, "jacfwd")
            if not _reads_outer(start, outs, ins):  # (else: differentiable, below)
                sizes = [t.numel() for t in ins]
                n = sum(sizes)
                eye, k = np.eye(n), 0
                blocks = []
                for t, sz in zip(ins, sizes):
                    blocks.append(eye[:, k:k + sz])
                    k += sz
                cols = [value(c) for c in push_tangents(outs, ins, blocks, start, n)]
                return _assemble_columns(cols, outs, ospec, trees, argnums, has_aux, aux, ins)
            # (func read a tensor requiring grad from outside: differentiable columns, below,
            # from this recording; func runs again only batched, or not at all)
            first = (aux, outs, ospec, ins, trees)
        else:
            first = None
        if first is None:
            out, aux, outs, ospec, us, gs, ins, trees, cg = _linearized(f_diff, diff, has_aux,
                                                                         "jacfwd")
        else:
            aux, outs, ospec, ins, trees = first
        in_leaves = [t for leaves, _ in trees for t in leaves]
        sizes = [t.numel() for t in in_leaves]
        n = sum(sizes)
        basis = [r.reshape((n,) + tuple(t.shape))
                 for r, t in zip(_basis(sizes, leaves=in_leaves), in_leaves)]
        cols = _batched_cols(f_diff, diff, basis, n, ospec, has_aux, randomness)
        if cols is not None:
            cols = tree_flatten(cols)[0]
        else:
            if first is not None:  # (the double-vjp graph on the recording made above)
                _, aux, outs, ospec, us, gs, ins, trees, cg = linearized_from(
                    None, aux, outs, ospec, ins, trees)

            def push(*ts):
                ts = list(ts)
                _depth.n += 1
                try:
                    with _gm.enable_grad():
                        return _push(gs, us, ts, outs, cg or any(t._rg for t in ts), True)
                finally:
                    _depth.n -= 1

            cols = vmap(push)(*basis)  # per output leaf: (N,) + out.shape
        return _assemble_columns(cols, outs, ospec, trees, argnums, has_aux, aux, ins)

    functools.update_wrapper(wrapper, func, updated=())  # (torch.func's wraps)
    return wrapper


def _assemble_columns(cols, outs, ospec, trees, argnums, has_aux, aux, ins):
    """jacfwd's result from the columns ``(N,) + out.shape`` of each output leaf (``ins``:
    the function's inputs, whose history ``aux`` leaves)."""
    out_jacs = []
    for o, c in zip(outs, cols):
        entry, k = [], 0
        for leaves, spec in trees:
            parts = []
            for t in leaves:
                s = t.numel()
                piece = c[k:k + s]  # (s,) + out.shape
                nd_o = o.ndim
                piece = piece.permute(tuple(range(1, nd_o + 1)) + (0,)) if nd_o else piece
                parts.append(piece.reshape(tuple(o.shape) + tuple(t.shape)))
                k += s
            entry.append(tree_unflatten(parts, spec))
        out_jacs.append(tuple(entry) if isinstance(argnums, tuple) else entry[0])
    result = tree_unflatten(out_jacs, ospec)
    if has_aux:  # (as the result, a graph only where tensors from outside are read)
        aux = aux_out(aux, ins, any(isinstance(t, Tensor) and t._rg
                                    for t in tree_flatten(result)[0]))
    return (result, aux) if has_aux else result


def hessian(func, argnums=0):
    """The Hessian of a scalar ``func``: ``jacfwd(jacrev(func, argnums), argnums)``, or, when
    no enclosing transform needs it differentiable, ``jacrev(jacrev(...))``: the gradient
    re-taped once and all its rows in one sweep carrying every seed.

    Example:
        >>> import tapegrad as tg
        >>> tg.func.hessian(lambda a: (a ** 3).sum())(tg.tensor([1., 2.]))
        tensor([[ 6.,  0.],
                [ 0., 12.]])
    """
    fwd = jacfwd(jacrev(func, argnums), argnums)
    rev = jacrev(jacrev(func, argnums), argnums)

    def wrapper(*args):
        idx = _check_argnums(argnums, len(args))
        leaves = [t for i in idx for t in tree_flatten(args[i])[0]]
        return (fwd if _create_graph(func, leaves) else rev)(*args)

    functools.update_wrapper(wrapper, func, updated=())  # (torch.func's wraps)
    return wrapper
