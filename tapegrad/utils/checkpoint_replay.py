"""Recomputing a checkpointed segment's saved values from its own records, without Python.

A checkpointed segment keeps its records and drops their saved values (``checkpoint.py``).
When every record is an op whose value is a pure function of its inputs' values that NumPy
computes the same way each time (an elementwise op, the addition of a number, a matrix
product, a strided gather: the layers of an MLP), the values can be recomputed by walking the records in order, each record's
value from those of its inputs, and the saved values put back where the sweep reads them. That
costs the NumPy work alone, where running the checkpointed function again also pays for
dispatching and recording every op a second time (at width 64 twice the NumPy work).

Every value comes out bit for bit as in the forward: each record computes with the function
its forward called (``OpDef.array_forward``), on arrays of the same values, dtypes and layout.
Whatever else the segment holds (reductions, reshapes, custom Functions, scalar records, a
product with a number, which records ``x / c`` and ``c - x`` by their derivatives' factor, an
input from a segment the function did not receive as an argument) makes ``replay`` decline
before it changes anything, and the function runs again instead. A record's constant input (one
that needs no gradient, a dropout mask) is kept when the other values are dropped (``constants``):
it is nowhere else, and a record whose forward did not save it cannot be replayed.
"""

import numpy as np

from .. import tape
from ..ops.record import PyRecord, saved_array
from ..registry import REGISTRY, Op
from ..tensor import Tensor

_IMPORT, _GATHER, _MATMUL = int(Op.IMPORT), int(Op.GATHER_STRIDED), int(Op.MATMUL)
_ADDC, _CODE_MASK = int(Op.ADDC), tape.CODE_MASK
_F64 = np.dtype(np.float64)
_as_strided = np.lib.stride_tricks.as_strided
_contig = np.ascontiguousarray


def constants(seg):
    """Indices into ``seg.avals`` of the saved constant inputs of elementwise records: the
    values to keep when the others are dropped (a matrix product keeps its own, see
    ``product_constants``)."""
    # the records are usually still pending as a list of ints: walked in Python, a segment
    # of tens of records costs less than NumPy's fixed costs per call
    ints = seg.ints if not seg.nbuf else seg.records().ravel().tolist()
    binary = _binary_codes()
    keep = []
    for r in range(0, len(ints), 6):
        op = ints[r] & _CODE_MASK
        if op in binary and (ints[r + 1] < 0 or ints[r + 2] < 0) and ints[r + 4] > 0 and \
                ints[r + 4] & 1:
            xpos, ypos = _info(op)[3:5]
            if ints[r + 1] < 0 and xpos >= 0:
                keep.append((ints[r + 4] >> 1) + xpos)
            if ints[r + 2] < 0 and ypos >= 0:
                keep.append((ints[r + 4] >> 1) + ypos)
    return keep


def product_constants(entry):
    """What a matrix product's record keeps of its saved inputs: the constant ones."""
    saved, slots = entry.saved, entry.slots
    if saved is None or len(slots) != 2 or (slots[0] >= 0 and slots[1] >= 0):
        return None
    return [saved[0] if slots[0] < 0 else None, saved[1] if slots[1] < 0 else None]


