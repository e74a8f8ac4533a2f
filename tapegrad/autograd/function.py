"""Custom autograd Functions (``tg.autograd.Function``), PyTorch's API and error texts.

On the tape a call ``F.apply(...)`` that needs recording is one ``CUSTOM`` record (size 0; its
``pyaux`` entry holds the ctx and the input record ids) followed by one ``OUTPUT`` record per
differentiable output, whose ``a`` field is the CUSTOM record. The compiled sweep marks the
CUSTOM record reached when an OUTPUT is, and pauses there: ``custom_vjp_numeric`` runs the
user's ``backward`` with grad mode off on the outputs' gradients (slices of the arena) and
adds the results into the inputs' slots. With ``create_graph=True`` the re-taping sweep calls
``custom_vjp_retape``: ``backward`` runs with grad mode on, on adjoints that have history, so
a backward written in tapegrad ops is recorded and can be differentiated again.

Forward mode calls a Function's own ``jvp`` (``custom_jvp_blocks`` from the forward sweep,
``_JvpTranspose`` inside the double-vjp trick); a call on batched tensors inside ``vmap`` goes
to the func layer's ``_vmapped_apply`` (the ``vmap`` staticmethod or ``generate_vmap_rule``).

Saved tensors that live on the same segment are kept as (value, weak segment, record id) and
rebuilt on access, so a ctx never keeps its own segment alive through a reference cycle.
"""

import contextlib
import inspect
import threading
import warnings
import weakref

import numpy as np

from .. import grad_mode as _gm, tape
from .._float_warnings import as_user
from ..registry import Op
from ..tensor import Tensor, _make, _new
from . import node_hooks
from .inplace import check_dirty

_NO_BACKWARD = ("You must implement either the backward or vjp method for your custom "
                "autograd.Function to use it with backward mode AD.")
_ONCE = "trying to differentiate twice a function that was marked with @once_differentiable"
_LEGACY = ("Legacy autograd function with non-static forward method is deprecated. Please use "
           "new-style autograd function with static forward method. (Example: "
           "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")
_NO_JVP = ("You must implement the jvp function for custom autograd.Function to use it with "
           "forward mode AD.")
_DIRTY_LEAF = "a leaf Variable that requires grad has been used in an in-place operation."


# installed by tapegrad.func: a call on batched tensors inside vmap, and its count of vmaps
# running (one cheap check per call while none runs)
_vmapped_apply, _vmap_running = None, (0,)
# installed by tapegrad.func: forward runs with the running transforms lowered (PyTorch's
# custom_function_call), so a backward() inside it is not refused as one inside a transform
_lowered_transforms = contextlib.nullcontext


class FunctionCtx:
    """The ``ctx`` passed to ``forward`` and ``backward``: saved tensors and flags."""

    def __init__(self):
        self.needs_input_grad = ()
        self.materialize_grads = True
        self._saved = None  # tuple of saved entries, see save_for_backward
        self._freed = False
        self._non_diff = ()
        self._dirty = ()
        self._node = None  # a weak reference to the _Node once recorded
        self._outputs = ()  # ids of the output tensors, to recognise saved outputs
        self._saved_fwd = None  # packed save_for_forward entries
        self._in_jvp = False  # saved_tensors reads the save_for_forward entries

    def save_for_backward(self, *tensors):
        """Keep ``tensors`` (or ``None``) for ``backward``; read them as ``ctx.saved_tensors``."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} "
                                f"is of type {type(t).__name__}")
        self._to_save = tensors

    def save_for_forward(self, *tensors):
        """Keep ``tensors`` (or ``None``) for ``jvp``: inside ``jvp`` they are
        ``ctx.saved_tensors``."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_forward expects all arguments to be tensors; but "
                                f"got {type(t).__name__} at position {i}")
        self._to_save_fwd = tensors

    @property
    def saved_tensors(self):
        """The tensors given to ``save_for_backward`` (inside ``jvp``: to
        ``save_for_forward``), checked for in-place changes."""
        if self._in_jvp:
            if self._saved_fwd is None:
                return tuple(getattr(self, "_to_save_fwd", ()))
            return tuple(_unpack(self, s) for s in self._saved_fwd)
        if self._freed:
            from ..engine.sweep import FREED_MSG

            raise RuntimeError(FREED_MSG)
        if self._saved is None:
            return tuple(getattr(self, "_to_save", ()))
        return tuple(_unpack(self, s) for s in self._saved)

    saved_variables = saved_tensors

    def mark_non_differentiable(self, *tensors):
        """Outputs that never require grad (their gradient in ``backward`` is zero)."""
        self._non_diff = self._non_diff + tuple(tensors)

    def mark_dirty(self, *tensors):
        """Inputs that ``forward`` modified in place (and returns)."""
        self._dirty = self._dirty + tuple(tensors)

    def set_materialize_grads(self, value):
        """``False``: gradients of unused outputs reach ``backward`` as ``None``, not zeros."""
        self.materialize_grads = bool(value)


