"""``tg.compile``: record a function's work once, replay it as generated NumPy code, guarded.

The first call with a new signature runs the function eagerly while a tracer observes it
(``trace.py``); the observed ops, the gradients of every ``backward``/``autograd.grad`` in it
and its in-place updates become a replay program (``codegen.py``). Later calls with the same
signature check the program's guards and run it instead of the function. Anything the tracer
cannot reproduce makes the function run eagerly (one warning naming the reason;
``fullgraph=True`` raises instead).
"""

import builtins
import sys
import threading
import types
import warnings

import numpy as np

from .. import grad_mode as _gm
from ..autograd.function import Function
from ..nn.module import Module
from ..tensor import Tensor, _make
from . import trace as _trace
from .audit import UNSEEN_WRITE, settle_guards, unseen
from .codegen import GuardFailed, Program
from .ir import Unsupported
from .optimized_module import OptimizedModule, check_arguments
from .reach import describe, size_guards, walk
from .vjp import backprop

_F64 = np.dtype(np.float64)
SECOND_ORDER_MSG = (
    "tg.compile: a backward with create_graph=True through the outputs of a compiled function "
    "that changes tensors (in-place updates, .grad, optimizer steps) is not supported: "
    "recording it would run those effects again; call the function itself "
    "(compiled.__wrapped__) for higher-order derivatives, or take them inside it")
MODIFIED_MSG = (
    "one of the variables needed for gradient computation has been modified by an inplace "
    "operation")
MAX_PROGRAMS = 8  # programs kept per function (signatures and guard outcomes together)
SETTING_CHANGED = "an optimizer setting changed"
HOOK_ADDED = "a hook was registered on a tensor"


RETRACE = ("; a value read into Python (item(), bool(), float() of a tensor) or a Python "
           "value the function reads that changes on every call records again every time: "
           "return tensors (loss.detach(), not loss.item()) and pass changing numbers as "
           "tensors")


class _Eager:
    """The cache's mark for a signature that runs eagerly."""


def _flatten(obj, leaves, key):
    """Append the leaves of a pytree of tuples/lists/dicts to ``leaves``, its signature to
    ``key``: tensors and arrays by shape/dtype (their values are inputs), the rest by value."""
    tp = type(obj)
    if tp is Tensor:
        for i, x in enumerate(leaves):
            if x is obj:  # the same tensor twice: part of the signature
                key.append(("same", i))
                break
        leaves.append(obj)
        d = obj._data
        if d.__class__ is float:  # the same signature as a 0-d float64 array
            key.append(("T", (), _F64, obj._rg, obj._seg is None))
        else:
            key.append(("T", d.shape, d.dtype, obj._rg, obj._seg is None))
    elif tp is tuple or tp is list:
        key.append((tp, len(obj)))
        for x in obj:
            _flatten(x, leaves, key)
    elif tp is dict:
        key.append((dict, tuple(obj)))
        for x in obj.values():
            _flatten(x, leaves, key)
    elif tp is np.ndarray:
        leaves.append(obj)
        key.append(("A", obj.shape, obj.dtype))
    elif obj is None or tp in (int, float, bool, str, complex):
        leaves.append(obj)
        key.append((tp, obj))
    else:
        leaves.append(obj)
        key.append(("O", id(obj)))


def _unflatten(spec, values):
    if spec[0] == "leaf":  # one value (or None): the common case, without the walk
        return values[0]
    return _build(spec, iter(values))


def _build(s, it):
    # module level: a recursive closure would be a reference cycle holding the values
    kind = s[0]
    if kind == "leaf":
        return next(it)
    if kind == "seq":
        return s[1]([_build(c, it) for c in s[2]])
    return {k: _build(c, it) for k, c in zip(s[1], s[2])}


def _out_spec(obj, leaves):
    tp = type(obj)
    if tp is tuple or tp is list:
        return ("seq", tp, [_out_spec(x, leaves) for x in obj])
    if tp is dict:
        return ("dict", tuple(obj), [_out_spec(x, leaves) for x in obj.values()])
    leaves.append(obj)
    return ("leaf",)


