"""PyTorch's node names for ops that tapegrad records otherwise (``grad_fn`` introspection).

PyTorch names a node after the op as it was called: ``x.mean()`` is ``MeanBackward0`` whose
next function is ``x``'s, where tapegrad records a sum and a scale; ``x.max(0)`` is
``MaxBackward0`` where tapegrad records an indexed gather and a reshape. Such an op marks its
result here: the name, and the record whose inputs stand for the node's (its first record),
so ``next_functions`` skips the records inside. The table lives on the segment itself, written
only by ops that need it; a record not in it keeps its registry name.
"""

import numpy as np

def name_node(t, name, first=None):
    """Name the node of ``t``'s record ``name`` (PyTorch's); ``first``: the tensor made by the
    op's first record (None: ``t``'s own), whose inputs become the node's ``next_functions``.
    Returns ``t``."""
    seg = t._seg
    if seg is None:  # nothing recorded (grad mode off, no input requiring grad)
        return t
    names = seg.node_names
    if names is None:
        names = seg.node_names = {}
    inner = None
    if first is not None and first is not t and first._seg is seg:
        inner = first._rec
    names[t._rec] = (name, inner)
    return t


def name_view(t, x, name):
    """View ``t`` of ``x`` named as PyTorch's node of the view op called, where the tape records
    a reshape or a strided gather (``ViewBackward0``, ``AsStridedBackward0``). Returns ``t``."""
    return t if t is x or t._seg is None else name_node(t, name)


def named(seg, rec):
    """``(name, first record or None)`` given to record ``rec`` of ``seg``, or None."""
    names = seg.node_names
    return None if names is None else names.get(rec)


def gathered(x, idx, name):
    """``x.flatten()[idx]`` shaped like ``idx`` (a gather and a reshape), differentiable, its
    node named ``name``: the values of ``sort``, ``topk``, ``max(dim)``..."""
    from .movement import gather_index, reshape

    idx = np.asarray(idx, np.int64)
    g = gather_index(x, idx.reshape(-1))
    return name_node(reshape(g, idx.shape), name, g)
