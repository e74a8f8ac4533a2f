"""PyTorch's node names for ops that tapegrad records otherwise (``grad_fn`` introspection).

PyTorch names a node after the op as it was called: ``x.mean()`` is ``MeanBackward0`` whose
next function is ``x``'s, where tapegrad records a sum and a scale; ``x.max(0)`` is
``MaxBackward0`` where tapegrad records an indexed gather and a reshape. Such an op marks its
result here: the name, and the record whose inputs stand for the node's (its first record),
so ``next_functions`` skips the records inside. The table lives on the segment itself, written
only by ops that need it; a record not in it keeps its registry name.
"""

from .. import tape
from ..tensor import Tensor


def name_node(t, name, first=None, pick=None):
    """Name the node of ``t``'s record ``name`` (PyTorch's); ``first``: the tensor made by the
    op's first record (None: ``t``'s own), whose inputs become the node's ``next_functions``;
    ``pick``: which of those inputs, in PyTorch's order (None: all; a None in it stands for an
    input that requires no grad, ``(None, 0)`` in ``next_functions``). Returns ``t``."""
    seg = t._seg
    if seg is None:  # nothing recorded (grad mode off, no input requiring grad)
        return t
    names = seg.node_names
    if names is None:
        names = seg.node_names = {}
    inner = None
    if first is not None and first is not t and first._seg is seg:
        inner = first._rec
    names[t._rec] = (name, inner, pick)
    return t


def name_record(t, op, name, pick=None):
    """``name_node(t, name, pick=pick)`` where ``t``'s record is of op ``op``, the form ``pick``
    was written for (a dtype's cast after it, or a complex rule, keeps its own name)."""
    seg = t._seg
    if seg is None:
        return t
    ints = seg.ints  # (the newest record is read where it waits: no flush of the segment)
    code = ints[-tape.NFIELDS] if ints and t._rec == seg.n - 1 else \
        int(seg.records()[t._rec, tape.OP])
    return name_node(t, name, pick=pick) if code & tape.CODE_MASK == int(op) else t


def name_view(t, x, name):
    """View ``t`` of ``x`` named as PyTorch's node of the view op called, where the tape records
    a reshape or a strided gather (``ViewBackward0``, ``AsStridedBackward0``). Returns ``t``."""
    return t if t is x or t._seg is None else name_node(t, name)


def named(seg, rec):
    """``(name, first record or None, pick or None)`` given to record ``rec`` of ``seg``, or
    None."""
    names = seg.node_names
    return None if names is None else names.get(rec)


# ``x / c`` is recorded as ``x * (1 / c)`` (one record, the product's rule) and named as
# PyTorch's ``DivBackward0`` with this entry (``name_entry(t, DIV)``)
DIV = ("DivBackward0", None, None)
# ``x - c`` is recorded as ``x + (-c)`` (SubBackward0); ``c - x`` as ``-x`` with the value
# ``c - x`` (the same derivative: RsubBackward1, whose one input is ``x``)
SUB = ("SubBackward0", None, None)
RSUB = ("RsubBackward1", None, (0,))
# ``reshape`` of a tensor it cannot view (a copy) is PyTorch's ``UnsafeViewBackward0``
UNSAFE_VIEW = ("UnsafeViewBackward0", None, None)


def name_entry(t, entry):
    """``name_node(t, name)`` for an op's hot path: ``entry`` is a kept ``(name, None, None)``.
    Returns ``t``."""
    seg = t._seg
    if seg is not None:
        names = seg.node_names
        if names is None:
            names = seg.node_names = {}
        names[t._rec] = entry
    return t


class Inputs(tuple):
    """The records standing for a named node's inputs, in PyTorch's order (-1: one that
    requires no grad), where they are inputs of several of the op's records (``addcmul``'s
    ``input`` and ``tensor1 * tensor2``)."""

    __slots__ = ()


def _slot_of(seg, u):
    """The record of ``seg`` that stands for tensor ``u`` (-1: ``u`` requires no grad; None: it
    was not imported there)."""
    if not isinstance(u, Tensor) or not u._rg:
        return -1
    if u._seg is seg:
        return u._rec
    if u._seg is None:  # a leaf: its IMPORT record on seg (tape.slot)
        imp = u._imp
        return imp[1] if imp[0] == seg.order else None
    return seg.foreign.get((id(u._seg), u._rec))


def name_inputs(t, name, *inputs):
    """Name ``t``'s node ``name`` (PyTorch's, for an op of several records) with the
    ``next_functions`` of the op's ``inputs`` (tensors or numbers, PyTorch's order). Where one
    cannot be found on ``t``'s segment, or ``t`` is not a record newer than theirs (the op
    returned an input), only the name. Returns ``t``."""
    seg = t._seg
    if seg is None or any(u is t for u in inputs):
        return t
    recs = tuple(_slot_of(seg, u) for u in inputs)
    if None in recs or max(recs, default=-1) >= t._rec:
        return name_node(t, name)
    return name_node(t, name, pick=Inputs(recs))