class Replay:
    """One traced program: its guards, the generated functions and how to build the outputs."""

    def __init__(self, fn, tracer, result):
        self.fn = fn
        outs = []
        self.spec = _out_spec(result, outs)
        self.outs = []  # ("val", position) | ("ref" or "gref", ref index) | ("py", value)
        out_vids = []
        grads = {id(r.obj._grad): r.index for r in tracer.refs  # (returned: the object itself)
                 if isinstance(r.obj, Tensor) and r.obj._grad is not None}
        for o in outs:
            if id(o) in grads:
                self.outs.append(("gref", grads[id(o)], None))
            elif isinstance(o, Tensor):
                r = tracer.ref_of.get(id(o))
                vid = tracer.cur.get(id(o))
                if r is not None and (vid is None or tracer.g.producer[vid] >= 0 and
                                      tracer.g.nodes[tracer.g.producer[vid]].op in
                                      ("input", "load", "leaf")):
                    self.outs.append(("ref", r.index, None))
                    continue
                if vid is None:
                    raise Unsupported(f"the function returns {unseen(o)}")
                if tracer.versions.get(id(o), o._version) != o._version:
                    raise Unsupported(f"an output: {UNSEEN_WRITE}")
                if o._rg and not tracer.g.rg[vid]:  # (a view made under no_grad)
                    raise Unsupported("an output: a view made under no_grad of a tensor that "
                                      "requires grad")
                op = tracer.g.nodes[tracer.g.producer[vid]].op
                self.outs.append(("grad" if o._rg else "val", len(out_vids), op == "const"))
                out_vids.append(vid)
            elif isinstance(o, (np.ndarray, np.generic)) or hasattr(o, "__dict__") and \
                    not callable(o):
                raise Unsupported(f"the function returns a {type(o).__name__}")
            else:
                self.outs.append(("py", o, None))
        self.n_out = len(out_vids)
        # no effect but guards: a backward that records may run the function again
        self.pure = not tracer.islands and all(n.out >= 0 or n.op == "guard"
                                               for n in tracer.g.nodes)
        self.vjp = None
        rg_outs = [out_vids[a] for kind, a, _ in self.outs if kind == "grad"]
        if rg_outs:  # differentiable outside: the replay's reverse sweep is their VJP
            self.vjp = VJPProgram(tracer, rg_outs)
            out_vids = out_vids + self.vjp.carry
        prog = Program(tracer, out_vids)
        self.early, self.late = prog.build()
        self.source = prog.source
        self.refs = [(r.obj if r.path[0][0] != "arg" else None, r.path) for r in tracer.refs]
        self.islands = [(obj, path, meth) for obj, path, meth in tracer.islands]
        self.start_guards = [(r.index, none) for r, none in tracer.start_guards]
        self.meta = [(r.index, np.shape(r.obj._data), getattr(r.obj._data, "dtype", _F64),
                      r.obj._rg) for r in tracer.refs
                     if isinstance(r.obj, Tensor) and r.path[0][0] != "arg"]
        self.key_arrays = [(path, arr) for path, arr in tracer.key_arrays if path is not None]
        self.arg_tensors = [r.index for r in tracer.refs
                            if isinstance(r.obj, Tensor) and r.path[0][0] == "arg"]
        used = [path for obj, path in self.refs if obj is not None] + \
            [path for _, path, _ in self.islands if path is not None] + \
            [path for path, _ in tracer.values]
        self._resolve = _resolver(fn, self.refs, self.islands, tracer.values,
                                  tracer.arg_aliases, tracer.hyper_guards,
                                  size_guards(tracer, used))

    def run(self, leaves, call=None):
        try:
            T, S = self._resolve(leaves)
        except (AttributeError, KeyError, IndexError, TypeError, ValueError) as e:
            raise GuardFailed(f"a captured object is gone ({type(e).__name__})") from e
        for i, shape, dtype, rg in self.meta:
            t = T[i]
            d = t._data
            if t._rg != rg or (d.shape != shape or d.dtype != dtype if d.__class__ is not float
                               else shape != () or dtype != _F64):
                raise GuardFailed("a captured tensor changed shape, dtype or requires_grad")
            if t._hooks or t._post_hooks:  # (tensors with hooks are not traced: one added since)
                raise GuardFailed(HOOK_ADDED)
        for i in self.arg_tensors:
            if T[i]._hooks or T[i]._post_hooks:
                raise GuardFailed(HOOK_ADDED)
        for i, none in self.start_guards:
            if (T[i]._grad is None) != none:
                raise GuardFailed("a .grad changed between None and a tensor")
        for path, arr in self.key_arrays:
            cur = walk(self.fn, leaves, path)
            if not np.array_equal(np.asarray(getattr(cur, "_data", cur)), arr):
                raise GuardFailed("an index array changed")
        try:
            carry = self.early(leaves, T)
        except GuardFailed:
            raise
        except Exception as e:  # nothing has changed yet: the eager call decides what happens
            raise _RunEagerly(f"the replay raised {type(e).__name__}") from e
        vals = self.late(leaves, T, S, carry)
        if self.vjp is not None:
            again = (self, call, [(t, t._version) for t in T if isinstance(t, Tensor)]) \
                if self.pure and call is not None else None
            diff = self.vjp.apply(T, vals[:self.n_out], vals[self.n_out:], self.outs, again)
        outs = []
        for kind, a, copy in self.outs:
            if kind == "grad":
                outs.append(diff[a])
            elif kind == "val":
                v = vals[a]
                outs.append(_make(np.array(v) if copy and type(v) is not float else v))
            elif kind == "ref":
                outs.append(T[a])
            elif kind == "gref":
                outs.append(T[a]._grad)
            else:
                outs.append(a)
        return _unflatten(self.spec, outs)