class _Node:
    """``pyaux`` entry of a CUSTOM record."""

    __slots__ = ("ctx", "cls", "node_name", "slots", "in_meta", "out_recs", "out_meta", "saved",
                 "seg", "__weakref__")

    def __init__(self, ctx, cls, name, slots, in_meta):
        self.ctx = ctx
        self.cls = cls
        self.node_name = name
        self.slots = slots  # record id per forward argument (-1: constant / not a tensor)
        self.in_meta = in_meta  # per argument: (is_tensor, shape, dtype)
        self.out_recs = []  # OUTPUT record id per output (-1: not differentiable)
        self.out_meta = []  # per output: (shape, dtype) or None for non-tensors
        self.saved = []  # non-empty while saved tensors are held (engine.sweep.has_saved)
        self.seg = None

    def release(self):
        """Called when a backward without retain_graph swept this record."""
        if self.ctx._saved:
            self.ctx._freed = True
            self.ctx._saved = None
            self.saved = None


# ---- saved tensors ------------------------------------------------------------------------

def _pack(ctx, t, seg):
    """A saved tensor: (tensor or None, value, version counter, version, record id)."""
    if t is None:
        return None
    vc = t._vcounter() if type(t._data) is not float else None
    ver = vc[0] if vc is not None else 0
    if t._seg is seg and seg is not None:
        # Same segment: keep the value and record id, not the tensor (no reference cycle).
        return (None, t._data, vc, ver, t._rec, t.dtype)
    return (t, t._data, vc, ver, -1, t.dtype)


def _unpack(ctx, s):
    if s is None:
        return None
    if type(s) is not tuple:  # packed by a saved-tensor hook: unpacked at each read
        from .graph import unpack_custom

        s = unpack_custom(s)
    t, data, vc, ver, rec, dtype = s
    if vc is not None and vc[0] != ver:
        from .inplace import saved_version_error

        node = ctx._node() if ctx._node is not None else None
        raise saved_version_error(t, node.seg() if node is not None else None, rec,
                                  np.shape(data), dtype, vc[0], ver)
    if t is not None:
        return t
    node = ctx._node() if ctx._node is not None else None
    seg = node.seg() if node is not None else None
    out = _new(Tensor)
    out._data = data
    out._vc = vc
    if seg is not None:
        out._seg, out._rec, out._rg = seg, rec, True
    return out


# ---- Function -------------------------------------------------------------------------------

class FunctionMeta(type):
    """Gives every subclass its ``_backward_name`` (``<ClassName>Backward``)."""

    def __init__(cls, name, bases, attrs):
        cls._backward_name = name + "Backward"
        super().__init__(name, bases, attrs)


