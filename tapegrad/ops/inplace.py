"""In-place ops: ``add_``, ``mul_``, ``fill_``, ``copy_``, ``x[key] = v``, ``+=`` ...

One design for all of them (PyTorch's semantics for in-place ops and version counters):

1. Guards: an inference tensor outside inference mode, a leaf that requires grad (or a view of
   one) under grad mode raise PyTorch's errors and leave the tensor unchanged.
2. The result is computed *out of place* by the ordinary op, recorded when grad mode is on and
   the tensor or an operand requires grad. The op runs on an *alias* of the old value (a copy
   with its own version counter), so what the record saves is not overwritten by step 3.
3. The value is written into the tensor's storage (views and aliases see it) and the version
   counter, shared with views, is bumped: records that saved the old storage raise PyTorch's
   "modified by an inplace operation" error at backward.
4. The tensor object's history (``_seg``, ``_rec``, ``_rg``) is rebound to the new record, so
   ``grad_fn`` becomes e.g. ``AddBackward0`` and gradients flow through the new value.

A view (``y[0:2].mul_(10)``) also changes its base: the base's history becomes
``COPY_SLICES(old base, positions, new view value)`` (zero gradient for the overwritten
positions of the old base, the gathered gradient for the new value) and the view becomes a
gather from the new base. ``x[key] = v`` is the same record with the key's positions.

A CUDA view is a copy of its elements: it knows their positions in its base's storage and
writes them back (``ops/cuda_views.py``), so the records above are the same.

*Other* views of the same base, made before the in-place op and used after it, are stale: a
view remembers the base's record it was made from, and an op reading a view whose base has
been rebound since regathers it from the new base first (``refresh_view``; views of a constant:
``view_rebase.py``), as PyTorch regenerates a view's history.
"""

import numpy as np

from .. import grad_mode as _gm
from .. import tape
from ..creation import fill_number
from ..promotion import can_cast
from ..device import DeviceArray
from ..tensor import Tensor, _make, _new, bump_version
from . import elementwise as E, inference_saves as _saves, inference_writes as _writes, record as R
from .complex_refusals import refuse
from .clamp_inplace import clamp_
from .expanded_writes import OVERLAP_MSG as _OVERLAP_MSG, repeats_at_backward, store_through
from .expanded_writes import writeable_alias
from .view_rebase import WOKEN, wake as wake_views
from .complex_views import byte_offsets as _byte_offsets, copy_pairs, copy_part, gather_pairs
from .complex_views import is_pair_view, part_of, take_part
from . import movement as M
from .index_errors import index_error, writes_view
from .array_writes import store as _store
from .index_keys import index_key as _index_key, is_basic as _is_basic, positions as _positions
from .inplace_view_nodes import named_in_place
from .movement import broadcast_to, gather_index, reshape
from .node_names import name_node, name_record
from .shapes import expand_error
from .shapes import torch_dtype_name as _torch_name
from ..registry import Op, defop

_gm_state = _gm._state  # (read on every in-place op)
LEAF_MSG = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_LEAF_MSG = ("a view of a leaf Variable that requires grad is being used in an in-place "
                 "operation.")
INFERENCE_MSG = ("Inplace update to inference tensor outside InferenceMode is not allowed.You can "
                 "make a clone to get a normal tensor before doing inplace update.See "
                 "https://github.com/pytorch/rfcs/pull/17 for more details.")
MULTI_VIEW_MSG = (". This view is the output of a function that returns multiple views. Such "
                  "functions do not allow the output views to be modified inplace. You should "
                  "replace the inplace operation by an out-of-place one.")
CUSTOM_VIEW_MSG = (". This view was created inside a custom Function (or because an input was "
                   "returned as-is) and the autograd logic to handle view+inplace would override "
                   "the custom backward associated with the custom Function, leading to incorrect "
                   "gradients. This behavior is forbidden. You can fix this by cloning the output "
                   "of the custom Function.")


NO_GRAD_VIEW_MSG = (". Given that this use case is ambiguous and error-prone, it is forbidden. "
                    "You can clarify your code by moving both the view and the inplace either "
                    "both inside the no_grad block (if you don't want the inplace to be tracked) "
                    "or both outside (if you want the inplace to be tracked).")