class _RunEagerly(Exception):
    pass


class _Replayed(Function):
    """The outputs of a replay that require grad: one custom Function over the leaves they
    depend on, whose backward is the replay's reverse sweep (NumPy, first order only: a
    backward with ``create_graph=True`` through it raises instead of losing the terms)."""

    @staticmethod
    def forward(ctx, payload, *leaves):
        ctx.payload = payload
        ctx.versions = [t._version for t in leaves]
        ctx.leaves = leaves
        return tuple(_make(v) for v in payload[1])

    @staticmethod
    def backward(ctx, *grads):
        if _gm.is_grad_enabled():
            return (None,) + _recorded_vjp(ctx, grads)
        vjp, values, carry, _ = ctx.payload
        gs = [(g._data if g is not None else 0.0 if type(v) is float else np.zeros_like(v))
              for g, v in zip(grads, values)]
        out = vjp(carry, gs)
        return (None,) + tuple(None if x is None else _make(x) for x in out)


def _recorded_vjp(ctx, grads):
    """A backward that records (``create_graph=True``) through a replay's outputs: the
    function runs again eagerly on the same inputs (it has no effects, so running it twice is
    unobservable) and its gradient is taken with the ops recorded, so any order works."""
    again = ctx.payload[3]
    if again is None:
        raise RuntimeError(SECOND_ORDER_MSG)
    replay, (args, kwargs), inputs = again
    if any(t._version != v for t, v in zip(ctx.leaves, ctx.versions)) or \
            any(t._version != v for t, v in inputs):  # running again would see new values
        raise RuntimeError(MODIFIED_MSG)
    from ..autograd import grad as _grad

    outs = []
    _out_spec(replay.fn(*args, **kwargs), outs)
    picked = [outs[k] for k, (kind, _, _) in enumerate(replay.outs) if kind == "grad"]
    pairs = [(o, g) for o, g in zip(picked, grads) if g is not None]
    if not pairs:
        return tuple(None for _ in ctx.leaves)
    res = _grad([o for o, _ in pairs], list(ctx.leaves), [g for _, g in pairs],
                create_graph=True, allow_unused=True)
    return tuple(res)


class VJPProgram:
    """The reverse sweep from the outputs that require grad to the leaves they depend on."""

    def __init__(self, tracer, out_vids):
        g = tracer.g
        start = len(g.nodes)
        cots = [g.emit("cot", (), False, value=g.val[v] if type(g.val[v]) is float else
                       np.ones_like(g.val[v]), index=j) for j, v in enumerate(out_vids)]
        seeds = {}
        for v, c in zip(out_vids, cots):
            seeds[v] = g.emit("add", (seeds[v], c), False) if v in seeds else c
        adj = backprop(g, seeds, False)
        per_ref = {}
        for vid, gv in adj.items():
            r = tracer.leaf_of.get(vid)
            if r is not None:
                per_ref[r.index] = g.emit("add", (per_ref[r.index], gv), False) \
                    if r.index in per_ref else gv
        self.refs = sorted(per_ref)
        self.out_vids = out_vids
        results = [per_ref[i] for i in self.refs]
        nodes = [n for n in g.nodes[start:]]
        live = set(results)
        keep = []
        for n in reversed(nodes):
            if n.out in live:
                keep.append(n)
                live.update(n.ins)
        keep.reverse()
        defined = {n.out for n in keep}
        self.carry = sorted(v for v in live if v not in defined)
        prog = Program(tracer, [])
        lines = [f"    ({', '.join(f'v{v}' for v in self.carry)},) = C"] if self.carry else []
        for n in keep:
            if n.op == "cot":
                lines.append(f"    v{n.out} = G[{n.params['index']}]")
            else:
                lines.append("    " + prog.line(n, ()))
        res = ", ".join(f"v{v}" for v in results)
        src = "def vjp(C, G):\n" + "\n".join(lines) + f"\n    return ({res}{',' if results else ''})"
        exec(builtins.compile(src, "<tg.compile vjp>", "exec"), prog.ns)  # noqa: S102
        self.fn = prog.ns["vjp"]
        self.source = src

    def apply(self, T, values, carry, outs, again=None):
        """The outputs that require grad, as tensors recorded by one custom Function."""
        vals = [values[a] for kind, a, _ in outs if kind == "grad"]
        res = _Replayed.apply((self.fn, vals, carry, again), *[T[i] for i in self.refs])
        res = res if isinstance(res, tuple) else (res,)
        k = iter(res)
        return {a: next(k) for kind, a, _ in outs if kind == "grad"}


