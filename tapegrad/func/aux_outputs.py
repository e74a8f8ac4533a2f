"""The ``aux`` output of a transform (``has_aux=True``), as ``torch.func`` returns it: each
tensor keeps a graph only where it depends on a tensor requiring grad from outside the
transform (a weight the function closes over, an argument with history); a tensor computed
from the transform's own inputs alone comes out requiring no grad, as the unwrapped value
PyTorch returns."""

from ..tensor import Tensor
from .pytree import tree_flatten, tree_unflatten


def aux_out(aux, ins, create_graph):
    """``aux`` with its tensors detached where nothing outside needs their graph: all of them
    without ``create_graph``, else those whose history reaches only the inputs ``ins``."""
    from .vmap import unwrap_all

    own = {id(unwrap_all(t)) for t in ins}
    leaves, spec = tree_flatten(aux)
    return tree_unflatten([t.detach() if isinstance(t, Tensor) and (
        not create_graph or not _reaches_outside(t, own)) else t for t in leaves], spec)


def _reaches_outside(t, own):
    """Whether ``t``'s history reaches a tensor requiring grad other than those in ``own``."""
    if not t._rg:
        return False
    node = t.grad_fn
    if node is None:  # (a leaf requiring grad)
        return id(t) not in own
    seen, stack = set(), [node]
    while stack:
        n = stack.pop()
        if n is None or n in seen:  # (nodes compare by the record they stand for)
            continue
        seen.add(n)
        var = getattr(n, "variable", None)
        if var is not None:
            if id(var) not in own:
                return True
            continue
        stack.extend(f for f, _ in getattr(n, "next_functions", ()))
    return False
