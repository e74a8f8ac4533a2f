"""Checks of the transforms' tangents and of what a transformed function returns, refused in
``torch.func``'s words: tangents against primals, the ``(output, aux)`` pair of ``has_aux``,
the output's tensor leaves."""

import numpy as np

from ..tensor import Tensor
from .pytree import tree_flatten

# the API each transform's messages name (jacrev reports as vjp, jacfwd and linearize as jvp)
_API = {"vjp": "vjp(f, *primals)", "jacrev": "vjp(f, *primals)",
        "jvp": "jvp(f, primals, tangents)", "jacfwd": "jvp(f, primals, tangents)",
        "linearize": "jvp(f, primals, tangents)"}


def split_aux(out, has_aux, name):
    """``(output, aux)`` of ``func``'s result (aux None without ``has_aux``)."""
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{_API.get(name, name)}: output of function f should be a tuple: "
                           "(output, aux) if has_aux is True")
    tensors_only(out[1])
    return out


def tensors_only(aux):
    """``aux``, refused where its leaves are not all tensors (None too), as ``torch.func``'s
    transforms refuse it (tapegrad's own ``value_and_grad`` passes any aux on)."""
    if isinstance(aux, (tuple, list)):
        for a in aux:
            tensors_only(a)
    elif isinstance(aux, dict):
        for a in aux.values():
            tensors_only(a)
    elif not isinstance(aux, Tensor):
        raise RuntimeError(f"Expected tensors, got unsupported type {type(aux)}")
    return aux


def tensor_leaves(out, name):
    """The output's leaves and their spec: tensors, at least one (``vjp``'s floating-point or
    complex: an integer output has no cotangent)."""
    api = _API.get(name, name)
    leaves, spec = tree_flatten(out)
    if not leaves:
        raise RuntimeError(f"{api}: Expected f to be a function that has non-empty output "
                           f"(got output = {[None] if out is None else leaves})")
    for t in leaves:
        if not isinstance(t, Tensor):
            raise RuntimeError(f"{api}: expected f(*primals) to return only tensors, got "
                               f"unsupported type {type(t)}")
    if name == "vjp":
        for t in leaves:
            if t.dtype.kind not in "fc":
                raise RuntimeError("vjp(f, ...): All outputs of f must be floating-point or "
                                   f"complex Tensors, got Tensor with dtype torch.{t.dtype}")
    return leaves, spec


def tangents_in(tangents, primals, name):
    """The tangents' leaves as tensors, checked against the primals' as ``jvp`` (or
    ``linearize``'s ``jvp_fn``) does: structure, floating dtypes (a number or array converts),
    shapes, and for ``linearize`` the primal's dtype."""
    from ..ops.record import as_tensor

    tl, tspec = tree_flatten(tangents)
    pl, pspec = tree_flatten(primals)
    if not pl:
        raise RuntimeError(f"{_API['jvp']}: Expected primals to contain at least one Tensor.")
    if tspec != pspec:
        if name == "linearize":
            raise RuntimeError(f"Expected the tangents {tspec} to have the same argspec as the "
                               f"primals {pspec}")
        raise RuntimeError(f"{_API['jvp']}: Expected primals and tangents to have the same "
                           "python structure. For example, if primals is a tuple of 3 tensors, "
                           f"tangents also must be. Got primals with structure {pspec} and "
                           f"tangents with structure {tspec}")
    out = []
    for i, (p, t) in enumerate(zip(pl, tl)):
        for what, x in (("primal", p), ("tangent", t)):
            if not isinstance(x, Tensor) and np.asarray(x).dtype.kind not in "biufc":
                raise RuntimeError(f"{_API['jvp']}: Expected {what}s to only contain Tensors, "
                                   f"got {type(x)}")
            if isinstance(x, Tensor) and x.dtype.kind not in "fc":
                raise ValueError(f"Expected {what} to be floating point or complex, but got: "
                                 f"torch.{x.dtype}")
        t = as_tensor(t)
        pshape = tuple(np.shape(p) if not isinstance(p, Tensor) else p.shape)
        if pshape != tuple(t.shape):
            if name == "linearize":
                raise RuntimeError(f"tangent:{i} with shape {list(t.shape)} in flattened pytree "
                                   f"doesn't match the shape {list(pshape)} of the "
                                   "corresponding primal.")
            raise RuntimeError("Trying to set a forward gradient that has a different size than "
                               "that of the original Tensor, this is not supported. Tensor is of "
                               f"size {list(pshape)} while the given forward gradient is of size "
                               f"{list(t.shape)}.")
        if name == "linearize" and isinstance(p, Tensor) and t.dtype != p.dtype:
            raise RuntimeError(f"tangent:{i} with dtype torch.{t.dtype} in flattened pytree "
                               f"doesn't match the dtype torch.{p.dtype} of the corresponding "
                               "primal.")
        out.append(t if t.dtype.kind in "fc" else t.to(np.float64))
    return out