def _resolver(fn, refs, islands, values=(), aliases=(), settings=(), sizes=()):
    """Generated code that finds each tensor the program uses (and each stepped optimizer)
    where it was found when tracing, checking it is the same object, and checks that the
    Python scalars the function can reach (which the replay has baked in) and the lengths of
    the lists and dicts holding what it uses (``reach.size_guards``) are unchanged."""
    func = getattr(fn, "__func__", fn)
    ns = {"_G": GuardFailed, "CL": getattr(func, "__closure__", None),
          "GL": getattr(func, "__globals__", None), "SELF": getattr(fn, "__self__", fn),
          "DF": func}
    lines = ["def resolve(A):"]

    def expr(path):
        s = ""
        for step in path:
            kind = step[0]
            if kind == "cell":
                s = f"CL[{step[1]}].cell_contents"
            elif kind == "glob":
                s = f"GL[{step[1]!r}]"
            elif kind == "dflt":
                s = f"DF.__defaults__[{step[1]}]"
            elif kind == "self":
                s = "SELF"
            elif kind == "arg":
                s = f"A[{step[1]}]"
            elif kind == "item":
                s += f"[{step[1]!r}]"
            elif kind == "fcell":
                s += f".__closure__[{step[1]}].cell_contents"
            elif kind == "fglob":
                s += f".__globals__[{step[1]!r}]"
            elif step[1].isidentifier():
                s += f".{step[1]}"
            else:
                s = f"getattr({s}, {step[1]!r})"
        return s

    names = []
    for i, (obj, path) in enumerate(refs):
        lines.append(f"    t{i} = {expr(path)}")
        if obj is not None:
            ns[f"o{i}"] = obj
            lines.append(f"    if t{i} is not o{i}: raise _G('a captured tensor was replaced')")
        names.append(f"t{i}")
    snames = []
    for j, (obj, path, meth) in enumerate(islands):
        ns[f"p{j}"] = obj
        if isinstance(meth, tuple):  # an assignment the function made (``assign.py``)
            ns[f"v{j}"] = meth[1]
            lines.append(f"    def s{j}(): {expr(path)} = v{j}")
        elif path is None:
            lines.append(f"    s{j} = p{j}.{meth}")
        else:
            lines.append(f"    s{j} = {expr(path)}")
            lines.append(f"    if s{j} is not p{j}: raise _G('an optimizer was replaced')")
            if meth is not None:
                lines.append(f"    s{j} = s{j}.{meth}")
        snames.append(f"s{j}")
    for j, groups in settings:  # an optimizer whose step the program does itself
        lines.append(f"    pg = s{j}.param_groups")
        lines.append(f"    if len(pg) != {len(groups)}: raise _G('an optimizer changed')")
        for gi, (want, params) in enumerate(groups):
            for k, v in want.items():
                if k != "params" and isinstance(v, (int, float, bool, str, type(None))):
                    ns[f"h{j}_{gi}_{k}"] = v
                    lines.append(f"    if pg[{gi}][{k!r}] != h{j}_{gi}_{k}: "
                                 f"raise _G({SETTING_CHANGED!r})")
            ns[f"hp{j}_{gi}"] = params
            lines.append(f"    ps = pg[{gi}]['params']")
            lines.append(f"    if len(ps) != {len(params)} or "
                         + " or ".join(f"ps[{i}] is not hp{j}_{gi}[{i}]"
                                       for i in range(len(params)))
                         + ": raise _G('the parameters of an optimizer changed')" if params else
                         "    if ps: raise _G('an optimizer changed')")
    for path, i in aliases:
        lines.append(f"    if {expr(path)} is not A[{i}]: raise _G('an argument is no longer "
                     "the tensor the function captures')")
    for path, n in sizes:
        why = f"a list or dict the function reads changed its length: {describe(fn, path)}"
        lines.append(f"    if len({expr(path)}) != {n}: raise _G({why!r})")
    for k, (path, value) in enumerate(values):
        ns[f"c{k}"] = value
        lines.append(f"    if {expr(path)} != c{k}: raise _G('a Python value the function "
                     "reads changed')")
    lines.append(f"    return [{', '.join(names)}], [{', '.join(snames)}]")
    exec(builtins.compile("\n".join(lines), "<tg.compile guards>", "exec"), ns)  # noqa: S102
    return ns["resolve"]


