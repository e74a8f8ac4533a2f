"""The records of a full ``sum()`` and ``mean()`` of a real CPU array, spelled out.

A loss ends in one of them every step. Through the general helpers a full mean cost two
records' worth of layers (the sum's ``result``, then ``s / n`` through the scalar operator,
named twice); here the common case appends the same records directly: the flat scatter
(``SCATTER_STRIDED`` with ``(1, n, 0, 0)``) and, for the mean, the scale by ``1 / n``
(``MULC``) named ``MeanBackward0`` with the sum as its first record. Anything else (a view,
inference tensors ever used, a float32 or complex value, a segment check due) takes the
general path: ``record_sum(value, x, seg, ints)`` (movement's) and ``s / n``.
"""

from .. import tape
from .. import tensor as _tensor_mod
from ..registry import Op
from ..tensor import with_history
from . import record as R
from .node_names import name_node

_SCATTER, _MULC = int(Op.SCATTER_STRIDED), int(Op.MULC)
_local = tape._local


def full_sum(value, x, n, record_sum):
    """The recorded full sum ``value`` of ``x`` (``n`` elements, requires grad, grad mode on)."""
    if type(value) is not float or x._base is not None or _tensor_mod._inference_used:
        return record_sum(value, x, R.segment_for(x), (1, n, 0, 0))
    seg = R.segment_for(x)
    a = x._rec if x._seg is seg else tape.slot(seg, x)
    iaux = seg.iaux
    aux = len(iaux)
    iaux += (1, n, 0, 0)
    r = seg.n
    seg.n = r + 1
    seg.ints += (_SCATTER, a, -1, aux, -1, 1)  # (a float value: never swept in float32)
    return with_history(value, seg, r)


def full_mean(value, x, n, record_sum):
    """``full_sum``'s record and the scale by ``1 / n`` (``n`` > 0) after it, named as PyTorch's
    ``MeanBackward0`` (its first record the sum's)."""
    s = full_sum(value, x, n, record_sum)
    seg = s._seg
    if seg is None or type(s._data) is not float or seg is not _local.seg or \
            seg.n >= seg.check_at:  # (``s / n`` takes its general path there too)
        return name_node(s / n, "MeanBackward0", s)
    i = seg.n
    faux = seg.faux
    aux = len(faux)
    faux.append(1.0 / n)  # (``s / n`` records ``s * (1 / n)``)
    seg.n = i + 1
    seg.ints += (_MULC, s._rec, -1, aux, -1, 1)
    names = seg.node_names
    if names is None:
        names = seg.node_names = {}
    names[i] = ("MeanBackward0", s._rec, None)
    return with_history(value / n, seg, i)