class Function(metaclass=FunctionMeta):
    """Base class of custom differentiable operations (PyTorch's ``torch.autograd.Function``).

    Subclasses define static ``forward(ctx, *args, **kwargs)`` (runs with grad mode off) and
    ``backward(ctx, *grads)`` (one gradient per forward argument, ``None`` where there is
    none), and are called through ``apply``.

    Example:
        >>> import tapegrad as tg
        >>> class Square(tg.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x * x
        ...     @staticmethod
        ...     def backward(ctx, g):
        ...         x, = ctx.saved_tensors
        ...         return 2 * x * g
        >>> x = tg.tensor([1.0, 3.0], requires_grad=True)
        >>> Square.apply(x).sum().backward()
        >>> x.grad
        tensor([2., 6.])
    """

    def __init__(self, *args, **kwargs):
        warnings.warn(f"{self.__class__} should not be instantiated. Methods on autograd "
                      "functions are all static, so you should invoke them on the class itself. "
                      "Instantiating an autograd function will raise an error in a future "
                      "version of PyTorch.", DeprecationWarning, stacklevel=2)

    def __call__(self, *args, **kwargs):
        raise RuntimeError(_LEGACY)

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(_NO_BACKWARD)

    vjp = backward

    @staticmethod
    def setup_context(ctx, inputs, output):
        """PyTorch 2 style: ``forward(*args)`` takes no ctx; this fills it from the inputs and
        the output (overriding it selects that style)."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def jvp(ctx, *grad_inputs):
        """Forward mode: one tangent per ``forward`` argument in (zeros for a tensor argument
        without one, ``None`` for a non-tensor), one tangent per output out. Inside it
        ``ctx.saved_tensors`` are the tensors given to ``ctx.save_for_forward``. Forward mode
        (``tg.func.jvp``, ``jacfwd``, ``linearize``, ``forward_ad``) calls it when a subclass
        defines it; without one it differentiates through ``backward`` instead."""
        raise NotImplementedError(_NO_JVP)

    generate_vmap_rule = False  # True: under vmap, forward and backward batch op by op

    @staticmethod
    def vmap(info, in_dims, *args):
        """The batching rule under ``tg.func.vmap``: ``args`` hold the whole batch
        (``in_dims[i]``: the batch dimension of ``args[i]``, None if it has none; ``info``
        has ``batch_size`` and ``randomness``); returns ``(outputs, out_dims)``."""
        raise NotImplementedError("To use autograd.Function with vmap, you must either "
                                  "override the vmap staticmethod or set "
                                  "generate_vmap_rule=True.")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` and, when an input requires grad, record the call on the tape."""
        split = cls.setup_context is not Function.setup_context  # forward without ctx
        if kwargs:
            args, kwargs = _bind(cls.forward, args, kwargs, with_ctx=not split)
        if _vmap_running[0] and any(getattr(a, "_vmap_level", 0)
                                    for a in (*args, *kwargs.values())):
            return _vmapped_apply(cls, args, kwargs)  # a batched argument: its vmap rule
        ctx = FunctionCtx()
        # (under no_grad inside forward mode too: the record carries the tangent, by backward)
        record = (_gm.recording() and not _gm.is_inference_mode_enabled()
                  and any(isinstance(a, Tensor) and a._rg for a in args))
        rg = "_rg" if cls.jvp is Function.jvp else "requires_grad"  # (a dual's: False, as
        ctx.needs_input_grad = tuple(  # PyTorch's, unless its tangent is to come by backward)
            record and isinstance(a, Tensor) and getattr(a, rg) for a in args)
        # (no forward-only records either: outputs take this call's)
        with _gm.untracked(), _lowered_transforms():
            if split:
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, outputs)
            else:
                outputs = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        if ctx._dirty:
            check_dirty(ctx._dirty, (*args, *kwargs.values()), outs)
        if not record:
            ctx._to_save = ctx._to_save_fwd = ()  # nothing will call backward or jvp
            return outputs
        outs = _record(cls, ctx, args, outs)
        return outs[0] if single else outs


def _bind(fn, args, kwargs, with_ctx=True):
    """Keyword arguments of ``apply`` become positional where the signature allows it."""
    lead = (None,) if with_ctx else ()
    try:
        bound = inspect.signature(fn).bind(*lead, *args, **kwargs)
    except (TypeError, ValueError):
        return args, kwargs
    return bound.args[len(lead):], bound.kwargs