class CompiledFunction:
    """``fn`` with its replay programs (see ``compile``)."""

    _tg_compiled = True  # the tracer's reachability walk does not look inside

    def __init__(self, fn, fullgraph=False):
        self.fn = fn
        self.fullgraph = fullgraph
        self._cache = {}
        self._count = 0
        self._lock = threading.RLock()
        self._warned = set()
        self._plain_sgd = True  # plain SGD steps as nodes (False once its settings changed)
        self.__wrapped__ = fn
        self.__name__ = getattr(fn, "__name__", "compiled")
        self.__doc__ = getattr(fn, "__doc__", None)

    def __reduce__(self):
        # the function (or module) and its options travel; the programs are traced again
        # where it is called (a Dask worker), as PyTorch's compiled modules recompile there.
        # Decorated at module level, the name refers to this object: pickled by that name
        # (unless in __main__, which Dask sends by value)
        owner = getattr(self.fn, "__self__", None)
        if isinstance(self.fn, types.MethodType) and owner is not None:
            at = getattr(type(owner), self.fn.__name__, None)
            if isinstance(at, CompiledFunction) and at.fn is self.fn.__func__:
                # one instance's copy of a compiled method (``__get__``): the copy asks the
                # copied instance for it, so its fn is the method, not a compiled function
                # wrapping another (which would run eagerly)
                return getattr, (owner, self.fn.__name__)
        mod, name = getattr(self.fn, "__module__", None), getattr(self.fn, "__qualname__", "")
        if mod not in (None, "__main__") and "<" not in name:
            found = sys.modules.get(mod)
            for part in name.split("."):
                found = getattr(found, part, None)
            if found is self:
                return _by_name, (mod, name)
        return CompiledFunction, (self.fn, self.fullgraph)

    def __get__(self, obj, objtype=None):
        """A compiled method: one compiled function per instance, kept on the instance (its
        programs live and die with it)."""
        if obj is None:
            return self
        slot = f"_tg_compiled_{id(self)}"
        store = getattr(obj, "__dict__", None)
        if store is None:
            raise TypeError("tg.compile on a method needs instances with a __dict__")
        hit = store.get(slot)
        if hit is None:
            hit = store[slot] = CompiledFunction(self.fn.__get__(obj, objtype), self.fullgraph)
        return hit

    def __call__(self, *args, **kwargs):
        if _trace.active() is not None:  # inside another function's trace: it observes us
            return self.fn(*args, **kwargs)
        if _gm._state.grad_enabled is _gm.FORWARD_ONLY:
            # (no_grad inside forward mode: the tangents need the eager ops' records, and a
            # program traced under plain no_grad, under the same key, would record none)
            return self.fn(*args, **kwargs)
        leaves, key = [], [_gm.is_grad_enabled(), _gm.is_inference_mode_enabled()]
        _flatten(args, leaves, key)
        if kwargs:
            _flatten(kwargs, leaves, key)
        key = tuple(key)
        entries = self._cache.get(key)
        reason = None
        if entries is not None:
            if entries is _Eager:
                return self.fn(*args, **kwargs)
            for prog in entries:
                try:
                    return prog.run(leaves, (args, kwargs))
                except GuardFailed as e:
                    reason = str(e)
                    if reason == SETTING_CHANGED:  # a scheduled rate: SGD's own step reads it
                        self._plain_sgd = False
                except _RunEagerly:
                    return self.fn(*args, **kwargs)
        return self._trace(key, args, kwargs, leaves, reason)

    def _give_up(self, key, reason, result=None):
        if self.fullgraph:
            raise RuntimeError(f"tg.compile(fullgraph=True): {reason}")
        if reason not in self._warned:
            self._warned.add(reason)
            warnings.warn(f"tg.compile: {self.__name__} runs eagerly: {reason}", RuntimeWarning,
                          stacklevel=4)

    def _trace(self, key, args, kwargs, leaves, reason):
        if reason is not None and self.fullgraph:
            raise RuntimeError(f"tg.compile(fullgraph=True): a guard failed: {reason}")
        with self._lock:
            if self._count >= MAX_PROGRAMS:
                self._cache[key] = _Eager  # (not every program's guards tried on every call)
                self._give_up(key, f"more than {MAX_PROGRAMS} traces (last: {reason}){RETRACE}")
                return self.fn(*args, **kwargs)
            try:
                if any(isinstance(t, Tensor) and t.dtype.kind == "c" for t in leaves):
                    # the replay's rules are real: complex values keep their eager records
                    raise Unsupported("complex tensors are not supported by tg.compile yet")
                tracer = _trace.Tracer(self.fn, leaves)
                tracer.plain_sgd = self._plain_sgd
            except Unsupported as e:
                self._cache[key] = _Eager
                self._give_up(key, str(e))
                return self.fn(*args, **kwargs)
            result = _trace.run_traced(tracer, self.fn, args, kwargs)
            if tracer.reject is None:
                tracer.audit("at the end of the function")
                settle_guards(tracer, result)
            why = tracer.reject
            if why is None:
                try:
                    prog = Replay(self.fn, tracer, result)
                except Unsupported as e:
                    why = str(e)
            if why is not None:
                if self._cache.get(key) is None:
                    self._cache[key] = _Eager
                self._give_up(key, why)
                return result
            entries = self._cache.get(key)
            self._cache[key] = ([] if entries is None or entries is _Eager else entries) + [prog]
            self._count += 1
            return result


