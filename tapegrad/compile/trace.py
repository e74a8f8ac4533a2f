"""Tracing: run the function eagerly while observing every tapegrad op it calls.

The observer is a profile function (``sys.setprofile``, this thread only, for the duration of
the call): at the outermost call of a tapegrad op (a function or ``Tensor`` method of the op
library) it notes the arguments, and at that call's return the result; calls an op makes
internally are not observed. Observing calls instead of patching the functions sees ops
however they were bound (``from tapegrad import tanh`` before ``tg.compile`` existed), and costs
eager code nothing. Each observed op becomes nodes of the replay program (``ir.Graph``); the
program's value of each node is computed next to the eager one and must agree with it.

A tensor that reaches an op without having been produced by an observed op must be an argument
or a tensor reachable from the function (closure, globals it names, a bound object, containers
and modules under them); anything else means an op the tracer did not see, and the trace is
rejected (``ir.Unsupported``), as is every op without a handler here.
"""

import math
import sys
import threading
import types

import numpy as np

from .. import grad_mode as _gm
from ..tensor import Tensor
from . import assign, ir
from .ir import Unsupported
from .reach import _PLAIN_SUBCLASSES, reachable

_local = threading.local()


def active():
    return getattr(_local, "tracer", None)


BORROW_MIN = 1 << 16  # elementwise results this big are checked on a sample and not recomputed
SAMPLE = 4096


# ---- which calls are ops: code object -> resolver(locals) -> (op name, arguments) ------------

_TABLE = None
_SAFE = frozenset((
    "shape", "ndim", "dtype", "device", "is_cuda", "requires_grad", "is_leaf", "retains_grad",
    "_version", "grad_fn", "size", "dim", "numel", "nelement", "element_size", "__len__",
    "__repr__", "__str__", "__format__", "is_grad_enabled", "is_inference_mode_enabled",
    "get_default_dtype", "is_inference", "broadcast_shapes", "__hash__", "__init__",
    "_arr", "_vcounter", "__array_priority__", "__reduce__", "set_printoptions",
))


# Entry points observed *through*: they are written with tapegrad ops, which the tracer sees
# (``__iter__`` returns a generator of ``self[i]``, each indexing seen as it runs).
_THROUGH = frozenset(("__array_ufunc__", "__array_function__", "__iter__"))
# Modules whose public functions are traced through for the same reason: the function
# transforms, and the torch-named compositions of ops (tg.roll, tg.log2, tg.tensordot, ...).
_TRACED_THROUGH = ("tapegrad.func", "tapegrad.torch_names", "tapegrad.linalg")


_CMP = {np.equal: "eq", np.not_equal: "ne", np.less: "lt", np.less_equal: "le",
        np.greater: "gt", np.greater_equal: "ge"}


def _params(code):
    n = code.co_argcount + code.co_kwonlyargcount
    names = list(code.co_varnames[:n])
    if code.co_flags & 0x04:
        names.append(code.co_varnames[n])
    if code.co_flags & 0x08:
        names.append(code.co_varnames[n + (1 if code.co_flags & 0x04 else 0)])
    return names


def _plain(name, code):
    params = _params(code)
    return lambda L: (name, {p: L[p] for p in params})


def _shared(code):
    """Code several ops share (a closure factory's: ``ops/cuda_linalg.on_host``, argmax's):
    which op ran is not known to the table, so it is not handled; the warning names it by the
    closure's ``name``, else by the function it wraps (the first among its free variables)."""
    params = _params(code)

    def resolve(L):
        name = L.get("name") if "name" in code.co_freevars else None
        op = L.get("op") if "op" in code.co_freevars else None
        if not isinstance(name, str) and hasattr(op, "name"):  # (an Op: its registry name)
            from ..registry import REGISTRY

            name = REGISTRY[int(op)].name
        if not isinstance(name, str):
            inner = next((L[v] for v in code.co_freevars
                          if isinstance(L.get(v), types.FunctionType)), None)
            name = getattr(inner, "__name__", code.co_name)
        return f"{name} (code several ops share)", {p: L[p] for p in params}
    return resolve


