"""The replay program as generated Python: straight-line NumPy (``math`` for Python floats).

Two functions per trace. ``early(A, T)`` computes every value that does not depend on an
optimizer step and checks every guard; it changes nothing, so a guard that fails (or an
exception) there leaves the world as it was and the call can run eagerly instead. ``late``
then performs the effects in program order (writes into tensors, ``.grad`` updates, optimizer
and scheduler steps) and computes what depends on them. ``A`` holds the flattened arguments,
``T`` the tensors the program reads or writes (arguments and captured tensors).

Generated code rather than an interpreter: one line per node costs ~30-60 ns of Python for a
scalar and a NumPy call for an array, where a loop dispatching on opcodes costs ~10x that per
node; ``compile()`` of the source takes ~10 µs per line, once per trace.
"""

import math

import numpy as np

from ..ops.movement import sum_values
from ..tensor import _make, bump_version
from ..vecmath import wide_sums as _wide
from . import chunking, ir, loops, rewrites, scalar_kernel
from .ir import Unsupported


class GuardFailed(Exception):
    """A recorded decision or a captured tensor is not what it was when traced."""


def _write(t, v):
    d = t._data
    if type(d) is float:
        t._data = float(v)
    else:
        np.copyto(d, v, casting="unsafe")
    bump_version(t)


def _setgrad(t, v):
    old = t._grad
    if v is None:
        t._grad = None
    elif old is None:
        t._grad = _make(v if type(v) is float else np.array(v))
    elif type(old._data) is float:
        old._data = float(v)
    else:
        np.copyto(old._data, v, casting="unsafe")
        bump_version(old)


def _copy(v):
    return v if type(v) is float else np.array(v)


_INLINE_BINARY = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
_INLINE_CONST = {"addc": "{a} + {c}", "mulc": "{a} * {c}", "rsubc": "{c} - {a}",
                 "divc": "{a} / {c}"}
# ops computed by a NumPy ufunc that can write into a buffer (``out=``)
_UFUNC_OPS = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "true_divide",
              "addc": "add", "mulc": "multiply", "divc": "true_divide", "rsubc": "subtract",
              "rdivc": "true_divide", "neg": "negative", "tanh": "tanh", "tan": "tan",
              "sqrt": "sqrt", "abs": "absolute", "log1p": "log1p", "expm1": "expm1"}
# other ops whose array result is always newly allocated (a buffer for a later ``out=``)
_FRESH = frozenset(("exp", "log", "sin", "cos", "sigmoid", "relu", "sign", "posmask", "matmul",
                    "where", "cat", "index_scatter", "mask_scatter"))

# binary ops whose broadcast operand may be copied first (``Program.broadcast_line``)
_BROADCAST_OPS = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "true_divide"}
_BROADCAST_MIN = 1 << 14  # result elements below which NumPy's own loop is kept
_SHORT_RUN = 64


def _inner_run(v, shape):
    """Elements NumPy's loop can take in one inner call for ``v`` broadcast to ``shape``: the
    trailing axes over which it is contiguous (a broadcast inner axis: 1)."""
    strides = np.broadcast_to(v, shape).strides
    run, step = 1, v.itemsize
    for n, st in zip(reversed(shape), reversed(strides)):
        if n == 1:
            continue
        if st != step:
            break
        run *= n
        step *= n
    return run


def _fresh(node):
    """Whether the node's array result is always newly allocated (a buffer for ``out=``):
    ufuncs, the ops above, and an einsum computed by its matmul plan (``np.einsum`` itself
    may return a view of an operand)."""
    return node.op in _UFUNC_OPS or node.op in _FRESH or \
        node.op == "einsum" and node.params.get("matmul") is not None


VIEWS = frozenset(("input", "load", "gload", "leaf", "detach", "reshape", "permute",
                   "broadcast_to", "getitem", "const"))