def _record(cls, ctx, args, outs):
    ins = [a for a in args if isinstance(a, Tensor) and a._rg]
    dirty = {id(t) for t in ctx._dirty}
    for a in ins:
        if id(a) in dirty and a._seg is None:
            raise RuntimeError(_DIRTY_LEAF)
    seg = tape.prepare(ins)
    slots = tuple(tape.slot(seg, a) if isinstance(a, Tensor) and a._rg else -1 for a in args)
    meta = tuple((True, a.shape, a.dtype) if isinstance(a, Tensor) else (False, None, None)
                 for a in args)
    node = _Node(ctx, cls, cls._backward_name, slots, meta)
    node.seg = weakref.ref(seg)
    # weak: the node owns the ctx, so a strong link back would make every recorded call a
    # reference cycle that only the cyclic garbage collector frees
    ctx._node = weakref.ref(node)
    aux = tape.add_pyaux(seg, node)
    a = slots[0] if slots else -1
    b = slots[1] if len(slots) > 1 else -1
    crec = tape.record(seg, Op.CUSTOM, a, b, aux, 0, narrow=True)  # no value
    non_diff = {id(t) for t in ctx._non_diff}
    in_ids = {id(x) for x in args if isinstance(x, Tensor)}
    result = []
    for o in outs:
        if not isinstance(o, Tensor):
            node.out_recs.append(-1)
            node.out_meta.append(None)
            result.append(o)
            continue
        aliased = id(o) in in_ids and id(o) not in dirty
        marked = id(o) in non_diff  # (read before an input returned as it is is aliased)
        if aliased:
            o = _alias_output(o)  # an input returned unchanged is a new tensor (as in PyTorch)
        node.out_meta.append((o.shape, o.dtype))
        if marked or o.dtype.kind not in "fc":
            node.out_recs.append(-1)
            result.append(o)
            continue
        r = tape.record(seg, Op.OUTPUT, crec, -1, -1, tape._width(o),
                        narrow=o.dtype == np.float32)
        if aliased or o._base is not None:  # a view: in place, it would bypass the backward
            o._multi = (cls.__name__, len(node.out_recs), "custom")
        node.out_recs.append(r)
        o._seg, o._rec, o._rg = seg, r, True
        if id(o) in dirty and o._base is not None:
            _dirty_view(o)
        result.append(o)
    to_save = getattr(ctx, "_to_save", ())
    ctx._saved = tuple(_pack(ctx, t, seg) for t in to_save)
    if tape.on_save[0] is not None:  # saved-tensor hooks (autograd/graph.py)
        ctx._saved = tape.on_save[0].custom(ctx._saved)
    ctx._to_save = ()  # the packed form only: no reference cycle through the segment
    ctx._saved_fwd = tuple(_pack(ctx, t, seg) for t in getattr(ctx, "_to_save_fwd", ()))
    ctx._to_save_fwd = ()
    if any(s is not None for s in ctx._saved):
        node.saved = [True]
    return tuple(result)


def _dirty_view(o):
    """A view changed in place by the Function (``mark_dirty``): its base takes the new
    values' history too (a CopySlices of the custom output, as PyTorch records), so a backward
    through the base reaches the custom backward."""
    from ..ops.inplace import _rebind, storage_base

    if storage_base(o) is o:
        return
    out = _make(o._data)
    out._seg, out._rec, out._rg = o._seg, o._rec, True
    _rebind(o, out)


def _alias_output(t):
    o = _make(t._data)
    o._vc = t._vc
    return o


# ---- backward: the sweeps call these ------------------------------------------------------

def _validate(node, grads):
    """PyTorch's checks of what ``backward`` returned; returns one entry per argument."""
    name = node.node_name
    if not isinstance(grads, tuple):
        grads = (grads,)
    n = len(node.slots)
    if len(grads) > n and all(g is None for g in grads[n:]):
        grads = grads[:n]  # extra trailing Nones are tolerated (as in PyTorch)
    if len(grads) != n:
        raise RuntimeError(f"function {name} returned an incorrect number of gradients "
                           f"(expected {n}, got {len(grads)})")
    out = []
    for i, (g, (is_t, shape, dtype)) in enumerate(zip(grads, node.in_meta)):
        if g is None:
            out.append(None)
            continue
        if not isinstance(g, Tensor):
            raise RuntimeError(f"expected Variable or None (got {type(g).__name__})")
        if not is_t:
            raise RuntimeError(f"function {name} returned a gradient different than None at "
                               f"position {i + 1}, but the corresponding forward input was not "
                               "a Variable")
        if node.slots[i] < 0:
            out.append(None)  # the input needs no gradient: ignored (as in PyTorch)
            continue
        if g.shape != shape:
            try:
                ok = np.broadcast_shapes(shape, g.shape) == g.shape
            except ValueError:
                ok = False
            if not ok:
                raise RuntimeError(f"Function {name} returned an invalid gradient at index {i} - "
                                   f"got {list(g.shape)} but expected shape compatible with "
                                   f"{list(shape)}")
            from ..ops.reduce import sum_to

            g = sum_to(g, shape)
        out.append(g)
    return out


def _grads_in(node, get, zeros):
    """The gradient of each output for ``backward``: ``get(rec)`` or zeros / None."""
    grads = []
    for rec, meta in zip(node.out_recs, node.out_meta):
        if meta is None:
            grads.append(None)
            continue
        g = get(rec) if rec >= 0 else None
        if g is None and node.ctx.materialize_grads:
            g = zeros(meta)
        grads.append(g)
    return grads