_CLOSURE_KEYS = {"input": "x", "other": "y"}


def _closure_op(L):
    """The op closures of ops/elementwise.py (``_unary``/``_binary``): the OpDef names them."""
    d = L["d"]
    return d.name, {x: L[p] for p, x in _CLOSURE_KEYS.items() if p in L}


def _name_of(f):
    d = getattr(f, "opdef", None)
    return d.name if d is not None else f.__name__


def _build_table():
    import tapegrad as tg

    from .. import autograd, creation, nn, ops
    from ..func.vmap import dispatching
    from ..ops import compare, elementwise, inplace, scalar_fast
    from ..optim import lr_scheduler, optimizer

    table, first = {}, {}

    def add(f, name=None):
        # function transforms (tg.grad, vmap, ...) are traced through: they are written
        # with the ops and autograd.grad, which the tracer sees
        if isinstance(f, types.FunctionType) and not f.__module__.startswith(_TRACED_THROUGH):
            code = f.__code__
            if code in first and first[code] is not f and code not in explicit:
                # one code, several functions (a closure factory): which op ran is unknown
                table[code] = _shared(code)
                return
            first.setdefault(code, f)
            table.setdefault(code, _plain(name or f.__name__, code))

    # closures shared by many ops: resolved through their closure variables
    table[elementwise.add.__code__] = _closure_op
    table[elementwise.exp.__code__] = _closure_op
    table[scalar_fast.METHODS["__add__"].__code__] = lambda L: (
        _name_of(L["general"]), {"x": L["self"], "y": L["other"]})
    table[scalar_fast.METHODS["__radd__"].__code__] = lambda L: (
        _name_of(L["general"]), {"x": L["other"], "y": L["self"]})
    table[ops._rev(elementwise.add).__code__] = lambda L: (
        _name_of(L["f"]), {"x": L["other"], "y": L["self"]})
    table[inplace.METHODS["__iadd__"].__code__] = lambda L: (
        L["f"].__name__, {"x": L["self"], "other": L["other"]})
    table[dispatching("x", len).__code__] = _dispatching
    table[dispatching("x", elementwise.sin).__code__] = lambda L: _dispatching(
        {"raw": L["raw"], "name": L["name"], "args": (L["input"],), "kwargs": {}})
    table[scalar_fast.METHODS["__neg__"].__code__] = lambda L: ("neg", {"x": L["self"]})
    table[scalar_fast.METHODS["__pow__"].__code__] = lambda L: (
        "pow", {"x": L["self"], "y": L["other"]})
    table[creation.zeros.__code__] = lambda L: ("factory", dict(L))
    # zeros/ones/empty (under vmap's batch-aware wrapper)
    table[_unwrapped(creation.zeros_like).__code__] = lambda L: ("factory", dict(L))
    # x.new_zeros/new_ones/new_empty (one closure, named by its ``name``), new_full, new_tensor:
    # factories like tg.zeros/tg.tensor (torch_names' methods are otherwise traced through)
    table[_unwrapped(Tensor.new_zeros).__code__] = lambda L: (L["name"], dict(L))
    for name in ("new_full", "new_tensor"):
        table[_unwrapped(getattr(Tensor, name)).__code__] = lambda L, n=name: (n, dict(L))
    # the CUDA round trip's wrapper (ops/cuda_linalg.on_host): followed into a composition it
    # wraps (``traced``), else the op it wraps is named
    from ..ops.cuda_linalg import TRACED_INTO, on_host

    host = on_host(len).__code__
    table[host] = lambda L, shared=_shared(host): None if L["fn"] in TRACED_INTO else shared(L)
    from ..ops import extra
    from ..registry import REGISTRY

    # the smooth functions of ops/extra.py (one closure each): named by their op
    table[extra.erf.__code__] = lambda L: (REGISTRY[int(L["op"])].name, {"x": L["input"]})
    from ..nn import utils as U
    from .clip_nodes import parameters_of

    clip = U.clip_grad_norm_.__code__  # (traced whole: it writes the .grad arrays in NumPy)
    table[clip] = lambda L: ("clip_grad_norm_", {**_plain("", clip)(L)[1],
                                                 "tensors": parameters_of(L)})
    from ..nn import convolution

    conv = convolution._conv.__code__  # (what nn.Conv1d/2d/3d call)
    table[conv] = lambda L: (f"conv{L['nd']}d", _plain("", conv)(L)[1])
    table[compare.eq.__code__] = lambda L: (_CMP.get(L["np_f"], L["np_f"].__name__),
                                            {"x": L["input"], "y": L["other"]})
    # &, |, ^ (one closure): followed into the comparison closure it calls (named by its ufunc)
    table[compare.bitwise_and.__code__] = lambda L: None
    from ..ops import reduce
    from .arg_nodes import resolve as arg_resolve

    table[reduce.argmax.__code__] = arg_resolve  # (argmax/argmin: one closure, named by name)
    from ..torch_names import products
    from .composed_nodes import resolve as triangle_resolve

    table[_unwrapped(products.tril).__code__] = triangle_resolve  # (tril/triu: one closure)
    from ..nn import functional as F

    # whole losses (their targets are values; bce's range is a guard), average pooling, bags
    for f in (F.nll_loss, F.cross_entropy, F.avg_pool2d, F.avg_pool3d, F.binary_cross_entropy,
              F.embedding_bag):
        f = _unwrapped(f)  # (under vmap's wrapper, whose code every wrapper shares)
        table[f.__code__] = _plain(f.__name__, f.__code__)
    from .attention_nodes import resolve

    table[_unwrapped(F.scaled_dot_product_attention).__code__] = resolve
    from ..nn import pool_extras

    # max_pool{1,2,3}d_with_indices (one closure): followed into the pooling it calls
    table[pool_extras.max_pool1d_with_indices.__code__] = lambda L: None
    from ..autograd import functional as AF

    # jacobian/hessian are traced through (their rows are autograd.grad calls); the rows are
    # stacked in NumPy when they need no graph, so the stacking is one op here
    table[AF._stack_rows.__code__] = _plain("stack_rows", AF._stack_rows.__code__)
    explicit = set(table)

    for mod in (ops, creation, autograd, tg):  # canonical names first
        for name, f in vars(mod).items():
            if not name.startswith("_"):
                add(_unwrapped(f), name)
    for name, attr in vars(Tensor).items():
        if name in _THROUGH:
            continue
        if isinstance(attr, property):
            for part, f in (("get", attr.fget), ("set", attr.fset)):
                if f is not None and f.__code__ not in table:
                    table[f.__code__] = _plain(f"{name}.{part}", f.__code__)
        elif isinstance(attr, types.FunctionType):
            add(_unwrapped(attr), name)
    for mod in (optimizer, lr_scheduler):
        for cls in vars(mod).values():
            if isinstance(cls, type):
                for sub in _subclasses(cls):
                    for meth in ("step", "zero_grad"):
                        f = sub.__dict__.get(meth)
                        if isinstance(f, types.FunctionType):
                            table[f.__code__] = _plain(f"{cls.__name__}.{meth}", f.__code__)
    zero = nn.Module.zero_grad.__code__  # (it sets .grad without the property: not seen)
    table[zero] = _plain("Module.zero_grad", zero)
    return table


