"""The Python-float fast path of the arithmetic operators.

Scalar-heavy code (a chain of ``x * 0.9 + sin(x)``) spends its time in Python, not in the sweep:
each generic layer (operand coercion, NumPy call, record helper) costs ~0.1-0.3 µs. For 0-d
float64 tensors held as Python floats, these operators compute with ``float`` arithmetic and
append the *same records* the generic ops in ``elementwise.py`` would (a test checks both paths
agree); anything else falls through to the generic op.
"""

import operator

import numpy as np

from .. import grad_mode as _gm
from .. import tape
from .. import tensor as _tensor_mod
from ..tensor import Tensor, _make, _new, _wrap
from . import elementwise as E
from .elementwise import _const_op
from .node_names import DIV as _DIV_NAME, RSUB as _RSUB_NAME, SUB as _SUB_NAME, name_entry
from .record import rec1, rec2
from ..registry import Op, TORCH_POWERS

_state = _gm._state
_local = tape._local
_current = tape.current
_ndarray = np.ndarray
_ADD, _SUB, _MUL, _DIV = int(Op.ADD), int(Op.SUB), int(Op.MUL), int(Op.DIV)
_ADDC, _MULC, _RDIVC, _NEG = int(Op.ADDC), int(Op.MULC), int(Op.RDIVC), int(Op.NEG)
_POWC = int(Op.POWC)


_plain = _make  # marks inference tensors when inference mode was ever used

# NumPy 2 handles a Python float operand as a "weak" scalar (NEP 50): converted to the array's
# dtype, then the loop runs. That conversion costs ~150 ns per call (an 8-element product takes
# ~430 ns with a float, ~270 with a 0-d array). A float or float32 array meets a constant as
# the same value in its own dtype, so the constants of a program are kept converted, per dtype.
_F64, _F32 = np.dtype(np.float64), np.dtype(np.float32)
_F32_MAX = float(np.finfo(np.float32).max)
_consts64, _consts32, _no_consts = {}, {}, {}  # (_no_consts: other dtypes, kept empty)
_MAX_CONSTS = 256  # distinct constants kept per dtype (a program repeats a few)


def _converted(consts, dt, c):
    """``c`` (a float, not found in ``consts``, the table of ``dt``) as a 0-d array of ``dt``,
    kept there for the next time; ``c`` itself where the table cannot stand for it: other
    dtypes, zeros (0.0 and -0.0 are one key), NaN (never equal to itself) and float32 overflow
    (NumPy warns at each conversion, a kept array would warn once)."""
    if consts is _no_consts or c != c or c == 0.0 or (
            dt is _F32 and not -_F32_MAX <= c <= _F32_MAX):
        return c
    if len(consts) >= _MAX_CONSTS:
        consts.clear()
    a = consts[c] = np.array(c, dt)
    return a


def _operator(general, f, op_tt, save_tt, const_code, const_of, name=None):
    """``x <op> other``; a number ``c`` is recorded as op ``const_code`` with the constant
    ``const_of(c)`` (None: ``c`` itself) and no saved value; ``name``: that record's node name
    entry (node_names.DIV, SUB), None: its own."""
    uf = general.opdef.array_forward  # the ufunc: ``uf(a, b)`` is ``a <op> b`` for arrays
    # without the ndarray operator's deferral checks (~50 ns of a ~0.9 µs op under no_grad)
    sub = uf is np.subtract  # (NumPy subtracts a bool array from another dtype; PyTorch refuses)

    def method(self, other):
        d = self._data
        if type(d) is float:
            to = type(other)
            try:
                if to is float or to is int and -2 ** 63 <= other and other < 2 ** 64:
                    r = f(d, other)  # (an int past 64 bits: the general op's OverflowError)
                    if not (self._rg and _state.grad_enabled):
                        return _plain(r)
                    if const_of is not None:
                        c = const_of(other)
                    else:
                        c = other if to is float else float(other)
                    # rec1(const_code, self, r, c, None) inlined: the commonest scalar op
                    if _tensor_mod._inference_used and _state.inference:
                        return _plain(r)
                    seg = _local.seg
                    if seg is None or seg.n >= seg.check_at:
                        seg = _current()
                    if self._seg is not seg:
                        t = rec1(const_code, self, r, c, None)
                        return t if name is None else name_entry(t, name)
                    faux = seg.faux
                    aux = len(faux)
                    faux.append(c)
                    i = seg.n
                    seg.n = i + 1
                    ints = seg.ints
                    ints += (const_code, self._rec, -1, aux, -1, 1)  # (_renew flushes)
                    t = _new(Tensor)
                    t._data = r
                    t._rg = True
                    t._seg = seg
                    t._rec = i
                    return t if name is None else name_entry(t, name)
                if to is Tensor and type(other._data) is float:
                    e = other._data
                    r = f(d, e)
                    if not ((self._rg or other._rg) and _state.grad_enabled):
                        return _plain(r)
                    seg = _local.seg
                    if seg is None or self._seg is not seg or other._seg is not seg or \
                            seg.n >= seg.check_at or _tensor_mod._inference_used:
                        return rec2(op_tt, self, other, r, save_tt)
                    # rec2 inlined for two tensors of the current segment (both then require
                    # grad): a chain's own values
                    if save_tt:
                        fv = seg.fvals
                        v = len(fv) << 1
                        fv.append(d)
                        fv.append(e)
                    else:
                        v = -1
                    i = seg.n
                    seg.n = i + 1
                    ints = seg.ints
                    ints += (op_tt, self._rec, other._rec, -1, v, 1)  # (_renew flushes)
                    t = _new(Tensor)
                    t._data = r
                    t._rg = True
                    t._seg = seg
                    t._rec = i
                    return t
            except ZeroDivisionError:
                pass
        elif type(d) is _ndarray:
            # An array and a Python number (or, not recorded, a constant array of its shape):
            # NumPy directly (Python numbers are "weak" in both, NEP 50); recorded, the
            # constant-variant record the generic op makes, without its layers (a float32
            # loss's ``sum / n`` is one)
            to = type(other)
            if not (self._rg and _state.grad_enabled):
                if not d.ndim:
                    return general(self, other)
                rec = False
            elif d.dtype.kind == "f" and (to is float or to is int):
                rec = True
            else:
                return general(self, other)
            try:
                if to is float:
                    dt = d.dtype
                    # (the table chosen inline: a call costs a third of what the table saves)
                    consts = _consts64 if dt is _F64 else _consts32 if dt is _F32 else _no_consts
                    if consts is _no_consts and dt.kind in "biu":
                        return general(self, other)  # (PyTorch's promotion: promotion.py)
                    c = consts.get(other)
                    r = uf(d, _converted(consts, dt, other) if c is None else c)
                elif to is int and -2 ** 63 <= other and other < 2 ** 64:
                    r = uf(d, other)
                    if r.dtype is not d.dtype and d.dtype.kind in "biu":
                        return general(self, other)  # (integer true division: the default)
                elif to is Tensor and not other._rg and type(od := other._data) is _ndarray \
                        and od.shape == d.shape:
                    r = uf(d, od)
                    if r.dtype is not d.dtype and r.dtype is not od.dtype or sub and \
                            od.dtype is not d.dtype and "b" in (od.dtype.kind, d.dtype.kind):
                        return general(self, other)  # (PyTorch's promotion and refusals)
                else:
                    return general(self, other)
            except TypeError as e:
                raise E._bool_error(e) from None
            except (OverflowError, RuntimeWarning):  # an int out of an integer dtype's range
                return general(self, other)  # (PyTorch wraps it); a user's warnings filter
            if rec:
                t = _const_op(const_code, self, r if type(r) is _ndarray else _wrap(r),
                              float(other) if const_of is None else const_of(other))
                return t if name is None else name_entry(t, name)
            t = _new(Tensor)  # _make(r) inlined
            t._data = r
            if _tensor_mod._inference_used and _state.inference:
                t._inference = True
            return t
        return general(self, other)

    return method