def _by_name(module, qualname):
    import importlib

    found = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def compile(fn=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
            options=None, disable=False):
    """Compile ``fn`` into a guarded replay of its tensor work (usable as ``@tg.compile``).

    ``step = tg.compile(fn)``; ``step(*args)`` has the results and tensor side effects of
    ``fn(*args)``: the first call with a new signature (tensor shapes, dtypes and
    ``requires_grad``, other arguments' values, grad mode) runs ``fn`` eagerly and records it;
    later calls replay the recording (forward, the gradients of ``backward()`` and
    ``tg.autograd.grad`` in it, in-place updates, optimizer steps) after checking that every
    value-dependent decision and captured tensor is as recorded, re-recording otherwise.
    What cannot be replayed runs eagerly with one warning; ``fullgraph=True`` raises instead.
    A module compiles into a module (PyTorch's ``OptimizedModule``, its attributes the
    module's); ``disable=True`` returns ``fn`` itself; ``dynamic``, ``backend``, ``mode`` and
    ``options`` are checked as PyTorch checks them and change nothing.

    Example:
        >>> import tapegrad as tg
        >>> w = tg.tensor([1.0, 2.0], requires_grad=True)
        >>> @tg.compile
        ... def step(x):
        ...     w.grad = None
        ...     (tg.sin(w * x).sum()).backward()
        ...     with tg.no_grad():
        ...         w.sub_(0.1 * w.grad)
        >>> step(tg.tensor([0.5, 0.25])); step(tg.tensor([0.5, 0.25]))
        >>> [round(v, 4) for v in w.tolist()]
        [0.9117, 1.9561]
    """
    if fn is None:  # (the arguments are checked when the decorator is applied, as PyTorch)
        return lambda f: compile(f, fullgraph=fullgraph, mode=mode, options=options,
                                 disable=disable)
    check_arguments(fn, mode, options)
    if disable:
        return fn
    if isinstance(fn, Module):
        return OptimizedModule(fn, CompiledFunction(fn, fullgraph))
    return CompiledFunction(fn, fullgraph)


class _CallableModule(types.ModuleType):
    """``tg.compile`` is this package; calling it calls ``compile`` (as ``torch.compile``)."""

    def __call__(self, fn=None, **kwargs):
        return compile(fn, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