def _unwrapped(f):
    """The op under its wrappers (vmap's dispatching, NumPy keyword names): ``.raw``."""
    while getattr(f, "raw", None) is not None:
        f = f.raw
    return f


def _subclasses(cls):
    out = [cls]
    for s in cls.__subclasses__():
        out.extend(_subclasses(s))
    return out


def _dispatching(L):
    """The vmap-aware wrappers of the public functions (``func/vmap.dispatching``)."""
    import inspect

    from ..ops import elementwise
    from ..ops.keywords import torch_keywords

    raw = L["raw"]
    if raw.__module__.startswith(_TRACED_THROUGH):
        return None  # not an op: the tracer follows the call into the ops it makes
    args, kwargs, sig = L["args"], dict(torch_keywords(L["kwargs"])), inspect.signature(raw)
    if "input" in kwargs and not args and "input" not in sig.parameters:
        args = (kwargs.pop("input"),)  # (PyTorch's name, given by position as numpy_keywords)
    bound = sig.bind(*args, **kwargs)
    bound.apply_defaults()
    args = dict(bound.arguments)
    if raw.__code__ in (elementwise.add.__code__, elementwise.exp.__code__):
        # (their parameters carry PyTorch's names; the handlers read x/y)
        return raw.opdef.name, {_CLOSURE_KEYS.get(k, k): v for k, v in args.items()}
    return L["name"], args


