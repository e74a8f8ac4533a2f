"""``Tensor.grad_fn``: a small object naming the op that produced a tensor."""

from .. import tape
from ..registry import REGISTRY

_classes = {}


class Node:
    """The backward node of a recorded op (``grad_fn``). Its class name is the node name."""

    __slots__ = ("_seg", "_rec", "_meta")

    def __init__(self, seg, rec, meta=None):
        self._seg = seg
        self._rec = rec
        self._meta = meta  # (shape, dtype) of the tensor it was read from, if any

    def name(self):
        return type(self).__name__

    def register_prehook(self, fn):
        """Call ``fn(grad_outputs)`` when the node is about to run; a returned tuple replaces
        ``grad_outputs``. Returns a handle whose ``remove()`` unregisters it."""
        from .node_hooks import register

        return register(self, fn, post=False)

    def register_hook(self, fn):
        """Call ``fn(grad_inputs, grad_outputs)`` when the node has run; a returned tuple
        replaces ``grad_inputs``. Returns a handle whose ``remove()`` unregisters it."""
        from .node_hooks import register

        return register(self, fn, post=True)

    def _key(self):
        from .node_hooks import node_key

        return (id(self._seg), node_key(self._seg, self._rec))

    def __eq__(self, other):  # one node, however many times ``grad_fn`` made an object for it
        return isinstance(other, Node) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    @property
    def next_functions(self):
        recs = self._seg.records()
        return tuple((_node_at(self._seg, s), 0)
                     for s in (int(recs[self._rec, tape.A]), int(recs[self._rec, tape.B]))
                     if s >= 0)

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"


def _node_at(seg, rec):
    """The node of record ``rec``: an import stands for its source, a leaf's AccumulateGrad or
    the record of another segment it was taken from (a ``create_graph`` backward records on a
    segment of its own, importing the forward's values)."""
    while int(seg.records()[rec, tape.OP]) & tape.CODE_MASK == 0:
        src = seg.imports.get(rec)
        if type(src) is not tuple:
            return _class("AccumulateGrad")(seg, rec)
        seg, rec = src
    return _class(_name_of(seg, rec))(seg, rec)


def _class(name):
    cls = _classes.get(name)
    if cls is None:
        cls = _classes[name] = type(name, (Node,), {"__slots__": ()})
    return cls


def _name_of(seg, rec):
    recs = seg.records()
    code = int(recs[rec, tape.OP]) & tape.CODE_MASK
    from ..ops.backward_ops import links_of
    from ..registry import Op

    if code == Op.CUSTOM or code == Op.OUTPUT:
        entry_rec = rec if code == Op.CUSTOM else int(recs[rec, tape.A])
        ctx = seg.pyaux[int(recs[entry_rec, tape.AUX])]
        return getattr(ctx, "node_name", "CustomBackward")
    if code == Op.DEPENDS:  # named after the derivative it stands for
        name = seg.pyaux[int(recs[rec, tape.AUX])].params.get("name")
        if name is not None:
            return name
    links = links_of(seg)  # an op of several records named as PyTorch's one node
    if links is not None and links.get(rec, (None,))[0] is not None:
        return links[rec][0]
    d = REGISTRY[code]
    if d.grad_fn_of is not None:  # (one op of PyTorch's several: its case's name)
        return d.grad_fn_of(seg.pyaux[int(recs[rec, tape.AUX])].params) or d.grad_fn
    return d.grad_fn


def node_for(t):
    return _class(_name_of(t._seg, t._rec))(t._seg, t._rec, (tuple(t.shape), t.dtype))