class Program:
    """Source and namespace of the two functions, built from a finished trace."""

    def __init__(self, tracer, out_vids):
        self.tr, self.g = tracer, tracer.g
        self.ns = {"np": np, "math": math, "_G": GuardFailed, "_write": _write,
                   "_setgrad": _setgrad, "_sum": np.sum, "_sum_to": ir._sum_to,
                   "_norm": ir.norm, "_float": float, "_I": ir.IMPL, "_make": _make,
                   "_copy": _copy, "_reduce": sum_values, "_einsum": _wide.dot_reduce,
                   "_bump": bump_version}
        self.nconst = 0
        self.out_vids = out_vids

    def const(self, value):
        if type(value) in (int, float) and math.isfinite(value):
            return repr(value)
        name = f"_k{self.nconst}"
        self.nconst += 1
        self.ns[name] = value
        return name

    def expr(self, node):
        g, op, p = self.g, node.op, node.params
        ins = [f"v{i}" for i in node.ins]
        out_float = node.out >= 0 and type(g.meta(node.out)) is float
        all_float = all(type(g.meta(i)) is float for i in node.ins)
        scalar = out_float and all_float
        if op in ("input", "load", "gload"):
            if p.get("ref") is None:
                return f"A[{p['index']}]"
            src = f"T{p['ref']}._grad._data" if op == "gload" else f"T{p['ref']}._data"
            # a 0-d float64 value is a float, or a 0-d array once something viewed it
            return f"_float({src})" if out_float else src
        if op in ("leaf", "detach"):
            return ins[0]
        if op == "const":
            return self.const(p["value"])
        if op in _INLINE_BINARY:
            return f"{ins[0]} {_INLINE_BINARY[op]} {ins[1]}"
        if op in _INLINE_CONST:
            return _INLINE_CONST[op].format(a=ins[0], c=self.const(p["c"]))
        if op in ir.UNARY:
            np_f, py_f = ir.UNARY[op]
            name = f"_{'s' if scalar else 'a'}_{op}"
            self.ns[name] = py_f if scalar else np_f
            return f"{name}({ins[0]})"
        wrap = "_float({})" if out_float and not all_float else "{}"
        if op == "matmul" and not p.get("vectors"):  # (two vectors: ir's, as eager's)
            return f"{ins[0]} @ {ins[1]}"
        if op == "sum":
            x = g.meta(node.ins[0])
            if type(x) is np.ndarray:  # (eager sum's values: float16 in float32, float32
                axes = ir.sorted_axes(p["axis"], x.ndim)  # over many rows in float64)
                return wrap.format(f"_reduce({ins[0]}, {axes!r}, {p['keepdims']!r})")
            return wrap.format(f"_sum({ins[0]}, {p['axis']!r}, None, None, {p['keepdims']!r})")
        if op == "reshape":
            return wrap.format(f"np.reshape({ins[0]}, {p['shape']!r})")
        if op == "permute":
            if type(g.meta(node.ins[0])) is float:
                return ins[0]
            if p["axes"] == (1, 0):
                return f"{ins[0]}.T"
            return f"{ins[0]}.transpose({p['axes']!r})"
        if op == "broadcast_to":
            return f"np.broadcast_to({ins[0]}, {p['shape']!r})"
        if op == "sum_to":
            xs, shape = ir.shape_of(g.meta(node.ins[0])), p["shape"]
            lead = len(xs) - len(shape)
            kept = tuple(i + lead for i, n in enumerate(shape) if n == 1 and xs[i + lead] != 1)
            if not kept:  # only leading axes: one reduction, no reshape
                axes = tuple(range(lead))
                return wrap.format(f"_reduce({ins[0]}, {axes!r}, False)")
            return wrap.format(f"_sum_to({ins[0]}, {shape!r})")
        if op == "getitem":
            return wrap.format(f"{ins[0]}[{self.const(p['key'])}]")
        if op == "powc" and not scalar:
            return f"np.power({ins[0]}, {self.const(p['c'])})"
        # everything else: the trace-time implementation with its parameters
        pname = self.const(p)
        return f"_norm(_I[{op!r}]({pname}, {', '.join(ins)}))" if ins else \
            f"_norm(_I[{op!r}]({pname}))"

    def effect(self, node):
        p, ins = node.params, [f"v{i}" for i in node.ins]
        if node.op == "guard":
            exp = p["expected"]
            if p.get("kind") == "__bool__":
                return f"if bool({ins[0]}) is not {exp!r}: raise _G({p['why']!r})"
            return f"if {ins[0]} != {self.const(exp)}: raise _G({p['why']!r})"
        if node.op == "write":
            return f"_write(T{p['ref']}, {ins[0]})"
        if node.op == "setgrad":
            if not ins:
                return f"T{p['ref']}._grad = None"
            if p.get("fresh"):  # .grad was None: a new tensor, as eager makes one
                own = p.get("owned")
                return f"T{p['ref']}._grad = _make({ins[0] if own else f'_copy({ins[0]})'})"
            return f"_setgrad(T{p['ref']}, {ins[0]})"
        if node.op == "island":
            return f"S[{p['index']}]()"
        if node.op == "fwrite" and "scale" in p:  # p - g * c into p: one loop
            self.ns["_sub_scaled"] = loops.sub_scaled()
            dst = f"T{p['ref']}"
            return (f"_sub_scaled[{p['ndim']}]({dst}._data, {ins[0]}, "
                    f"{self.const(p['scale'])}); _bump({dst})")
        if node.op == "fwrite":  # see fuse_writes
            src, dst = p["node"], f"T{p['ref']}"
            args = ins
            if src.op in _INLINE_CONST:
                c = self.const(src.params["c"])
                args = [c, ins[0]] if src.op in ("rsubc", "rdivc") else [ins[0], c]
            return f"np.{_UFUNC_OPS[src.op]}({', '.join(args)}, out={dst}._data); _bump({dst})"
        raise Unsupported(f"effect {node.op}")

    def live_nodes(self):
        """Nodes whose values reach an effect, a guard or an output (the rest is dead), with
        nodes over constants only folded into constants."""
        # repeated computations merged first (the graph shares a node only between values that
        # agree on requires_grad; the replay computes values only), outputs renamed with them
        nodes = rewrites.merge_repeats(self, self.g.nodes)
        live = set(self.out_vids)
        keep = []
        for node in reversed(nodes):
            if node.out < 0 or node.out in live:
                keep.append(node)
                live.update(node.ins)
        keep.reverse()
        consts = set()
        for node in keep:
            if node.out >= 0 and node.op not in ("input", "load", "gload", "leaf") and \
                    all(i in consts for i in node.ins) and node.op in ir.IMPL:
                consts.add(node.out)
        return keep, consts

    def build(self):
        tr = self.tr
        late = set(tr.late)
        early, late_nodes = [], []
        nodes, consts = self.live_nodes()
        merged = nodes
        nodes = rewrites.double_small_factor(self, rewrites.negate_after_sums(self, nodes,
                                                                                consts), consts)
        nodes = rewrites.sums_before_linear_ops(self, nodes, consts)
        nodes = rewrites.diagonal_into_contraction(self, nodes, consts)
        nodes = rewrites.diagonal_of_a_contraction(self, nodes, consts)
        if nodes is not merged:  # the rewrites may derive a value twice
            nodes = rewrites.merge_repeats(self, nodes)
        for node in nodes:
            if node.out < 0:
                if node.op == "guard":
                    if node.ins[0] in late:
                        raise Unsupported("a value-dependent decision after an optimizer step")
                    early.append(node)
                else:
                    late_nodes.append(node)
            elif node.out not in consts and (node.out in late or
                                             any(i in late for i in node.ins)):
                late.add(node.out)
                late_nodes.append(node)
            else:
                early.append(node)
        self.own_grads(nodes)
        early, late_nodes = self.fuse_writes(early, late_nodes, nodes, consts)
        late_used = {i for n in late_nodes for i in n.ins}
        needed = sorted(v for v in late_used.union(self.out_vids) if v not in late)
        early_lines = chunking.lines(self, early, consts, late_used.union(self.out_vids))
        late_lines = chunking.lines(self, late_nodes, consts, set(self.out_vids))
        carry = ", ".join(f"v{v}" for v in needed)
        outs = ", ".join(f"v{v}" for v in self.out_vids)
        src = ["def early(A, T):"]
        src += [f"    T{r.index} = T[{r.index}]" for r in tr.refs]
        src += ["    " + ln for ln in early_lines]
        src.append(f"    return ({carry}{',' if needed else ''})")
        src.append("def late(A, T, S, C):")
        src += [f"    T{r.index} = T[{r.index}]" for r in tr.refs]
        if needed:
            src.append(f"    ({carry},) = C")
        src += ["    " + ln for ln in late_lines]
        src.append(f"    return ({outs}{',' if self.out_vids else ''})")
        self.source = "\n".join(src)
        code = compile(self.source, "<tg.compile replay>", "exec")
        exec(code, self.ns)  # noqa: S102  (our generated source, see above)
        return self.ns["early"], self.ns["late"]

    def fuse_writes(self, early, late_nodes, nodes, consts):
        """A write of an elementwise result that nothing else uses (``p - lr * g`` written
        into ``p``) computes it straight into the tensor (``out=``) where the write happens,
        instead of into a new array that is then copied. Only when what it reads cannot have
        changed by then: its tensor inputs are not written earlier, nothing runs user code
        (an optimizer's own step) before it, and the tensors' memory does not overlap."""
        producer = {n.out: n for n in early if n.out >= 0}
        count = {}
        for n in nodes:
            for i in n.ins:
                count[i] = count.get(i, 0) + 1
        effect_ins = {i for n in nodes if n.out < 0 for i in n.ins}
        written, moved, new_late = set(), set(), []
        clean = True  # only new .grad tensors and writes into parameters so far (see below)
        for w in late_nodes:
            fused = None
            if w.op == "island":
                written.add(None)  # user code: nothing after it is moved
            elif w.op == "write" and None not in written:
                fused = self._fusable_write(w, producer.get(w.ins[0]), count, effect_ins,
                                            written, consts)
            if w.op == "write":
                written.add(w.params["ref"])
            scaled = self._scaled_update(w, fused, producer, count, consts) if clean else None
            if not (w.op == "setgrad" and (not w.ins or w.params.get("fresh")) or
                    fused is not None and self.tr.refs[w.params["ref"]].obj._rg):
                clean = False
            if fused is None:
                new_late.append(w)
                continue
            moved.add(fused.out)
            if scaled is not None:
                moved.add(scaled.out)
                new_late.append(ir.Node("fwrite", scaled.ins, {
                    "ref": w.params["ref"], "node": fused, "scale": scaled.params["c"],
                    "ndim": self.g.meta(scaled.out).ndim}, -1))
                continue
            new_late.append(ir.Node("fwrite", fused.ins, {"ref": w.params["ref"],
                                                          "node": fused}, -1))
        if moved:
            early = [n for n in early if n.out not in moved]
        return early, new_late

    def _scaled_update(self, w, src, producer, count, consts):
        """The ``d = g * c`` of a fused write ``p - d`` into ``p`` itself (a plain SGD step),
        when the write can be one compiled loop (``loops``): float64 arrays of one
        shape and rank 1 or 2, ``d`` read by nothing else, ``g`` an array this program
        allocated. ``g`` is then read where the write happens, so the caller moves it only
        while the effects before it cannot have changed ``g`` (new ``.grad`` tensors and
        writes into parameters only)."""
        g = self.g
        if src is None or src.op != "sub":
            return None
        p, d = src.ins
        pn = g.nodes[g.producer[p]] if g.producer[p] >= 0 else None
        m = producer.get(d)
        if pn is None or pn.op != "load" or pn.params.get("ref") != w.params["ref"] or \
                m is None or m.op != "mulc" or count.get(d) != 1 or d in self.out_vids or \
                d in consts or type(m.params["c"]) is not float:
            return None
        gv = m.ins[0]
        x, target = g.val[gv], self.tr.refs[w.params["ref"]].obj._data
        made = producer.get(gv)
        fresh = made is not None and (_fresh(made) or
                                      made.op in ("sum", "sum_to") and self.reduces(made))
        if not fresh or \
                type(x) is not np.ndarray or type(target) is not np.ndarray or \
                x.dtype != np.float64 or target.dtype != np.float64 or \
                x.shape != target.shape or x.ndim not in (1, 2):
            return None
        return m

    def _fusable_write(self, w, src, count, effect_ins, written, consts):
        g, refs = self.g, self.tr.refs
        v = w.ins[0]
        if src is None or src.op not in _UFUNC_OPS or count.get(v) != 1 or \
                v in self.out_vids or v in consts:
            return None
        target = refs[w.params["ref"]].obj._data
        val = g.val[v]
        if type(target) is not np.ndarray or type(val) is not np.ndarray or \
                target.shape != val.shape or target.dtype != val.dtype or \
                not target.flags.writeable:
            return None
        for i in src.ins:
            x = g.val[i]
            if type(x) is float:
                continue
            node = g.nodes[g.producer[i]] if g.producer[i] >= 0 else None
            if node is None or type(x) is not np.ndarray:
                return None
            if node.op in ("input", "load"):
                r = node.params.get("ref")
                if r is None or r in written:
                    return None
                data = refs[r].obj._data
                if r != w.params["ref"] and type(data) is np.ndarray and \
                        np.may_share_memory(data, target):
                    return None
            elif not _fresh(node) or i in effect_ins:
                return None  # a view of a tensor, or an array an effect hands out
        return src

    def own_grads(self, nodes):
        """A new .grad may take its value's array without a copy when nothing else holds it:
        made by a node that allocates (not a view, constant or input) and used by no other
        effect or output."""
        producer = {n.out: n for n in nodes if n.out >= 0}
        effect_uses = {}
        for n in nodes:
            if n.out < 0:
                for i in n.ins:
                    effect_uses[i] = effect_uses.get(i, 0) + 1
        for n in nodes:
            if n.op == "setgrad" and n.ins and n.params.get("fresh"):
                v = n.ins[0]
                src = producer.get(v)
                n.params = dict(n.params, owned=src is not None and src.op not in VIEWS and
                                src.op not in ("copy", "leaf", "astype") and
                                not (src.op in ("sum_to", "sum") and not self.reduces(src)) and
                                effect_uses.get(v) == 1 and v not in self.out_vids and
                                type(self.g.meta(v)) is not float)

    def reduces(self, node):
        """Whether a sum makes a new array (it reduces some axis of an array; ``sum_to`` to the
        input's own shape returns the input)."""
        x, r = self.g.meta(node.ins[0]), self.g.meta(node.out)
        return type(x) is np.ndarray and type(r) is np.ndarray and x.shape != r.shape

    def lines(self, nodes, consts, used_after):
        """Source lines of ``nodes``; long runs of scalar nodes become one call of the
        compiled interpreter (``scalar_kernel``)."""
        g = self.g
        users = {}
        for k, node in enumerate(nodes):
            for i in node.ins:
                users[i] = k
        out, run = [], []

        def scalar(node):
            if node.out < 0 or type(g.meta(node.out)) is not float:
                return False
            if node.out in consts:
                return True
            return all(type(g.meta(i)) is float for i in node.ins) and \
                scalar_kernel.supports(node.op, node.params)

        def flush(end):
            if len(run) >= scalar_kernel.MIN_RUN:
                out.extend(self.block([nodes[k] for k in run], consts, end, users, used_after))
            else:
                out.extend(self.line(nodes[k], consts) for k in run)
            run.clear()

        pinned = set(used_after) | set(consts)
        for node in nodes:
            if node.out < 0 or node.op in VIEWS or node.op in ("leaf", "detach", "sum_to"):
                pinned.update(node.ins)  # held by an effect, or viewed: never overwritten
        fused = self.fuse_sum_of_products(nodes, users, used_after)
        tanh_bw = self.fuse_tanh_backward(nodes, fused, used_after)
        owned = set()
        for k, node in enumerate(nodes):
            if k in tanh_bw:
                if tanh_bw[k] is not None:
                    out.append(self.tanh_backward_line(node, tanh_bw[k], k, users, owned,
                                                       pinned))
                    owned.add(node.out)
                continue
            if k in fused:
                if fused[k] is not None:
                    out.append(fused[k])
                continue
            if scalar(node):
                run.append(k)
                continue
            if run:
                flush(k)
            line = self.inplace_line(node, k, users, owned, pinned) or \
                self.broadcast_line(node)
            out.append(line or self.line(node, consts))
            if _fresh(node) and type(g.meta(node.out)) is np.ndarray:
                owned.add(node.out)
        if run:
            flush(len(nodes))
        return out

    def fuse_sum_of_products(self, nodes, users, used_after):
        """``sum(a * b)`` over some axes, where the product is used by nothing else, as one
        ``np.einsum`` ("nki,nki->nk"): no product array is made, one pass over the operands.
        Returns {node index: line, or None for a product that is no longer computed}; the
        operands' last use moves to the sum (no later ``out=`` may overwrite them before)."""
        g = self.g
        where = {n.out: k for k, n in enumerate(nodes) if n.out >= 0}
        count = {}
        for n in nodes:
            for i in n.ins:
                count[i] = count.get(i, 0) + 1
        fused = {}
        for k, node in enumerate(nodes):
            if node.op not in ("sum", "sum_to") or node.params.get("keepdims"):
                continue
            j = where.get(node.ins[0])
            if j is None or j in fused:
                continue
            prod = nodes[j]
            if prod.op != "mul" or count.get(prod.out) != 1 or prod.out in used_after:
                continue
            a, b = (g.val[i] for i in prod.ins)
            x, r = g.val[prod.out], g.val[node.out]
            if not all(type(v) is np.ndarray and v.shape == x.shape and v.dtype == x.dtype
                       for v in (a, b)) or x.dtype.kind != "f" or not 0 < x.ndim <= 20 \
                    or x.dtype.itemsize == 2:  # (float16: einsum adds in float16; eager
                continue  # rounds each product to float16, then sums in float32)
            if node.op == "sum":
                axis = node.params["axis"]
                axes = range(x.ndim) if axis is None else \
                    (axis,) if type(axis) is int else axis
                summed = {ax % x.ndim for ax in axes}
            else:
                lead = x.ndim - len(node.params["shape"])
                summed = set(range(lead)) | {i + lead for i, n in
                                             enumerate(node.params["shape"])
                                             if n == 1 and x.shape[i + lead] != 1}
            letters = "abcdefghijklmnopqrst"[:x.ndim]
            spec = f"{letters},{letters}->" + "".join(
                c for i, c in enumerate(letters) if i not in summed)
            call = f"_einsum({spec!r}, v{prod.ins[0]}, v{prod.ins[1]}, " \
                f"{tuple(sorted(summed))!r})"  # (eager's float32 dot sums over many rows)
            if type(r) is float:
                call = f"_float({call})"
            elif r.shape != tuple(x.shape[i] for i in range(x.ndim) if i not in summed):
                call = f"np.reshape({call}, {r.shape!r})"
            fused[j] = None
            fused[k] = f"v{node.out} = {call}"
            for i in prod.ins:
                users[i] = max(users.get(i, k), k)
        return fused

    def fuse_tanh_backward(self, nodes, fused, used_after):
        """``g * (1 - y * y)`` as three consecutive nodes (the gradient through ``tanh``),
        the square and the difference read by nothing else, float64 arrays of one shape and
        rank 1 or 2: one compiled loop (``loops.tanh_backward``) instead of three NumPy calls.
        Returns {index of the product: (g, y), indices of the other two: None}."""
        g = self.g
        count = {}
        for n in nodes:
            for i in n.ins:
                count[i] = count.get(i, 0) + 1
        out = {}
        for k in range(2, len(nodes)):
            sq, diff, prod = nodes[k - 2], nodes[k - 1], nodes[k]
            if sq.op != "mul" or sq.ins[0] != sq.ins[1] or diff.op != "rsubc" or \
                    diff.ins != (sq.out,) or diff.params.get("c") != 1.0 or prod.op != "mul" or \
                    diff.out not in prod.ins or prod.ins[0] == prod.ins[1] or \
                    any(j in fused or j in out for j in (k - 2, k - 1, k)):
                continue
            if count.get(sq.out) != 1 or count.get(diff.out) != 1 or \
                    sq.out in used_after or diff.out in used_after:
                continue
            grad = prod.ins[1] if prod.ins[0] == diff.out else prod.ins[0]
            vals = [g.val[v] for v in (grad, sq.ins[0], prod.out)]
            if all(type(v) is np.ndarray and v.dtype == np.float64 and v.ndim in (1, 2) and
                   v.shape == vals[2].shape for v in vals):
                out[k - 2] = out[k - 1] = None
                out[k] = (grad, sq.ins[0])
        return out

    def tanh_backward_line(self, node, operands, k, users, owned, pinned):
        """The loop's call, writing into ``g`` when it dies here (as ``inplace_line``)."""
        self.ns["_tanh_bw"] = loops.tanh_backward()
        grad, y = operands
        ndim = self.g.meta(node.out).ndim
        if grad in owned and grad not in pinned and users.get(grad) == k:
            dst = f"v{grad}"
        else:
            self.ns["_empty_like"] = np.empty_like
            dst = f"_empty_like(v{grad})"
        return f"v{node.out} = {dst}; _tanh_bw[{ndim}](v{grad}, v{y}, v{node.out})"

    def inplace_line(self, node, k, users, owned, pinned):
        """``np.<ufunc>(..., out=buffer)`` when an input array this program allocated dies
        here and has the result's shape and dtype: no allocation (page faults for big arrays)
        and the memory stays in cache."""
        f = _UFUNC_OPS.get(node.op)
        if f is None:
            return None
        res = self.g.meta(node.out)
        if type(res) is not np.ndarray:
            return None
        for i in node.ins:
            v = self.g.meta(i)
            if i in owned and i not in pinned and users.get(i) == k and \
                    type(v) is np.ndarray and v.shape == res.shape and v.dtype == res.dtype:
                args = [f"v{j}" for j in node.ins]
                if node.op in _INLINE_CONST:
                    c = self.const(node.params["c"])
                    args = [c, args[0]] if node.op in ("rsubc", "rdivc") else [args[0], c]
                return f"v{node.out} = np.{f}({', '.join(args)}, out=v{i})"
        return None

    def broadcast_line(self, node):
        """``a - b`` where ``a`` is broadcast so that NumPy's loop runs over a short inner axis
        (GMM's ``x[:, None, :] - mu``: 10 elements a call) and ``b`` is not: ``a`` copied into
        the result first (NumPy's copy is fast over short runs), then the operation in place,
        over runs as long as ``b``'s: ~2x faster for runs below 64 elements."""
        f = _BROADCAST_OPS.get(node.op)
        res = self.g.meta(node.out)
        if f is None or type(res) is not np.ndarray or res.size < _BROADCAST_MIN or \
                res.ndim < 2:
            return None
        vals = [self.g.meta(i) for i in node.ins]
        if any(type(v) is not np.ndarray or v.dtype != res.dtype for v in vals):
            return None
        runs = [_inner_run(v, res.shape) for v in vals]
        bad = 0 if runs[0] < runs[1] else 1
        if runs[bad] >= _SHORT_RUN or runs[1 - bad] < 4 * runs[bad]:
            return None
        self.ns["_empty"] = np.empty
        self.ns["_copyto"] = np.copyto
        v = f"v{node.out}"
        args = [v if k == bad else f"v{i}" for k, i in enumerate(node.ins)]
        return (f"{v} = _empty({res.shape!r}, {self.const(res.dtype)}); "
                f"_copyto({v}, v{node.ins[bad]}); np.{f}({', '.join(args)}, out={v})")

    def line(self, node, consts):
        if node.out < 0:
            return self.effect(node)
        if node.out in consts:
            return f"v{node.out} = {self.const(self.g.val[node.out])}"
        return f"v{node.out} = {self.expr(node)}"

    def block(self, run, consts, end, users, used_after):
        """One interpreter call for ``run``: live-in values into registers, live-out back."""
        g = self.g
        folded = [n if n.out not in consts else ir.Node("const", (), {}, n.out) for n in run]
        blk = scalar_kernel.Block(folded, g)
        defined = {n.out for n in run}
        ins = sorted({i for n in run for i in n.ins if i not in defined})
        outs = [v for v in sorted(defined) if users.get(v, -1) >= end or v in used_after]
        name = f"_b{self.nconst}"
        self.nconst += 1
        self.ns[name] = (blk.op, blk.a, blk.b, blk.c, blk.out)
        self.ns["_kern"] = scalar_kernel.run()
        self.ns["_empty"] = np.empty
        lines = [f"_R = _empty({len(blk.regs)})"]
        lines += [f"_R[{blk.regs[i]}] = v{i}" for i in ins]
        lines.append(f"_kern(*{name}, _R)")
        lines += [f"v{v} = _float(_R[{blk.regs[v]}])" for v in outs]
        return lines