def _view_tail(multi):
    """The end of the message for an output view modified in place: ``multi`` is ``(op name,
    output index)`` (a view of unbind/split/chunk), ``(name, index, "custom")`` (an output
    of a custom Function that is a view, or an input returned as it is) or ``("no_grad",)``
    (a view made under no_grad)."""
    return NO_GRAD_VIEW_MSG if len(multi) == 1 else CUSTOM_VIEW_MSG if len(multi) > 2 else \
        MULTI_VIEW_MSG


# ---- COPY_SLICES: base with some positions replaced by a value ---------------------------

def _copy_slices_vjp_np(g, inputs, out, positions, vshape, bshape=None, overlap=False):
    if overlap:  # (the written view repeats elements: PyTorch's CopySlices raises)
        raise RuntimeError(_OVERLAP_MSG)
    flat = np.asarray(g, np.float64).reshape(-1)
    gv = flat[positions].reshape(vshape)
    gb = flat.copy()
    gb[positions] = 0.0  # overwritten elements get no gradient (as in PyTorch)
    return gb, gv


def _copy_slices_vjp(g, inputs, out, positions, vshape, bshape=None, overlap=False):
    if overlap:
        raise RuntimeError(_OVERLAP_MSG)
    keep = np.ones(g.numel(), np.float64)
    keep[positions] = 0.0
    keep = _make(keep.reshape(g.shape) if g.ndim else float(keep[0]))
    gb = E.mul(g, keep if type(g._data) is not DeviceArray else keep.to(g.device))
    gv = reshape(gather_index(reshape(g, -1), positions), vshape)
    return gb, gv


def _copy_slices_jvp_np(tangents, inputs, out, positions, vshape, bshape=None, overlap=False):
    """The base's tangent with the value's written at the positions (0 without one)."""
    tb, tv = tangents
    k = (tb if tb is not None else tv).shape[0]
    res = np.zeros((k, int(np.prod(bshape, dtype=np.int64)))) if tb is None else \
        np.array(tb, np.float64).reshape(k, -1)
    res[:, positions] = 0.0 if tv is None else tv.reshape(k, -1)
    return res.reshape((k,) + tuple(bshape))


defop(Op.COPY_SLICES, "copy_slices", "python", "CopySlices", vjp=_copy_slices_vjp,
      vjp_np=_copy_slices_vjp_np, jvp_np=_copy_slices_jvp_np)


def _copy_slices(base, positions, value, overlap=False):
    """Record ``base`` (its storage already updated) = old base with ``positions`` <- value."""
    if base.dtype.kind == "c" or value.dtype.kind == "c":
        return _copy_slices_complex(base, positions, value)
    return R.python_result(base._data, Op.COPY_SLICES, (base, value), params={
        "positions": positions, "vshape": value.shape, "bshape": base.shape, "overlap": overlap})


def _copy_slices_complex(base, positions, value):
    """``_copy_slices`` with complex values, composed of the ops that have complex rules: the
    value gathered to the base's positions, selected by a mask (``where``)."""
    from . import complex as C

    n = base.numel()
    mask = np.zeros(n, bool)
    mask[positions] = True
    src = np.zeros(n, np.int64)
    src[positions] = np.arange(len(positions))
    spread = gather_index(reshape(value, -1), src)
    new = C.where(mask, spread, reshape(base, -1), np.asarray(base._data).reshape(-1))
    return reshape(new, base.shape)


# ---- guards, storage, history ------------------------------------------------------------

capture_check = None  # set while a function transform runs (func/captures.watching)


def check_inplace(x, view_msg=False, grad_operand=False, operands=None):
    """PyTorch's errors for an in-place op on ``x`` (raised before anything changes)."""
    if x._inference and not _gm.is_inference_mode_enabled():
        raise _writes.error(x, operands)  # (or PyTorch's leaf error first: see there)
    if _gm.is_grad_enabled():
        multi = x._multi
        if multi is not None and (x._rg or grad_operand or len(multi) == 1 and x._base._rg):
            own = x._rg and x._bseg is not WOKEN and len(multi) > 1  # (WOKEN: no grad then)
            raise RuntimeError((f"Output {multi[1]} of {multi[0]} is a view" if own else
                                "A view was created in no_grad mode") +
                               " and is being modified inplace" +
                               ("" if own else " with grad mode enabled") + _view_tail(multi))
        base = storage_base(x)
        # PyTorch: a view that requires grad whose base is a leaf (even one that does not
        # require grad, e.g. arange(9).reshape(3, 3).requires_grad_().T)
        if base is not x and base._seg is None and (base._rg or x._rg):
            raise RuntimeError(VIEW_LEAF_MSG)
        if x._rg and x._seg is None or x._bseg is WOKEN and not view_msg:
            raise RuntimeError(VIEW_LEAF_MSG if view_msg else LEAF_MSG)
    if type(x._data) is DeviceArray:
        _views().refresh(x)  # a CUDA view is a copy: it reads its base's current values