def replay(seg, args):
    """Recompute the values ``seg``'s records saved, from its records and the values they
    import (leaves, and ``args``: the checkpointed function's arguments); False when a record
    is not one this module replays or an input is no longer what the forward read (the
    function then runs again, and reports it; the values already written are replaced then).

    Stamps: a value read from a tensor now gets that tensor's version; a constant (the
    forward's own array) keeps the forward's stamp; a recomputed value is fresh, needs none.
    """
    sources = {(id(t._seg), t._rec): t for t in args
               if isinstance(t, Tensor) and t._seg is not None}
    imports, avals, avers = seg.imports, seg.avals, seg.avers
    iaux, faux, pyaux = seg.iaux, seg.faux, seg.pyaux
    recs = seg.records().tolist()
    vals = [None] * len(recs)
    read = {}  # record -> the tensor whose value it is (imports): their saves keep a stamp
    views = set()
    for r, (op, a, b, aux, v, size) in enumerate(recs):
        code = op & _CODE_MASK
        if code == _IMPORT:
            t = imports.get(r)
            if type(t) is tuple:
                t = sources.get((id(t[0]), t[1]))
            if not isinstance(t, Tensor):  # an import from elsewhere (or pruned)
                return False
            d = t._data
            if type(d) is float:
                d = np.float64(d)
            elif type(d) is not np.ndarray or d.dtype.kind != "f":  # CUDA, complex
                return False
            vals[r] = d
            read[r] = t
            continue
        if size < 2:  # a scalar record: its value came from ``math``, not NumPy
            return False
        info = _info(code)
        if info is not None:
            f, unary, saves, xpos, ypos, opos = info
            start = v >> 1
            if saves and (v < 0 or not v & 1):
                return False
            x = vals[a] if a >= 0 else (avals[start + xpos] if xpos >= 0 else None)
            if x is None:
                return False
            if unary:
                out = vals[r] = f(x)
            else:
                y = vals[b] if b >= 0 else (avals[start + ypos] if ypos >= 0 else None)
                if y is None or (x.dtype is not y.dtype and _other_dtype(x, y, a, b)) or \
                        x.shape != y.shape:  # (a broadcast operand's gather merges dims: the
                    return False  # record's own shape is not on the tape)
                out = vals[r] = f(x, y)
                if ypos >= 0:
                    _save(avals, avers, start + ypos, y, read.get(b) if b >= 0 else False)
            if xpos >= 0:
                _save(avals, avers, start + xpos, x, read.get(a) if a >= 0 else False)
            if opos >= 0:
                _save(avals, avers, start + opos, out, None)
        elif code == _GATHER:  # a broadcast or a slice: a view of the same elements
            k = iaux[aux]
            strides = iaux[aux + 1 + k : aux + 1 + 2 * k]
            if min(strides, default=0) < 0:
                return False
            flat = _contig(vals[a]).reshape(-1)
            vals[r] = _as_strided(flat[iaux[aux + 1 + 2 * k]:], iaux[aux + 1 : aux + 1 + k],
                                  [s * flat.itemsize for s in strides], writeable=False)
            views.add(r)
        elif code == _ADDC:  # x + c (x - c records c negated: the same sum in IEEE)
            x, c = vals[a], faux[aux]
            if x.dtype.type(c) != c:  # (an integer c rounds once there, twice through c)
                return False
            vals[r] = np.add(x, c)
        elif code == _MATMUL:
            entry = pyaux[aux]
            if type(entry) is not PyRecord or len(entry.slots) != 2 or a in views or \
                    b in views:  # (BLAS may round otherwise for another memory layout)
                return False
            consts = entry.saved or (None, None)
            x = vals[a] if a >= 0 else consts[0]
            y = vals[b] if b >= 0 else consts[1]
            if x is None or y is None or x.dtype.kind != "f" or y.dtype.kind != "f":
                return False
            vals[r] = np.matmul(x, y)
            entry.saved = [x, y]
            old = entry.stamps
            entry.stamps = [_stamp(read.get(a)) if a >= 0 else old[0],
                            _stamp(read.get(b)) if b >= 0 else old[1]]
        else:
            return False
    with seg.lock:  # the values are fresh: version checks look only at changes from now
        seg.epoch, seg._cache = tape.inplace_epoch[0], None
    return True


def _other_dtype(x, y, a, b):
    """Whether NumPy may give ``x op y`` another dtype than the forward did. A constant is
    saved as float32 if it was float32, else as float64: a float64 one beside a narrower
    operand may have been an integer array (the result the narrower type then)."""
    return (a < 0 and x.dtype is _F64) or (b < 0 and y.dtype is _F64)


def _save(avals, avers, i, value, source):
    """Saved value ``i`` recomputed; ``source``: the tensor it was read from (None: fresh,
    False: the forward's own constant, whose stamp stays)."""
    avals[i] = saved_array(value)
    if source is not False and i < len(avers):
        avers[i] = None if source is None else _stamp(source)


def _stamp(t):
    """The version stamp of a value read from tensor ``t`` now (None: a fresh value)."""
    if t is None or type(t._data) is float:
        return None
    vc = t._vcounter()
    return (vc, vc[0])


_ELEMENTWISE = {}  # opcode -> (array forward, unary?, saves, where x, y, out are saved or -1),
# or None: not replayed
_BINARY = None  # the opcodes of the binary ops replayed


def _info(code):
    info = _ELEMENTWISE.get(code, False)
    if info is False:
        info = _ELEMENTWISE[code] = _elementwise_info(code)
    return info


def _elementwise_info(code):
    d = REGISTRY.get(code)
    f = getattr(d, "array_forward", None)
    if f is None or d.kind not in ("unary", "binary") or d.nconst:
        return None
    saves = d.saves
    if saves != tuple(s for s in ("x", "y", "out") if s in saves):  # "m", or another order
        return None
    pos = [saves.index(n) if n in saves else -1 for n in ("x", "y", "out")]
    return (f, d.kind == "unary", saves, *pos)


def _binary_codes():
    global _BINARY
    if _BINARY is None:
        _BINARY = frozenset(int(c) for c in REGISTRY
                            if _info(int(c)) is not None and not _info(int(c))[1])
    return _BINARY
