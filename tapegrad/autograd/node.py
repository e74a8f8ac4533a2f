"""``Tensor.grad_fn``: a small object naming the op that produced a tensor."""

from .. import tape
from ..grad_mode import NO_GRAD_VIEW
from ..ops.node_names import Inputs, named
from ..registry import PYTHON_BASE, REGISTRY, Op

_classes = {}
_IMPORT, _CUSTOM, _OUTPUT, _SCATTER_STRIDED, _GATHER_STRIDED = (
    int(o) for o in (Op.IMPORT, Op.CUSTOM, Op.OUTPUT, Op.SCATTER_STRIDED, Op.GATHER_STRIDED))
# one-constant records PyTorch records as a binary node of the tensor and a wrapped number
_WRAPPED_NUMBER = frozenset(int(o) for o in (Op.ADDC, Op.MULC))
_QUALIFIED = {"AccumulateGrad": "torch::autograd::AccumulateGrad",  # PyTorch's name()
              "CopyBackwards": "torch::autograd::CopyBackwards",
              "CopySlices": "torch::autograd::CopySlices"}


class Node:
    """The backward node of a recorded op (``grad_fn``). Its class name is the node name."""

    __slots__ = ("_seg", "_rec", "_meta")

    def __init__(self, seg, rec, meta=None):
        self._seg = seg
        self._rec = rec
        self._meta = meta  # (shape, dtype) of the tensor it was read from, if any

    def name(self):
        return _QUALIFIED.get(type(self).__name__) or type(self).__name__

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
        """One ``(node, 0)`` per input of the op, ``(None, 0)`` for one that requires no grad
        (and for the number of ``x * 2``), as PyTorch lists them."""
        seg, rec = self._seg, self._rec
        entry = named(seg, rec)
        if entry is not None and entry[1] is not None:
            rec = entry[1]  # an op of several records: the inputs of its first
        inputs = _inputs(seg, rec)
        if entry is not None and entry[2] is not None:  # (some of them, in PyTorch's order;
            picked = entry[2]  # None: no grad; or the records of the op's inputs themselves)
            inputs = picked if type(picked) is Inputs else \
                tuple(-1 if k is None else inputs[k] for k in picked)
        return tuple((None, 0) if s < 0 else (_node_at(seg, s), 0) for s in inputs)

    def __repr__(self):
        return f"<{type(self).__name__} object at {id(self):#x}>"

    def __getattr__(self, name):  # (only for attributes the node does not have)
        if name.startswith("_saved_"):
            from .saved_values import saved

            return saved(self, name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")


def _inputs(seg, rec):
    """The record ids of the inputs of record ``rec`` as PyTorch's node has them (-1: one that
    requires no grad)."""
    recs = seg.records()
    code = int(recs[rec, tape.OP]) & tape.CODE_MASK
    a, b = int(recs[rec, tape.A]), int(recs[rec, tape.B])
    if code == _IMPORT:
        return ()
    if code >= PYTHON_BASE:
        slots = None if code in (_CUSTOM, _OUTPUT) else \
            getattr(seg.pyaux[int(recs[rec, tape.AUX])], "slots", None)
        return tuple(slots) if slots is not None else tuple(s for s in (a, b) if s >= 0)
    if REGISTRY[code].kind == "binary":
        return (_operand(seg, recs, a), _operand(seg, recs, b))
    return (a, -1) if code in _WRAPPED_NUMBER else (a,)


def _operand(seg, recs, s):
    """Operand ``s`` of an elementwise record as PyTorch's graph has it: one the op broadcast
    itself (a stride-0 gather to more elements, not named ``expand``) is its source."""
    if s >= 0 and int(recs[s, tape.OP]) & tape.CODE_MASK == _GATHER_STRIDED and \
            named(seg, s) is None:
        src = int(recs[s, tape.A])
        if src >= 0 and int(recs[src, tape.SIZE]) < int(recs[s, tape.SIZE]):
            return src
    return s


class _AccumulateGrad(Node):
    """A leaf's node; ``variable`` is the leaf, as PyTorch's."""

    __slots__ = ()

    @property
    def variable(self):
        return self._seg.imports.get(self._rec)


_AccumulateGrad.__name__ = _AccumulateGrad.__qualname__ = "AccumulateGrad"
_classes["AccumulateGrad"] = _AccumulateGrad


def _node_at(seg, rec):
    """The node of record ``rec``: an import stands for its source, a leaf's AccumulateGrad or
    the record of another segment it was taken from (a ``create_graph`` backward records on a
    segment of its own, importing the forward's values); None for a view made under no_grad
    (its gradient reaches nothing: grad_mode.mark_no_grad_view)."""
    while int(seg.records()[rec, tape.OP]) & tape.CODE_MASK == 0:
        src = seg.imports.get(rec)
        if type(src) is not tuple:
            return None if src._multi is NO_GRAD_VIEW else _class("AccumulateGrad")(seg, rec)
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
    entry = named(seg, rec)
    if entry is not None:  # named as the op was called (ops/node_names.py)
        return entry[0]
    by_record = _BY_RECORD.get(code)
    if by_record is not None:
        return by_record(seg, int(recs[rec, tape.AUX]))
    d = REGISTRY[code]
    if d.grad_fn_of is not None:  # (one op of PyTorch's several: its case's name)
        return d.grad_fn_of(seg.pyaux[int(recs[rec, tape.AUX])].params) or d.grad_fn
    return d.grad_fn


def _sum_name(seg, aux):
    """A sum of everything has flat parameters ``(1, n, 0, 0)`` (every element to one): a sum
    over dims whose parameters flatten so is named by ops/node_names.py."""
    return "SumBackward0" if seg.iaux[aux] == 1 and seg.iaux[aux + 2] == 0 else "SumBackward1"


def _matmul_name(seg, aux):
    """PyTorch's matmul dispatches on the operands' dims: dot, mv, mm, bmm."""
    sx, sy = seg.pyaux[aux].in_shapes
    return _MATMUL_NAMES.get((len(sx), len(sy)), "MmBackward0")


_MATMUL_NAMES = {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (3, 3): "BmmBackward0"}
# ops whose node name their record tells (parameters, shapes), where PyTorch has several
_BY_RECORD = {_SCATTER_STRIDED: _sum_name, int(Op.MATMUL): _matmul_name}


def node_for(t):
    return _class(_name_of(t._seg, t._rec))(t._seg, t._rec, (tuple(t.shape), t.dtype))