def storage_base(x):
    """The tensor whose storage ``x`` views (``x`` itself when it is not a view)."""
    b = x._base
    if b is None or type(b._data) is float or type(x._data) is float:
        return x
    if type(x._data) is DeviceArray:  # a gathered copy that knows its place in the base
        return x if x._vmap is None else b
    if x._data.size and not np.may_share_memory(x._data, b._data):
        return x  # reshape had to copy: not a view after all
    return b


def refresh_view(x):
    """Regather view ``x`` from its base, whose history changed since ``x`` was recorded.

    PyTorch regenerates a view after an in-place change to its base; without this, a view made
    before the change would keep the old history and give a silently wrong gradient.
    """
    base = storage_base(x)
    if x._multi is not None and _gm.is_grad_enabled() and (x._rg or base._rg):
        own = x._rg and x._bseg is not WOKEN and len(x._multi) > 1  # (WOKEN: no grad then)
        raise RuntimeError((f"Output {x._multi[1]} of {x._multi[0]} is a view" if own else
                            "A view was created in no_grad mode") +
                           " and its base or another view of its base has been modified inplace"
                           + ("" if own else " with grad mode enabled") + _view_tail(x._multi))
    if type(x._data) is DeviceArray:
        _views().refresh(x)  # a CUDA view is a copy: its values are regathered too
    if base is not x and base._rg:
        if not (_gm.is_grad_enabled() or _forward_only(base)):
            return  # (an in-place op under no_grad: still stale for the next recorded use)
        _set_history(x, _regather(x, base))
    x._bseg, x._brec = x._base._seg, x._base._rec


def view_positions(x, base, shift=0):
    """Flat C-order positions in ``base`` of the elements of its view ``x`` (x's C order);
    of a complex view of a float base, those of the real parts (``shift`` bytes on: another
    part's)."""
    xd, bd = x._data, base._data
    if type(xd) is DeviceArray:
        return _views().positions_in(x, base)
    start = xd.__array_interface__["data"][0] - bd.__array_interface__["data"][0]
    xo = _byte_offsets(xd) + (start + shift)
    part = part_of(x, base)
    if part is not None:  # (the element a part view's element is half of)
        xo -= part * xd.itemsize
    bo = _byte_offsets(bd)
    order = np.argsort(bo, kind="stable")
    return order[np.searchsorted(bo[order], xo)].astype(np.int64)