def _reflected(general, f, const_rule, name=None):
    """``number <op> x`` (Tensor-Tensor never reaches the reflected method first); ``name``:
    the record's node name entry (node_names.RSUB), None: its own."""

    def method(self, other):
        d = self._data
        to = type(other)
        if type(d) is float and (to is float or to is int and -2 ** 63 <= other and
                                 other < 2 ** 64):  # (else: PyTorch's OverflowError)
            try:
                r = f(other, d)
            except ZeroDivisionError:
                return general(other, self)
            if self._rg and _state.grad_enabled:
                code, c, save_x = const_rule(other)
                t = rec1(code, self, r, c, d if save_x else None)
                return t if name is None else name_entry(t, name)
            return _plain(r)
        return general(other, self)

    return method


def _neg(self):
    d = self._data
    if type(d) is float:
        if self._rg and _state.grad_enabled:
            return rec1(_NEG, self, -d, None, None)
        return _plain(-d)
    return E.neg(self)


def _pow(self, other):
    """``x ** c`` for a float CPU array (not a view, not 0-d) and a Python number among
    PyTorch's own powers (2, 3, -1, -2: ``TORCH_POWERS``): the value and the POWC record the
    generic op makes (a loss's square), without its operand checks and four calls."""
    d = self._data
    to = type(other)
    # (the cheap tests first: every other ``**`` pays them on its way to the generic op;
    # the array's ndim and dtype are read only for one of the four powers)
    if (to is int or to is float) and type(d) is _ndarray and self._base is None:
        power = TORCH_POWERS.get(other)
        if power is not None and d.ndim and d.dtype.kind == "f":
            try:
                r = power(d)
            except RuntimeWarning:  # (a user's warnings filter: the generic op's retry)
                return E.pow(self, other)
            if self._rg and _state.grad_enabled:
                return _const_op(_POWC, self, r, other, save_x=True)
            return _plain(r)
    return E.pow(self, other)


def _inv(c):
    return np.inf if c == 0 else 1.0 / c


METHODS = dict(
    __add__=_operator(E.add, operator.add, _ADD, False, _ADDC, None),
    __radd__=_reflected(E.add, operator.add, lambda c: (_ADDC, float(c), False)),
    __sub__=_operator(E.sub, operator.sub, _SUB, False, _ADDC, lambda c: -float(c), _SUB_NAME),
    __rsub__=_reflected(E.sub, operator.sub, lambda c: (_MULC, -1.0, False), _RSUB_NAME),
    __mul__=_operator(E.mul, operator.mul, _MUL, True, _MULC, None),
    __rmul__=_reflected(E.mul, operator.mul, lambda c: (_MULC, float(c), False)),
    __truediv__=_operator(E.div, operator.truediv, _DIV, True, _MULC,
                          lambda c: _inv(float(c)), _DIV_NAME),
    __rtruediv__=_reflected(E.div, operator.truediv, lambda c: (_RDIVC, float(c), True)),
    __neg__=_neg,
    __pow__=_pow,
)