def _call_backward(node, grads):
    cls = node.cls
    own_backward, own_vjp = cls.backward is not Function.backward, cls.vjp is not Function.vjp
    if not (own_backward or own_vjp):
        raise NotImplementedError(_NO_BACKWARD)
    if own_backward and own_vjp and cls.backward is not cls.vjp:
        raise RuntimeError("Implementing both 'backward' and 'vjp' for a custom Function is not "
                           "allowed. You should only implement one of them.")
    fn = cls.backward if own_backward else cls.vjp  # (a user's: NumPy warns as outside)
    return (fn if cls.__module__.startswith("tapegrad.") else as_user(fn))(node.ctx, *grads)


def _backward(seg, r, node, get, zeros):
    """The validated gradients of ``backward``, with the node's hooks around it if any."""
    hooks = node_hooks.hooks_of(seg, r)
    if hooks is None:
        return _validate(node, _call_backward(node, _grads_in(node, get, zeros)))
    return node_hooks.run_custom(hooks, node, _grads_in(node, get, lambda meta: None), zeros,
                                 lambda grads: _validate(node, _call_backward(node, grads)))


def custom_vjp_numeric(sweep, r):
    """Numeric sweep paused at CUSTOM record ``r``: run ``backward``, add into the inputs."""
    seg = sweep.seg
    node = seg.pyaux[int(sweep.recs[r, tape.AUX])]
    # (a device sweep's host view: ``backward`` gets CUDA gradients for CUDA outputs)
    where = (lambda t: t.to("cuda")) if getattr(sweep, "on_device", False) else (lambda t: t)

    def get(rec):
        if rec >= len(sweep.reached) or not sweep.reached[rec]:
            return None  # the sweep may stop at its newest seed: later outputs are unused
        shape, dtype = node.out_meta[node.out_recs.index(rec)]
        g = np.array(sweep.grad_of(rec))
        if np.dtype(dtype).kind == "c":  # a complex output's (re, im) pairs
            g = g.view(np.complex128)
        return where(_make(g.reshape(shape).astype(dtype, copy=False)))

    def zeros(meta):
        return where(_make(np.zeros(meta[0], meta[1])))

    with _gm.set_grad_enabled(False):
        grads = _backward(seg, r, node, get, zeros)
    sweep.accumulate(node.slots, [None if g is None else g._data if g.is_cuda else
                                  _arena_form(g._data) for g in grads])


def _arena_form(d):
    """A gradient as the arena holds it: float64, complex values as (re, im) pairs."""
    if type(d) is not float and d.dtype.kind == "c":
        return np.ascontiguousarray(d, np.complex128).view(np.float64)
    return np.asarray(d, np.float64)


def custom_vjp_retape(sweep, r):
    """Re-taping sweep at CUSTOM record ``r``: ``backward`` runs with grad mode on."""
    seg = sweep.seg
    node = seg.pyaux[int(sweep.recs[r, tape.AUX])]

    def get(rec):
        g = sweep.grad_of(rec)
        if g is None:
            return None
        shape = node.out_meta[node.out_recs.index(rec)][0]
        return g.reshape(shape) if g.shape != shape else g

    def zeros(meta):
        return _make(np.zeros(meta[0], meta[1]))

    if _linearizing.n and has_jvp(node.cls):
        grads = _validate(node, _jvp_transposed(node, _grads_in(node, get, zeros), zeros))
    else:
        n, _linearizing.n = _linearizing.n, 0  # a backward's own gradients are plain ones
        try:
            grads = _backward(seg, r, node, get, zeros)
        finally:
            _linearizing.n = n
    sweep.accumulate(node.slots, grads)


# ---- forward mode by the double-vjp trick: a user's jvp, transposed twice ----------------

class _Linearizing(threading.local):
    n = 0  # > 0 while forward mode records g = J^T u to differentiate it w.r.t. u


_linearizing = _Linearizing()


def reverse_stops_at(seg):
    """Whether a reverse sweep hands no adjoint into ``seg``: its records are forward-only
    (ops under no_grad inside forward mode), except for the double-vjp trick, whose
    reverse sweep computes forward-mode derivatives."""
    return seg.forward_only and not _linearizing.n