def _regather(x, base, vpos=None):
    """The history of view ``x`` read from its base's current history."""
    vpos = view_positions(x, base) if vpos is None else vpos
    if is_pair_view(x, base):
        return gather_pairs(base, vpos, view_positions(x, base, x._data.itemsize // 2), x.shape)
    g = gather_index(base, vpos)  # (PyTorch regenerates such a view as an as_strided of base)
    return take_part(name_node(reshape(g, x.shape), "AsStridedBackward0", g), part_of(x, base))


def _alias(t):
    """``t`` with its history but a private copy of its value and a fresh version counter."""
    a = _new(Tensor)
    d = t._data
    a._data = d if type(d) is float else d.copy()
    a._rg, a._seg, a._rec = t._rg, t._seg, t._rec  # never a leaf that requires grad
    return a


def _set_history(t, src):
    """Give tensor object ``t`` the history of ``src`` (the record of its new value)."""
    old_seg, old_rec = t._seg, t._rec
    t._seg, t._rec, t._rg = src._seg, src._rec, src._rg
    if t._base is not None:
        t._bseg, t._brec = t._base._seg, t._base._rec
    if (t._hooks or t._retains) and old_seg is not None:
        refs = old_seg.hooked.get(old_rec) or []
        moved = [r for r in refs if r() is t]  # its hooks follow it to the new record
        refs[:] = [r for r in refs if r() is not t]
        if t._seg is not None:
            for r in moved:
                tape.mark_hooked(t._seg, t._rec, r)


def _write(x, value, casting, overlap_ok=False):
    """Store ``value`` (x's shape) into x's storage; bump the shared version counter.
    ``overlap_ok``: one value for all (fill_): written also where elements repeat."""
    d = x._data
    if type(d) is float:
        v = value if type(value) is float else np.asarray(value)
        if type(v) is not float and v.dtype.kind not in "fiub":
            raise RuntimeError(f"result type {v.dtype} can't be cast to Double")
        x._data = float(v)
    elif type(d) is DeviceArray:
        _views().write(x, value, casting)
    else:
        v = np.asarray(value)
        if casting == "same_kind" and not can_cast(v.dtype, d.dtype):
            raise RuntimeError(f"result type {_torch_name(v.dtype)} can't be cast to the desired "
                               f"output type {_torch_name(d.dtype)}")
        try:
            np.copyto(d, v, casting="unsafe")
        except RuntimeWarning:  # (a cast to inf, which a user's filter raised: again without)
            with np.errstate(all="ignore"):
                np.copyto(d, v, casting="unsafe")
        except ValueError as e:
            if "read-only" not in str(e):
                raise
            w = writeable_alias(d, storage_base(x)._data, overlap_ok)  # (a view of expand)
            if w is None:
                raise RuntimeError(_OVERLAP_MSG) from None
            np.copyto(w, v, casting="unsafe")
    bump_version(x)


def _rebind(x, r, positions=None, key=None):
    """After x's storage changed: make ``r`` (a recorded tensor) the history of what changed.
    ``positions``: flat positions of x that ``r`` replaced (None: all of x), by ``key``."""
    base = storage_base(x)
    if base is x and positions is None:  # (keep one record per value: hooks, retain_grad)
        new_base = E.clone(r) if r._seg is x._seg and r._rec == x._rec else r
    else:
        vpos = None if base is x else view_positions(x, base)
        pos = positions if vpos is None else (vpos if positions is None else vpos[positions])
        part = None if base is x else part_of(x, base)  # (x a float view of a complex base)
        if isinstance(part, np.ndarray) and positions is not None:
            part = part[positions]
        if base is not x and is_pair_view(x, base):  # (a complex view of a float base)
            vim = view_positions(x, base, x._data.itemsize // 2)
            new_base = copy_pairs(base, pos, vim if positions is None else vim[positions], r)
        else:
            new_base = copy_part(base, pos, r, part) if part is not None else \
                _copy_slices(base, pos, r, repeats_at_backward(x._data, positions, key))
    _set_history(base, new_base)
    if base._cviews is not None:  # views made while it required no grad (view_rebase.py)
        wake_views(base, x)
    if base is not x:
        _set_history(x, _regather(x, base, vpos))


def _recording(x, *others):
    """Whether an in-place op on ``x`` records: grad mode on and x or an operand requires
    grad, or (``_forward_only``) under no_grad inside forward mode."""
    mode = _gm_state.grad_enabled
    if mode is True:
        if x._rg:
            return True
        for o in others:  # (a loop, not any() of a generator: ~200 ns less per in-place op)
            if isinstance(o, Tensor) and o._rg:
                return True
        return False
    return mode is not False and _forward_only(x, others)


def _forward_only(x, operands=()):
    """Under no_grad inside forward mode: whether an in-place op on ``x`` takes a forward-only
    record of its new value, as PyTorch's dual tensors keep their tangent: where x's storage
    has history, or is a leaf that requires no grad and an operand has history (``b.add_(dual)``
    gives ``b`` the dual's tangent, as PyTorch's; its record is forward-only, so it stays a leaf
    to reverse mode). A leaf that requires grad (a parameter) changes value only."""
    if _gm_state.grad_enabled is not _gm.FORWARD_ONLY:
        return False
    base = storage_base(x)
    if base._seg is not None:
        return True
    if base._rg or x._rg:
        return False
    for o in operands:
        if isinstance(o, Tensor) and o._seg is not None:
            _gm.drop_history_at_exit(base)
            if x is not base:
                _gm.drop_history_at_exit(x)
            return True
    return False


def _operand(o, x):
    """An operand that shares x's storage must be read before x is overwritten."""
    if isinstance(o, Tensor) and (o is x or (o._vc is not None and o._vc is x._vc)):
        if o._rg:
            return E.clone(o)
        d = o._data
        return _make(d.copy() if type(d) is DeviceArray else np.array(d) if o.ndim else o.item())
    return o


def apply(x, fn, *args, casting="same_kind", result_saved=False, overlap_ok=False, **kwargs):
    """Run ``fn(x, *args, **kwargs)`` out of place and store the result in ``x`` (see above).
    ``result_saved``: PyTorch's backward of the op reads its result (exp_, tanh_...)."""
    if capture_check is not None:
        capture_check(x, fn, args)
    check_inplace(x, grad_operand=x._multi is not None and any(isinstance(o, Tensor) and o._rg
                  for o in (*args, *kwargs.values())), operands=(fn, args, kwargs))
    if x._base is not None:
        R.refresh_views(x)  # a view made before its base last changed: its history is stale
    if _recording(x, *args, *kwargs.values()):
        args = tuple(_operand(a, x) for a in args)
        r = fn(_alias(x), *args, **kwargs)
    else:  # (nothing recorded, not even forward mode's tangents: see _forward_only)
        with _gm.untracked():
            r = fn(x, *args, **kwargs)
    if r.shape != x.shape:
        raise RuntimeError(f"output with shape {list(x.shape)} doesn't match the broadcast "
                           f"shape {list(r.shape)}")
    _write(x, r._data, casting, overlap_ok)
    if r._seg is not None and x.dtype.kind in "fc":
        if result_saved and r._vc is not None:
            _out_stamp_to(r, x)
        if r.dtype != x.dtype and x.dtype.kind == "f":
            r = E.to(r, x.dtype)
        _rebind(x, r)
    return x


def _out_stamp_to(r, x):
    """``r`` saved its own value for backward (exp_, sigmoid_, tanh_, sqrt_...): that value is
    now ``x``'s, so the stamp follows x's version counter: changing x in place afterwards
    raises at backward, as PyTorch's (which saves x itself; for erf_, sin_... it saves a copy
    of x's old value, and tapegrad's records keep the values they read)."""
    old, seg = r._vc, r._seg
    vc = x._vcounter()
    for stamps in (seg.avers, *(getattr(e, "stamps", None) or () for e in seg.pyaux[-2:])):
        for i in range(len(stamps) - 1, max(len(stamps) - 4, 0) - 1, -1):
            s = stamps[i]
            if s is not None and s[0] is old:
                stamps[i] = (vc, vc[0])
                return


# ---- the ops ------------------------------------------------------------------------------

def _add_scaled(a, o, alpha=1):  # (add_ and sub_ run these: see inference_writes)
    return E.add(a, o if alpha == 1 else E.mul(o, alpha))


def _sub_scaled(a, o, alpha=1):
    return E.sub(a, o if alpha == 1 else E.mul(o, alpha))


_add_scaled.__name__, _sub_scaled.__name__ = "add", "sub"  # (their ops' in errors)
_writes.WRAPS_NUMBERS.update((_add_scaled, _sub_scaled, E.mul, E.div))


def add_(x, other, alpha=1):
    """In place ``x += alpha * other``."""
    return apply(x, _add_scaled, other, alpha=alpha)


def sub_(x, other, alpha=1):
    """In place ``x -= alpha * other``."""
    return apply(x, _sub_scaled, other, alpha=alpha)


def mul_(x, other):
    """In place ``x *= other``."""
    return apply(x, E.mul, other)


def div_(x, other, rounding_mode=None):
    """In place ``x /= other``; ``rounding_mode`` ('trunc' or 'floor') rounds the quotient
    (``Tensor.divide_``, which the torch-name layer binds)."""
    if rounding_mode is not None:
        return x.divide_(other, rounding_mode=rounding_mode)
    return apply(x, E.div, other)


def pow_(x, exponent):
    """In place ``x **= exponent``."""
    return apply(x, E.pow, exponent)


def clamp_min_(x, min):
    return clamp_(x, min=min)


def clamp_max_(x, max):
    return clamp_(x, max=max)


def _overwrite(a, src):
    """``src`` broadcast to ``a``'s shape, recorded so that ``a`` gets a zero gradient."""
    if not isinstance(src, Tensor):
        src = R.as_tensor(np.asarray(src))
    if (type(src._data) is DeviceArray) != (type(a._data) is DeviceArray):
        src = src.to(a.device)  # copy_ crosses devices, as in PyTorch (differentiable)
    mask = np.zeros(a.shape, bool)
    return E.where(mask, a, src)


def copy_(x, src, non_blocking=False):
    """Copy ``src`` (broadcast, cast) into ``x``; gradients flow to ``src``."""
    return name_record(apply(x, _overwrite, src, casting="unsafe"), Op.WHERE, "CopyBackwards")


def fill_(x, value, _name=None):
    """Fill ``x`` with ``value`` (a number, also where x repeats elements, or a 0-d tensor)."""
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value.ndim} dimensions.")
    if not isinstance(value, Tensor):  # (1j into a real tensor, 1e300 into float32 or 300
        value = fill_number(value, x.dtype)  # into int8: PyTorch's errors)
    out = apply(x, _overwrite, value, casting="unsafe", overlap_ok=not isinstance(value, Tensor))
    if isinstance(value, Tensor):
        return name_record(out, Op.WHERE, "FillBackward3")
    return name_record(out, Op.WHERE, _name or "FillBackward2", pick=(0,))


def zero_(x):
    """Fill ``x`` with zeros."""
    return fill_(x, 0, "ZeroBackward0")


def _unary_(f, result_saved=False):
    def fn(x):
        return apply(x, f, result_saved=result_saved)

    fn.__name__ = f.__name__ + "_"
    fn.__doc__ = f"In place ``{f.__name__}``."
    return fn


exp_, sqrt_, tanh_, sigmoid_, relu_, expm1_ = (  # (PyTorch's backward reads the result)
    _unary_(f, True) for f in (E.exp, E.sqrt, E.tanh, E.sigmoid, E.relu, E.expm1))
log_, neg_, sin_, cos_, tan_, log1p_ = (
    _unary_(f) for f in (E.log, E.neg, E.sin, E.cos, E.tan, E.log1p))
sign_ = _unary_(E.sign)
_abs_ = _unary_(E.abs)


def abs_(x):
    """In place ``abs``; complex ``x`` is refused, as PyTorch refuses it (``|z|`` is real)."""
    refuse("abs_", x.dtype)
    return _abs_(x)


def reciprocal_(x):
    return apply(x, lambda a: E.div(1.0, a))


# ---- x.t_(), x.unsqueeze_(0) ...: x itself becomes a view of its storage ----------------------

def _shape_inplace(view_op, name):
    def fn(x, *args, **kwargs):
        if capture_check is not None:
            capture_check(x, name=name)
        check_inplace(x)
        v = view_op(x, *args, **kwargs)
        if v is not x:
            x._data = v._data  # a NumPy view: the same storage, new shape and strides
            if v._seg is not None:
                _set_history(x, v)  # recorded as the view op (TBackward0, ...)
            if x._vmap is not None:
                x._vmap = v._vmap  # a CUDA view keeps its place in the base
        bump_version(x)
        return x

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"In place ``{view_op.__name__}``: this tensor takes the new shape, sharing " \
                 "its storage."
    return fn


def _t_checked(x):
    if x.ndim > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return M.t(x)


_t_checked.__name__ = "t"
t_ = named_in_place(_shape_inplace(_t_checked, "t_"))
transpose_ = named_in_place(_shape_inplace(M.transpose, "transpose_"))
squeeze_ = named_in_place(_shape_inplace(M.squeeze, "squeeze_"))
unsqueeze_ = named_in_place(_shape_inplace(M.unsqueeze, "unsqueeze_"))


# ---- x[key] = value -----------------------------------------------------------------------

def setitem(x, key, value):
    """``x[key] = value``: an in-place op; overwritten elements get a zero gradient."""
    if capture_check is not None:
        capture_check(x, name="index_put_" if _index_arrays(key) else "copy_")
    if isinstance(value, Tensor) and value._rg and x.dtype.kind not in "fc":
        value = value.detach()  # an integer or bool tensor takes the values only (PyTorch)
    _saves.refuse_saved_key(x, key, value)  # (an inference index: PyTorch's save error first)
    check_inplace(x, writes_view(x, key), isinstance(value, Tensor) and value._rg)
    if not isinstance(value, Tensor):  # (x[0] = 1j of a real tensor, 1e300 of float32:
        value = fill_number(value, x.dtype, half_ok=True, setitem=True)  # PyTorch's errors)
    key = _index_key(key)
    if isinstance(value, Tensor) and not value._rg:
        value = value._data
    mode = _gm_state.grad_enabled  # (_recording(x, value) inline: ~100 ns less per call)
    if not ((x._rg or isinstance(value, Tensor)) if mode is True else  # (value: a tensor
            mode is not False and _forward_only(x, (value,))):         # requiring grad)
        xd = x._arr()
        v = value._arr() if isinstance(value, Tensor) else value
        try:
            _store(x, xd, key, v)
        except ValueError as e:
            if not store_through(e, xd, key, storage_base(x)._data, _store, x, v):
                raise _setitem_error(e, xd, key, v) from None
        except IndexError as e:  # (NumPy's words: PyTorch's)
            raise index_error(e, np.shape(xd), key) from None
        bump_version(x)
        return
    xd = x._arr()
    try:
        ids = _positions(xd.shape, key)
    except IndexError as e:
        raise index_error(e, xd.shape, key) from None
    v = R.as_tensor(value)
    if type(xd) is DeviceArray and type(v._data) is not DeviceArray:
        v = v.to(x.device)
    if v.dtype != xd.dtype and xd.dtype.kind == "f":
        v = E.to(v, xd.dtype)
    v = broadcast_to(v, np.shape(ids))
    try:
        _store(x, xd, key, v._data)
    except ValueError as e:
        if not store_through(e, xd, key, storage_base(x)._data, _store, x, v._data):
            raise _setitem_error(e, xd, key, v._data) from None
    bump_version(x)
    if v._rg or x._rg:  # (a view without history: PyTorch writes through x[key], x is woken)
        woken = WOKEN if x._base is not None and x._seg is None else None
        _rebind(x, v, np.asarray(ids, np.int64).reshape(-1), key)
        x._bseg = woken or x._bseg


def _index_arrays(key):
    return any(isinstance(k, (Tensor, np.ndarray, list))
               for k in (key if type(key) is tuple else (key,)))


def _views():
    from . import cuda_views

    return cuda_views


def _setitem_error(e, xd, key, v):
    if "read-only" in str(e):
        return RuntimeError(_OVERLAP_MSG)
    target = np.shape(_positions(xd.shape, key))
    # PyTorch: a slice (basic key) expands the value; integer arrays and masks (index_put)
    # report the shape mismatch
    basic = _is_basic(key) and expand_error(np.shape(v), target)
    return basic or RuntimeError(
        f"shape mismatch: value tensor of shape {list(np.shape(v))} cannot be broadcast to "
        f"indexing result of shape {list(target)}")


def _iop(f):
    def fn(self, other):
        return f(self, other)

    fn.__name__ = f.__name__
    return fn


METHODS = dict(
    add_=add_, sub_=sub_, mul_=mul_, div_=div_, pow_=pow_, clamp_=clamp_, clamp_min_=clamp_min_,
    clamp_max_=clamp_max_, copy_=copy_, fill_=fill_, zero_=zero_, exp_=exp_, log_=log_,
    neg_=neg_, sqrt_=sqrt_, sin_=sin_, cos_=cos_, tan_=tan_, tanh_=tanh_, sigmoid_=sigmoid_,
    relu_=relu_, abs_=abs_, log1p_=log1p_, expm1_=expm1_, sign_=sign_, reciprocal_=reciprocal_,
    true_divide_=div_, subtract_=sub_, multiply_=mul_, divide_=div_,
    __iadd__=_iop(add_), __isub__=_iop(sub_), __imul__=_iop(mul_), __itruediv__=_iop(div_),
    __ipow__=_iop(pow_), __setitem__=setitem, t_=t_, transpose_=transpose_,
    swapaxes_=transpose_, swapdims_=transpose_, squeeze_=squeeze_, unsqueeze_=unsqueeze_,
    _is_view=lambda self: storage_base(self) is not self,  # (a reshape that copied is not one)
)