def _table():
    global _TABLE
    if _TABLE is None:
        _TABLE = _build_table()
    return _TABLE


# ---- the tracer -------------------------------------------------------------------------------

class Ref:
    """A tensor the program reads or writes that outlives it: an argument or a captured one."""

    __slots__ = ("index", "late", "obj", "path", "start_none")

    def __init__(self, obj, path, index):
        self.obj, self.path, self.index = obj, path, index
        self.start_none = obj._grad is None if isinstance(obj, Tensor) else True


class Tracer:
    def __init__(self, fn, flat_args):
        self.g = ir.Graph()
        self.cur = {}  # id(tensor or array) -> current value id
        self.keep = []  # keeps the objects whose ids are keys alive during the trace
        self.refs = []
        self.ref_of = {}  # id(obj) -> Ref
        self.leaf_of = {}  # value id -> Ref (a leaf's value: gradients accumulate there)
        self.gstate = {}  # Ref index -> "start" | None | value id of its .grad
        self.grad_objs = set()  # ids of .grad tensors handed out (in place on them: rejected)
        self.internal_leaves = set()  # values made leaves by requires_grad_ in the function
        self.viewed = set()  # ids of tensors something holds a view of
        self.late = set()  # values depending on an optimizer/scheduler step (after it ran)
        self.after_step = False
        self.islands = []  # (object, path, method to call or None: only its identity)
        self.hyper_guards = []  # (island index, groups): optimizer settings baked in
        self.start_guards = []  # (Ref, grad is None)
        self.grads_before, self.grads_after_step = {}, {}  # Ref index -> .grad (effects.py)
        self.key_arrays = []  # (Ref or None, baked array) of index arrays
        self.borrowed = {}  # value id -> the eager array that is its value (see ``elementwise``)
        self.versions = {}  # id(tensor) -> its version when last mapped (``audit.verify``)
        self.plain_sgd = True  # plain SGD steps may become nodes (``effects._plain_sgd``)
        self.reject = None
        self.frame = None
        self.entry = None
        self.candidates, self.values, self.loose, self.sizes = reachable(fn, flat_args)
        self.fn, self.args = fn, flat_args
        self.py_seen = assign.start(self)  # path -> Python value (``assign.py``)
        self.arg_aliases = []  # (capture path, argument index): an argument also captured
        for i, a in enumerate(flat_args):
            if isinstance(a, (Tensor, np.ndarray)):
                hit = self.candidates.get(id(a))
                if hit is not None and hit[1][0][0] != "arg":
                    self.arg_aliases.append((hit[1], i))
                self._input(a, i)

    # ---- values ----
    def _map(self, obj, vid):
        self.cur[id(obj)] = vid
        self.keep.append(obj)
        if isinstance(obj, Tensor):
            self.versions[id(obj)] = obj._version

    def _ref(self, obj, path):
        r = self.ref_of.get(id(obj))
        if r is None:
            r = Ref(obj, path, len(self.refs))
            self.refs.append(r)
            self.ref_of[id(obj)] = r
            self.keep.append(obj)
            self.gstate[r.index] = "start"
        return r

    def _input(self, a, i):
        if isinstance(a, Tensor):
            self._check_source(a)
            r = self._ref(a, (("arg", i),))
            vid = self.g.emit("input", (), bool(a._rg), value=_snap(a._data), ref=r.index)
            if a._rg:
                self.leaf_of[vid] = r
        else:
            vid = self.g.emit("input", (), False, value=_snap(a), ref=None, index=i)
            r = self._ref(a, (("arg", i),))
        self._map(a, vid)

    def _check_source(self, t):
        if type(t) is not Tensor and type(t) not in _PLAIN_SUBCLASSES():
            raise Unsupported(f"a {type(t).__name__} (tensor subclass)")
        if t._rg and t._seg is not None:
            raise Unsupported("a tensor with autograd history from outside the function")
        if t._base is not None and (t._rg or t._base._seg is not None or
                                    type(t._data) is not np.ndarray):
            # (a view of data, X[i:i + 32], is read as its NumPy view, live; writes into views
            # are refused where they happen)
            raise Unsupported("a view of another tensor that requires grad enters the function")
        if type(t._data) is not float and type(t._data) is not np.ndarray:
            raise Unsupported("a tensor not on the CPU")
        if t._hooks or t._post_hooks or t._inference:
            raise Unsupported("a tensor with hooks or an inference tensor")

    def v(self, x):
        """Value id of an op argument (tensors, arrays, Python numbers)."""
        vid = self.cur.get(id(x))
        if vid is not None:
            return vid
        if isinstance(x, Tensor):
            hit = self.candidates.get(id(x))
            if hit is None:
                from .audit import unseen

                raise Unsupported(f"{unseen(x)} reached an op")
            self._check_source(x)
            r = self._ref(x, hit[1])
            vid = self.g.emit("load", (), bool(x._rg), value=_snap(x._data), ref=r.index)
            if self.after_step:
                self.late.add(vid)
            if x._rg:
                self.leaf_of[vid] = r
            self._map(x, vid)
            return vid
        if isinstance(x, np.ndarray):
            raise Unsupported("a NumPy array made inside the function reached an op")
        if isinstance(x, (bool, int, float)) and not isinstance(x, np.generic):
            return self.g.emit("const", (), False, value=ir.norm(np.asarray(x)) if
                               isinstance(x, bool) else x)
        if isinstance(x, np.generic):
            return self.g.emit("const", (), False, value=ir.norm(x))
        raise Unsupported(f"an argument of type {type(x).__name__}")

    def e(self, op, ins, **params):
        rg = _gm.is_grad_enabled() and op not in ir.NO_GRAD and any(self.g.rg[i] for i in ins)
        vid = self.g.emit(op, ins, rg, **params)
        if any(i in self.late for i in ins):
            self.late.add(vid)
        return vid

    def elementwise(self, result, op, ins, what, **params):
        """Emit elementwise ``op`` and map ``result`` to it. A big result is not recomputed: the
        op runs on a strided sample of its inputs, which must match the eager result there,
        and the eager array becomes the node's value (``release`` copies it before eager code
        writes into it)."""
        d = result._data if isinstance(result, Tensor) else None
        g = self.g
        if type(d) is not np.ndarray or d.size < BORROW_MIN or d.base is not None or \
                not d.flags.c_contiguous or not any(i in g.varying for i in ins) or \
                not all(type(g.val[i]) is float or g.val[i].shape in ((), d.shape)
                        for i in ins):
            return self.out(result, self.e(op, ins, **params), what)
        at = np.unravel_index(np.arange(0, d.size, d.size // SAMPLE), d.shape)
        sample = ir.IMPL[op](params, *[g.val[i] if type(g.val[i]) is float or
                                       g.val[i].shape == () else g.val[i][at] for i in ins])
        check(ir.norm(sample), d[at], what)
        vid = self.e(op, ins, known=d, **params)
        if g.val[vid] is d:
            self.borrowed[vid] = d
        return self.out(result, vid, what)

    def release(self, grads_only=False):
        """Eager code is about to write into arrays: values that are (views of) borrowed eager
        arrays become copies. ``grads_only``: only if a borrowed array is some ``.grad``
        (backward accumulates into those in place)."""
        if not self.borrowed:
            return
        owners = {id(a) for a in self.borrowed.values()}
        if grads_only:
            grads = (t._grad._data for t in self.keep if isinstance(t, Tensor) and
                     t._grad is not None and type(t._grad._data) is np.ndarray)
            if not any(id(a) in owners or id(a.base) in owners for a in grads):
                return
        val = self.g.val
        for vid, v in enumerate(val):
            if type(v) is np.ndarray and (id(v) in owners or id(v.base) in owners):
                val[vid] = v.copy()
        self.borrowed.clear()

    def out(self, result, vid, what):
        """Map the eager ``result`` tensor to ``vid`` after checking they agree."""
        if not isinstance(result, Tensor):
            raise Unsupported(f"{what} returned a {type(result).__name__}")
        check_value(self, vid, result._data, what)
        if bool(result._rg) != self.g.rg[vid] and not (  # (a view made under no_grad of a
                result._base is not None and not _gm.is_grad_enabled()):  # tensor requiring
            raise Unsupported(f"{what}: requires_grad differs from eager")  # grad reports it)
        self._map(result, vid)
        return vid

    # ---- the hooks: sys.settrace (no events for C calls), or sys.setprofile ----
    def _enter(self, frame):
        res = _TABLE.get(frame.f_code)
        if res is None:
            return False
        try:
            self.entry = res(frame.f_locals)
        except Exception as e:  # noqa: BLE001  (a failure here rejects the trace)
            self.reject = f"reading the arguments of {frame.f_code.co_name}: {e}"
            return False
        if self.entry is None:  # a wrapper of a function traced through
            return False
        name = self.entry[0]
        if name in _MUTATING:
            self._load_before(self.entry[1])
        if name in ISLANDS or name.endswith(".step"):  # it reads tensors: are they as traced?
            self.audit(name)
            if self.reject is not None:
                return False
        if name in _MUTATING or name in ISLANDS or name.endswith((".step", ".zero_grad")) or \
                name == "clip_grad_norm_":
            self.release()
        elif name in ("backward", "grad"):
            self.release(grads_only=True)
            if name == "backward":  # (it accumulates into existing .grad arrays in place)
                self.grads_before = {r.index: _snap(r.obj._grad._data) for r in self.refs
                                     if self.gstate[r.index] == "start" and not r.start_none}
        self.frame = frame
        return True

    def audit(self, where):
        """Reject the trace if something unobserved changed a tensor (``audit.verify``)."""
        from .audit import verify

        try:
            verify(self, where)
        except Unsupported as e:
            self.reject = str(e)

    def _load_before(self, args):
        """A captured tensor first met by an in-place op: read its value before the op
        changes it (read at the op's return, the program would start from the new value)."""
        for name, x in args.items():  # (an index is baked in, not read: see handlers)
            if name != "key" and isinstance(x, Tensor) and id(x) not in self.cur:
                try:
                    self.v(x)
                except Unsupported as e:
                    self.reject = str(e)

    def _leave(self, arg):
        self.frame = None
        name, args = self.entry
        self.entry = None
        try:
            handle(self, name, args, arg)
        except Unsupported as e:
            msg = str(e)
            self.reject = msg if msg.startswith(name) else f"{name}: {msg}"
        except Exception as e:  # noqa: BLE001
            self.reject = f"{name}: {type(e).__name__}: {e}"

    def trace_call(self, frame, event, arg):
        """``sys.settrace``: called at each Python call; only an op's frame is traced on."""
        if self.frame is None and self.reject is None and self._enter(frame):
            frame.f_trace_lines = False
            return self.trace_op
        return None

    def trace_op(self, frame, event, arg):
        if event == "return" and frame is self.frame:
            self._leave(arg)
        return self.trace_op

    def profile(self, frame, event, arg):
        """``sys.setprofile`` (when a tracer such as coverage owns ``sys.settrace``)."""
        if self.reject is not None:
            return
        if event == "call":
            if self.frame is None:
                self._enter(frame)
        elif event == "return" and frame is self.frame:
            self._leave(arg)


def _snap(d):
    """A trace-time copy of a value that in-place updates later in the trace may change."""
    return d if type(d) is float else np.array(d)


def check(mine, eager, what):
    """The program's value must be the eager one (same kind, shape, dtype, close values)."""
    if type(mine) is float and type(eager) is float and mine == eager:
        return
    if type(mine) is float or type(eager) is float:
        # a 0-d float64 value is a float, or a 0-d array once something viewed it
        mine, eager = (v if type(v) is float or v.shape != () or v.dtype != np.float64 else
                       float(v) for v in (mine, eager))
        if type(mine) is not type(eager):
            raise Unsupported(f"{what}: the program's value differs in kind from eager")
        if not (mine == eager or (math.isnan(mine) and math.isnan(eager)) or
                abs(mine - eager) <= 1e-9 * max(abs(eager), 1e-300) + 1e-12):
            raise Unsupported(f"{what}: the program's value differs from eager")
        return
    if not isinstance(eager, np.ndarray) or not isinstance(mine, np.ndarray):
        raise Unsupported(f"{what}: unexpected value type")
    if mine.shape != eager.shape or mine.dtype != eager.dtype:
        raise Unsupported(f"{what}: the program's shape/dtype {mine.shape}/{mine.dtype} "
                          f"differs from eager {eager.shape}/{eager.dtype}")
    if mine.size > BORROW_MIN:  # a strided sample: a wrong formula shows anywhere, cheaply
        step = mine.size // SAMPLE
        mine, eager = mine.reshape(-1)[::step], eager.reshape(-1)[::step]
    _close(mine, eager, what)


def check_value(tr, vid, eager, what):
    """``check`` of the value ``vid``. A deferred one (``ir.Deferred``) is compared on the
    strided sample alone and then takes eager's array, borrowed as ``elementwise`` borrows."""
    g = tr.g
    base = eager.base if type(eager) is np.ndarray else None  # (a whole-array view: the same)
    if not g.is_deferred(vid) or type(eager) is not np.ndarray or not eager.flags.c_contiguous \
            or base is not None and (base.base is not None or base.nbytes != eager.nbytes) \
            or eager.shape != g.shape(vid) or eager.dtype != g.dtype(vid):
        return check(g.val[vid], eager, what)
    flat = np.arange(0, eager.size, max(eager.size // SAMPLE, 1))
    _close(g.sample(vid, flat), eager.reshape(-1)[flat], what)
    g.settle(vid, eager)
    tr.borrowed[vid] = eager


def _close(mine, eager, what):
    if mine.dtype.kind in "fc":
        tol = 1e-9 if mine.dtype.itemsize >= 8 else 1e-4
        if not np.allclose(mine, eager, rtol=tol, atol=tol * 1e-3, equal_nan=True):
            raise Unsupported(f"{what}: the program's value differs from eager")
    elif not np.array_equal(mine, eager):
        raise Unsupported(f"{what}: the program's value differs from eager")


_MUTATING = frozenset(("add_", "sub_", "mul_", "div_", "zero_", "fill_", "copy_", "subtract_",
                       "multiply_", "divide_", "true_divide_", "__iadd__", "__isub__",
                       "__imul__", "__itruediv__", "__setitem__"))
ISLANDS = ("Optimizer.step", "LRScheduler.step", "ReduceLROnPlateau.step")


def run_traced(tracer, fn, args, kwargs):
    """Call ``fn`` eagerly with ``tracer`` observing; returns fn's result."""
    _table()
    if sys.gettrace() is None:
        hook, install = tracer.trace_call, sys.settrace
    elif sys.getprofile() is None:  # a debugger or coverage owns settrace
        hook, install = tracer.profile, sys.setprofile
    else:  # both hooks taken (a debugger and a profiler): leave them alone
        tracer.reject = "sys.settrace and sys.setprofile are both in use"
        return fn(*args, **kwargs)
    _local.tracer = tracer
    install(hook)
    try:
        return fn(*args, **kwargs)
    finally:
        install(None)
        _local.tracer = None


from .handlers import handle  # noqa: E402 - handlers imports this module
