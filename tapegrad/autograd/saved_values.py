"""``grad_fn._saved_self``, ``_saved_other``, ``_saved_result``...: what a node saved for its
backward, under PyTorch's attribute names, for the common ops (mul, div, pow, exp, tanh,
sigmoid; matmul as mm, mv, dot, bmm).

PyTorch saves an operand of a product for the other operand's gradient only, so
``(x * c).grad_fn._saved_self`` is None when ``c`` requires no grad; tapegrad's records may
keep more, which is not shown. A saved input comes back as the leaf itself, or as a tensor
with that input's history; the output as a tensor with the node's own. Each shares the saved
value's memory and version counter (an in-place change of it then fails the backward, as in
PyTorch); reading a value after a backward freed it, or after an in-place change, raises
PyTorch's errors.
"""

import numpy as np

from .. import tape
from ..engine.sweep import FREED_MSG
from ..registry import REGISTRY, Op
from ..tensor import Tensor, _make, _wrap, with_history
from .inplace import check_python_record, check_record

# opcode -> (node names it is shown for, {attribute: (saved value, operand whose gradient
# needs it: None for always)}); a saved value is the registry's "x", "y", "out", or "c0" (the
# record's number as a 0-d float64 tensor) / "c0f" (as a Python float)
_PRODUCT = {"_saved_self": ("x", "b"), "_saved_other": ("y", "a")}
_RESULT = {"_saved_result": ("out", None)}
_ELEMENTWISE = {
    int(Op.MUL): (("MulBackward0",), _PRODUCT),
    int(Op.DIV): (("DivBackward0",), {"_saved_self": ("x", "b"), "_saved_other": ("y", None)}),
    int(Op.POW): (("PowBackward1",), {"_saved_self": ("x", None), "_saved_exponent": ("y", None),
                                      "_saved_result": ("out", None)}),
    int(Op.MULC): (("MulBackward0",), {"_saved_self": (None, None), "_saved_other": ("c0", None)}),
    int(Op.POWC): (("PowBackward0",), {"_saved_self": ("x", None),
                                       "_saved_exponent": ("c0f", None)}),
    int(Op.RPOWC): (("PowBackward2",), {"_saved_self": ("c0f", None),
                                        "_saved_result": ("out", None)}),
    int(Op.EXP): (("ExpBackward0",), _RESULT),
    int(Op.TANH): (("TanhBackward0",), _RESULT),
    int(Op.SIGMOID): (("SigmoidBackward0",), _RESULT),
}
# ``x / c``, recorded as ``x * (1 / c)`` (MULC): PyTorch's DivBackward0 saves the divisor
_DIV_BY_CONSTANT = {"_saved_self": None, "_saved_other": "1/c0"}
# matmul by PyTorch's node: the names of its two saved operands (each saved for the other's
# gradient)
_MATMUL = {"MmBackward0": ("_saved_self", "_saved_mat2"), "BmmBackward0": ("_saved_self",
                                                                            "_saved_mat2"),
           "MvBackward0": ("_saved_self", "_saved_vec"),
           "DotBackward0": ("_saved_self", "_saved_tensor")}


def saved(node, attr):
    """Value of ``node.<attr>`` (``attr`` starts with ``_saved_``); AttributeError where the
    node has no such attribute, as PyTorch's."""
    seg, rec, name = node._seg, node._rec, type(node).__name__
    recs = seg.records()
    row = recs[rec]
    code = int(row[tape.OP]) & tape.CODE_MASK
    if code == Op.MULC and name == "DivBackward0" and attr in _DIV_BY_CONSTANT:
        if _DIV_BY_CONSTANT[attr] is None:
            return None
        return _make(np.array(1.0 / float(seg.faux[int(row[tape.AUX])])))  # (1 / inf: 0)
    spec = _ELEMENTWISE.get(code)
    if spec is not None and name in spec[0] and attr in spec[1]:
        what, needs = spec[1][attr]
        if what is None or (needs is not None and int(row[tape.A if needs == "a" else tape.B]) < 0):
            return None
        if what in ("c0", "c0f"):
            c = float(seg.faux[int(row[tape.AUX])])
            return c if what == "c0f" else _make(np.array(c))
        return _elementwise(node, seg, recs, rec, code, what)
    names = _MATMUL.get(name)
    if code == Op.MATMUL and names is not None and attr in names:
        return _matmul(node, seg, rec, names.index(attr))
    if code == Op.MATMUL and name == "MmBackward0" and attr.endswith("_sym_sizes") and \
            attr[: -len("_sym_sizes")] in names:
        return tuple(seg.pyaux[int(row[tape.AUX])].in_shapes[names.index(attr[:-10])])
    raise AttributeError(f"'{name}' object has no attribute '{attr}'")


def _elementwise(node, seg, recs, rec, code, what):
    v = int(recs[rec, tape.V])
    k = REGISTRY[code].saves.index(what)
    if int(recs[rec, tape.OP]) & (tape.FREED | tape.SPENT) or v < 0 or (v & 1 and seg.avals[(v >> 1) + k]
                                                          is None):
        raise RuntimeError(FREED_MSG)
    check_record(seg, recs, rec)
    i = (v >> 1) + k
    if v & 1:
        value, stamp = seg.avals[i], seg.avers[i] if i < len(seg.avers) else None
    else:  # (a size-1 value, kept as a float: the node's shape and dtype)
        shape, dtype = node._meta if node._meta is not None else ((), np.float64)
        value, stamp = np.array(seg.fvals[i], dtype).reshape(shape), None
    src = rec if what == "out" else int(recs[rec, tape.A if what == "x" else tape.B])
    return _tensor(seg, src, value, stamp)


def _matmul(node, seg, rec, i):
    row = seg.records()[rec]
    entry = seg.pyaux[int(row[tape.AUX])]
    if entry.saved is None or int(row[tape.OP]) & tape.SPENT:
        raise RuntimeError(FREED_MSG)
    if entry.slots[1 - i] < 0:  # (saved for the other operand's gradient only)
        return None
    check_python_record(seg, rec, entry)
    value = entry.saved[i]
    if value is None:
        return None
    stamp = entry.stamps[i] if entry.stamps else None
    return _tensor(seg, entry.slots[i], np.reshape(value, entry.in_shapes[i]), stamp)


def _tensor(seg, src, value, stamp):
    """The saved ``value`` of record ``src`` of ``seg`` (-1: a constant) as a tensor."""
    if src >= 0 and int(seg.records()[src, tape.OP]) & tape.CODE_MASK == Op.IMPORT:
        origin = seg.imports.get(src)
        if isinstance(origin, Tensor):
            return origin  # a leaf: the tensor itself, as PyTorch's
        if isinstance(origin, tuple):
            seg, src = origin
    data = _wrap(value) if isinstance(value, np.ndarray) and value.ndim == 0 else value
    t = _make(data) if src < 0 else with_history(data, seg, src)
    counter = stamp[0] if stamp is not None else None
    if counter is not None:
        t._vc = counter  # (an in-place change of it is then one of the saved value)
    elif type(data) is np.ndarray:
        data.flags.writeable = False  # (a copy only the node holds)
    return t
