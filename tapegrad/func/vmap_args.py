"""``vmap``'s arguments read and checked in torch.func's order and words: ``in_dims`` and
``out_dims`` as prefixes of the inputs' and outputs' pytrees, the batch size, the function's
name as PyTorch's messages give it."""

import functools

import numpy as np

from ..tensor import Tensor
from .pytree import tree_flatten

__all__ = ["batch_args", "broadcast_prefix", "check_out_dims", "name_of", "nones_as_leaves",
           "out_dim", "out_dims_of", "NONE_OUT"]


def name_of(func):
    """How PyTorch's messages name ``func``."""
    if hasattr(func, "__name__"):
        return func.__name__
    if isinstance(func, functools.partial):
        return f"functools.partial({name_of(func.func)}, ...)"
    return repr(func)


def broadcast_prefix(dims, tree):
    """``dims`` (a prefix of ``tree``'s structure) repeated onto each of ``tree``'s leaves;
    None where ``dims`` is not a prefix of it."""
    leaves, spec = tree_flatten(tree)
    if dims is None or isinstance(dims, int):
        return [dims] * len(leaves)
    dleaves, dspec = tree_flatten(dims)
    if dspec == spec:
        return dleaves
    out = []
    return out if _prefix_leaves(dims, tree, out) else None


def _prefix_leaves(d, t, out):
    # module level: a recursive closure would be a reference cycle
    if d is None or isinstance(d, int):
        out.extend([d] * len(tree_flatten(t)[0]))
        return True
    if isinstance(d, dict):
        if not isinstance(t, dict) or set(d) != set(t):
            return False
        return all(_prefix_leaves(d[k], t[k], out) for k in t)
    if not isinstance(d, (tuple, list)) or not isinstance(t, (tuple, list)) or len(d) != len(t):
        return False
    return all(_prefix_leaves(a, b, out) for a, b in zip(d, t))


def batch_args(func, in_dims, args):
    """``(leaves, spec, dims, size)`` of a vmapped call: the flattened arguments, one in_dim
    each, and the batch size."""
    where = f"vmap({name_of(func)}, in_dims={in_dims}, ...)(<inputs>): "
    if not isinstance(in_dims, (int, tuple)):
        raise ValueError(f"{where}expected `in_dims` to be int or a (potentially nested) tuple "
                         f"matching the structure of inputs, got: {type(in_dims)}.")
    if not args:
        raise ValueError(f"vmap({name_of(func)})(<inputs>): got no inputs. Maybe you forgot to "
                         "add inputs, or you are trying to vmap over a function with no inputs. "
                         "The latter is unsupported.")
    leaves, spec = tree_flatten(args)
    if isinstance(in_dims, int):
        dims = [in_dims] * len(leaves)
    else:
        dims = broadcast_prefix(tuple(in_dims), args) if len(in_dims) == len(args) else None
        if dims is None:
            raise ValueError(f"{where}in_dims is not compatible with the structure of `inputs`. "
                             f"in_dims has structure {tree_flatten(in_dims)[1]} but inputs has "
                             f"structure {spec}.")
    sizes = []
    for t, d in zip(leaves, dims):
        if d is None:
            continue
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
            raise ValueError(f"{where}Got in_dim={d} for an input but in_dim must be either an "
                             "integer dimension or None.")
        if not isinstance(t, (Tensor, np.ndarray)):
            raise ValueError(f"{where}Got in_dim={d} for an input but the input is of type "
                             f"{type(t)}. We cannot vmap over non-Tensor arguments, please use "
                             "None as the respective in_dim")
        nd = np.ndim(t) if not isinstance(t, Tensor) else t.ndim
        if not -nd <= d < max(nd, 0) or nd == 0:
            raise ValueError(f"{where}Got in_dim={d} for some input, but that input is a Tensor "
                             f"of dimensionality {nd} so expected in_dim to satisfy -{nd} <= "
                             f"in_dim < {nd}.")
        sizes.append(t.shape[d])
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(n != sizes[0] for n in sizes):
        raise ValueError("vmap: Expected all tensors to have the same size in the mapped "
                         f"dimension, got sizes {sizes} for the mapped dimension")
    return leaves, spec, dims, sizes[0]


def check_out_dims(out_dims, func):
    for d in ([out_dims] if isinstance(out_dims, int) else tree_flatten(out_dims)[0]):
        if d is not None and (not isinstance(d, (int, np.integer)) or isinstance(d, bool)):
            raise ValueError(f"vmap({name_of(func)}, ..., out_dims={out_dims}): `out_dims` must "
                             "be an int, None or a python collection of ints representing "
                             "where in the outputs the vmapped dimension should appear.")


def out_dims_of(out_dims, out, func):
    """One ``out_dims`` entry per leaf of the output ``out`` (PyTorch's error where
    ``out_dims`` does not fit its structure; one tensor takes a 1-tuple too)."""
    if isinstance(out, Tensor) and isinstance(out_dims, tuple) and len(out_dims) == 1:
        out_dims = out_dims[0]
    dims = broadcast_prefix(out_dims, out)
    if dims is None:
        raise ValueError(f"vmap({name_of(func)}, ..., out_dims={out_dims})(<inputs>): out_dims "
                         "is not compatible with the structure of `outputs`. out_dims has "
                         f"structure {tree_flatten(out_dims)[1]} but outputs has structure "
                         f"{tree_flatten(out)[1]}.")
    return dims


def out_dim(d, ndim):
    """``out_dims`` entry ``d`` for an output of ``ndim`` dims (the batch dim included), in
    range as PyTorch checks it."""
    if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
        raise ValueError(f"vmap(..., out_dims={d!r}): `out_dims` must be an int, None or a "
                         "python collection of ints representing where in the outputs the "
                         "vmapped dimension should appear.")
    if not -ndim <= d < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, "
                         f"{ndim - 1}], but got {d})")
    return d % ndim


class NONE_OUT:
    """A ``None`` output, held as a leaf: PyTorch maps over it like any output (an error
    unless its out_dim is None) where the pytrees here take None for an empty node."""


def nones_as_leaves(t):
    if t is None:
        return NONE_OUT
    if isinstance(t, (tuple, list)) and not hasattr(type(t), "_fields"):
        return type(t)(nones_as_leaves(c) for c in t)
    if isinstance(t, dict):
        return {k: nones_as_leaves(v) for k, v in t.items()}
    return t