@contextlib.contextmanager
def linearizing():
    """Around the backward that forward mode's double-vjp trick records (``g = J^T u``, then
    ``J t = d(g . t)/du``): there a custom Function with its own ``jvp`` records a node whose
    derivative w.r.t. ``u`` IS that jvp, so forward mode uses the user's rule everywhere."""
    _linearizing.n += 1
    try:
        yield
    finally:
        _linearizing.n -= 1


class _JvpTranspose(Function):
    """``g = J^T u`` for the dummy cotangent ``u`` (zero, so ``g`` is zero: no ``backward``
    call, and a Function with only a ``jvp`` works); the derivative of ``g . t`` w.r.t. ``u``
    is ``jvp(t)``."""

    generate_vmap_rule = True

    @staticmethod
    def forward(ctx, node, *us):
        ctx.node = node
        return tuple(_value(np.zeros(shape, dtype)) if is_t and slot >= 0 else None
                     for (is_t, shape, dtype), slot in zip(node.in_meta, node.slots))

    @staticmethod
    def backward(ctx, *ts):
        node = ctx.node
        ts = [None if not is_t else t if t is not None else
              _value(np.zeros(shape, dtype if np.dtype(dtype).kind in "fc" else np.float64))
              for t, (is_t, shape, dtype) in zip(ts, node.in_meta)]
        outs = call_jvp(node, ts)
        return (None,) + tuple(outs[i] for i, m in enumerate(node.out_meta) if m is not None)


_JvpTranspose._backward_name = "JvpTransposeBackward"


def _jvp_transposed(node, grads, zeros):
    us = [g if g is not None else zeros(m) for g, m in zip(grads, node.out_meta)
          if m is not None]
    res = _JvpTranspose.apply(node, *us)
    return res if isinstance(res, tuple) else (res,)


# ---- forward mode: the forward sweep calls these -------------------------------------------

def has_jvp(cls):
    """Whether ``cls`` defines its own ``jvp`` (forward mode then calls it)."""
    return cls.jvp is not Function.jvp


def call_jvp(node, tangents):
    """The user's ``jvp`` on one tangent per forward argument (tensors or None); returns one
    tangent (or None) per output, checked as PyTorch checks them."""
    ctx = node.ctx
    ctx._in_jvp = True
    try:
        res = node.cls.jvp(ctx, *tangents)
    finally:
        ctx._in_jvp = False
    res = res if isinstance(res, tuple) else (res,)
    n = len(node.out_meta)
    if len(res) != n:
        raise RuntimeError(f"Function's jvp returned an invalid number of forward gradients "
                           f"(expected {n} but got {len(res)})")
    for t, meta in zip(res, node.out_meta):
        if t is None or meta is None:
            continue
        if not isinstance(t, Tensor):
            raise RuntimeError(f"expected Variable or None (got {type(t).__name__})")
        if tuple(t.shape) != tuple(meta[0]):
            raise RuntimeError("Trying to set a forward gradient that has a different size "
                               "than that of the original Tensor, this is not supported. "
                               f"Tensor is of size {list(meta[0])} while the given forward "
                               f"gradient is of size {list(t.shape)}.")
    return res


def custom_jvp_blocks(node, blocks, k):
    """Tangent blocks ``(k, size)`` of a custom Function's outputs (OUTPUT record id ->
    block) from its arguments' blocks (None: no tangent), one ``jvp`` call per direction."""
    cols = []
    for j in range(k):
        ts = []
        for blk, (is_t, shape, dtype) in zip(blocks, node.in_meta):
            if not is_t:
                ts.append(None)
            elif blk is None:
                ts.append(_value(np.zeros(shape, dtype if np.dtype(dtype).kind == "f"
                                          else np.float64)))
            else:
                ts.append(_value(np.broadcast_to(blk[j], (int(np.prod(shape)),))
                                 .reshape(shape).astype(dtype)))
        with _gm.no_grad():
            cols.append(call_jvp(node, ts))
    out = {}
    for i, rec in enumerate(node.out_recs):
        if rec < 0 or all(c[i] is None for c in cols):
            continue
        size = int(np.prod(node.out_meta[i][0]))
        out[rec] = np.stack([np.zeros(size) if c[i] is None else
                             np.asarray(c[i]._data, np.float64).reshape(size) for c in cols])
    return out


def _value(arr):
    """An array as a tensor (a 0-d float64 one holds a Python float, as everywhere)."""
    return _make(arr if arr.ndim or arr.dtype != np.float64 else float(arr))


from .once_differentiable import once_differentiable  # noqa: E402, F401 (re-exported; uses Function)
