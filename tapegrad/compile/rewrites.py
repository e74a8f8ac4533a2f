"""Exact rewrites of a replay program's nodes that save a pass over a large array.

Each takes the ``codegen.Program`` (its graph, outputs) and the live nodes in order, and
returns the nodes to generate code for; new values get trace-time values like any other.
"""

import numpy as np

from . import ir


def merge_repeats(prog, nodes):
    """``nodes`` with each repeated computation (same op, inputs and parameters) made once:
    later readers read the first one's value (``prog.out_vids`` too)."""
    alias, seen, merged = {}, {}, []
    for node in nodes:
        ins = tuple(alias.get(i, i) for i in node.ins)
        if node.out >= 0 and node.op not in ir._SOURCES:
            key = (node.op, ins, tuple(node.params.items()))
            try:
                hit = seen.get(key)
            except TypeError:  # an array or a slice among the parameters
                key = (node.op, ins, tuple((k, _hashable(v)) for k, v in node.params.items()))
                hit = seen.get(key)
            if hit is not None:
                alias[node.out] = hit
                continue
            seen[key] = node.out
        merged.append(node if ins == node.ins else ir.Node(node.op, ins, node.params,
                                                           node.out))
    if alias:
        prog.out_vids = [alias.get(v, v) for v in prog.out_vids]
    return merged


def _hashable(v):
    """``v`` as a dictionary key that equal parameters share: tuples and slices by their
    parts, small arrays by their content, anything else unhashable by its identity."""
    if isinstance(v, (tuple, list)):
        return (type(v).__name__,) + tuple(_hashable(a) for a in v)
    if isinstance(v, slice):
        return ("slice", v.start, v.stop, v.step)
    if isinstance(v, np.ndarray) and v.size <= 1 << 16:
        return ("array", v.dtype.str, v.shape, v.tobytes())
    try:
        hash(v)
        return v
    except TypeError:
        return ("object", id(v))


def _uses(prog, nodes, consts):
    """Per value id: how many nodes read it (``count``) and the node that makes it (``made``);
    and the values no rewrite may drop (``free``: the program's outputs and constants)."""
    count, made = {}, {}
    for n in nodes:
        if n.out >= 0:
            made[n.out] = n
        for i in n.ins:
            count[i] = count.get(i, 0) + 1
    return count, made, set(prog.out_vids) | consts


def negate_after_sums(prog, nodes, consts):
    """``sum(-x)`` as ``-sum(x)`` when nothing else reads ``-x`` (the gradient of ``a - b``
    with respect to a broadcast ``b``): the negation runs over the small sum instead of a
    full pass over ``x``. Exact: negation commutes with every rounding of the sum."""
    g = prog.g
    count = {}
    for n in nodes:
        for i in n.ins:
            count[i] = count.get(i, 0) + 1
    negs = {n.out: n for n in nodes if n.op == "neg" and n.out not in consts}
    gone, out = set(), []
    for n in nodes:
        src = negs.get(n.ins[0]) if n.op in ("sum", "sum_to") and n.ins else None
        if src is None or count.get(src.out) != 1 or src.out in prog.out_vids or \
                not prog.reduces(n) or \
                g.meta(src.out).dtype.kind != "f":
            out.append(n)
            continue
        r = g.val[n.out]
        s = g.new_value(-r if type(r) is float else np.negative(r))
        out.append(ir.Node(n.op, src.ins, n.params, s))
        out.append(ir.Node("neg", (s,), {}, n.out))
        gone.add(src.out)
    return [n for n in out if n.out not in gone] if gone else nodes


def double_small_factor(prog, nodes, consts):
    """``p * q + p * q`` (the gradient of a square, ``g * x`` from each factor) as
    ``(2 * s) * q`` when ``p`` views (reshape, broadcast) a smaller array ``s`` and nothing
    else reads the product or the views: the doubling runs over ``s``, not over the
    product. The same numbers: doubling is exact (unless ``2 * s`` overflows or a
    product is subnormal)."""
    g = prog.g
    count, made, free = _uses(prog, nodes, consts)
    plans = {}
    for n in nodes:
        if n.op != "add" or n.ins[0] != n.ins[1] or n.out in free:
            continue
        prod = made.get(n.ins[0])
        if prod is None or prod.op != "mul" or count.get(prod.out) != 2 or \
                prod.out in free or type(g.meta(prod.out)) is not np.ndarray:
            continue
        for k in (0, 1):
            chain, v = [], prod.ins[k]
            while made.get(v) is not None and made[v].op in ("reshape", "broadcast_to") \
                    and count.get(v) == 1 and v not in free:
                chain.append(made[v])
                v = made[v].ins[0]
            base = g.meta(v)
            if chain and type(base) is np.ndarray and base.dtype.kind == "f" and \
                    4 * base.size <= g.meta(prod.out).size:
                plans[n.out] = (prod, k, v, chain[::-1])
                break
    if not plans:
        return nodes
    gone, out = set(), []
    for n in nodes:
        plan = plans.get(n.out)
        if plan is None:
            out.append(n)
            continue
        prod, k, v, chain = plan
        v = _derived(g, out, "mulc", (v,), {"c": 2.0})
        for link in chain:
            v = _derived(g, out, link.op, (v,), link.params)
            gone.add(link.out)
        ins = list(prod.ins)
        ins[k] = v
        out.append(ir.Node("mul", tuple(ins), prod.params, n.out))
        gone.add(prod.out)
    return [n for n in out if n.out not in gone]


def _derived(g, out, op, ins, params):
    """Append a new node to ``out``, its trace-time value computed now; its value id."""
    vid = g.new_value(ir.norm(ir.IMPL[op](params, *[g.val[i] for i in ins])))
    out.append(ir.Node(op, ins, params, vid))
    return vid


# ops that a sum over some axes passes through unchanged: sum(-x) = -sum(x), sum(c*x) = c*sum(x)
_LINEAR_UNARY = frozenset(("neg", "mulc", "divc"))


def sums_before_linear_ops(prog, nodes, consts):
    """A sum over some axes of a value that nothing else reads, made by a linear op, as the
    op over sums of its operands: ``sum(a + b)`` as ``sum(a) + sum(b)`` (also ``-``),
    ``sum(a * c)`` as ``sum(a) * c`` when ``c`` is constant along the summed axes,
    ``sum(-a)``, ``sum(a * k)``, and ``sum(einsum(a, m))`` as ``einsum(sum(a), m)`` when the
    summed letters are ``a``'s only; again on the operands (the gradient of GMM's means,
    ``sum_n(g * q + einsum(g, L))``, becomes ``s * q + einsum(s, L)`` with ``s = sum_n(g)``,
    one pass over ``g`` instead of four over arrays of its size). Equal sums of one array are
    computed once. Each element of the result is the same sum of the same products added in
    another order: it differs from eager's only in rounding, as a BLAS sum's order does."""
    g = prog.g
    count, made, free = _uses(prog, nodes, consts)
    memo, gone, out = {}, set(), []

    def through(v):
        """Whether ``v``'s producer may be replaced: only the sum being pushed reads it."""
        n = made.get(v)
        x = g.val[v]
        return n is not None and count.get(v) == 1 and v not in free and \
            type(x) is np.ndarray and x.dtype.kind == "f"

    def summed(v, axes, dropped):
        """The value id of ``v`` summed over ``axes`` (sorted; ``dropped`` of them removed
        from the shape, the others kept with size 1), pushed into ``v``'s producer."""
        if through(v):
            r = _push(made[v], axes, dropped)
            if r is not None:
                gone.add(v)
                return r
        x = g.val[v]
        if len(dropped) == x.ndim:
            key = (v, None)
            if key not in memo:
                memo[key] = _derived(g, out, "sum", (v,), {"axis": None, "keepdims": False})
            return memo[key]
        key = (v, axes)
        if key not in memo:
            memo[key] = _derived(g, out, "sum", (v,), {"axis": axes, "keepdims": True})
        if not dropped:
            return memo[key]
        shape = tuple(n for i, n in enumerate(x.shape) if i not in dropped)
        if (v, axes, shape) not in memo:
            memo[v, axes, shape] = _derived(g, out, "reshape", (memo[key],), {"shape": shape})
        return memo[v, axes, shape]

    def _push(n, axes, dropped):
        x = g.val[n.out]
        if n.op in ("add", "sub"):
            if all(type(g.val[i]) is np.ndarray and g.val[i].shape == x.shape and
                   g.val[i].dtype == x.dtype for i in n.ins):
                a, b = (summed(i, axes, dropped) for i in n.ins)
                return _derived(g, out, n.op, (a, b), n.params)
        elif n.op in _LINEAR_UNARY:
            return _derived(g, out, n.op, (summed(n.ins[0], axes, dropped),), n.params)
        elif n.op == "mul":
            for a, c in (n.ins, n.ins[::-1]):
                va, vc = g.val[a], g.val[c]
                if type(va) is not np.ndarray or va.shape != x.shape or \
                        va.dtype != x.dtype or type(vc) is not np.ndarray or \
                        vc.dtype != x.dtype:
                    continue
                full = (1,) * (x.ndim - vc.ndim) + vc.shape
                if any(full[i] != 1 for i in axes):
                    continue  # c varies along a summed axis
                kept = tuple(m for i, m in enumerate(full) if i not in dropped)
                sa = summed(a, axes, dropped)
                if kept != vc.shape:
                    c = _derived(g, out, "reshape", (c,), {"shape": kept})
                return _derived(g, out, "mul", (sa, c), n.params)
        elif n.op == "einsum" and len(n.ins) == 2 and "." not in n.params["spec"]:
            return _push_einsum(n, axes, dropped)
        return None

    def _push_einsum(n, axes, dropped):
        lhs, res = n.params["spec"].split("->")
        terms = lhs.split(",")
        letters = [res[i] for i in axes]
        lost = {res[i] for i in dropped}
        if any(len(set(t)) != len(t) for t in terms):
            return None
        for j, t in enumerate(terms):
            other = terms[1 - j]
            vj = g.val[n.ins[j]]
            if type(vj) is not np.ndarray or vj.dtype.kind != "f" or \
                    not all(c in t and c not in other for c in letters):
                continue
            sj = summed(n.ins[j], tuple(sorted(t.index(c) for c in letters)),
                        tuple(sorted(t.index(c) for c in lost)))
            new = list(terms)
            new[j] = "".join(c for c in t if c not in lost)
            ins = list(n.ins)
            ins[j] = sj
            spec = ",".join(new) + "->" + "".join(c for c in res if c not in lost)
            return _derived(g, out, "einsum", tuple(ins), {"spec": spec})
        return None

    for n in nodes:
        red = _reduction(prog, n) if n.out not in consts else None
        if red is None or not through(n.ins[0]):
            out.append(n)
            continue
        mark, before = len(out), (set(gone), dict(memo))
        r = _push(made[n.ins[0]], *red)
        if r is None or ir.shape_of(g.val[r]) != ir.shape_of(g.val[n.out]) or \
                ir.dtype_of(g.val[r]) != ir.dtype_of(g.val[n.out]):
            del out[mark:]
            gone, memo = before
            out.append(n)
            continue
        gone.add(n.ins[0])
        out[-1].out = n.out  # the last node made is the sum's value
    if not gone:
        return nodes
    keep, live = [], set(prog.out_vids)
    for n in reversed(out):  # the ops the sums went through are read by nothing now
        if n.out < 0 or n.out in live:
            keep.append(n)
            live.update(n.ins)
    return keep[::-1]


def _reduction(prog, n):
    """``(axes, dropped)`` of a sum node over a floating array: the axes summed and those of
    them the result does not keep (with size 1); None for other nodes."""
    if n.op not in ("sum", "sum_to"):
        return None
    x, r = prog.g.val[n.ins[0]], prog.g.val[n.out]
    if type(x) is not np.ndarray or x.dtype.kind != "f" or x.ndim == 0 or \
            type(r) is np.ndarray and r.shape == x.shape:
        return None
    if n.op == "sum_to":
        shape = n.params["shape"]
        lead = x.ndim - len(shape)
        dropped = tuple(range(lead))
        axes = dropped + tuple(i + lead for i, m in enumerate(shape)
                               if m == 1 and x.shape[i + lead] != 1)
        return axes, dropped
    axis = n.params["axis"]
    axes = tuple(range(x.ndim)) if axis is None else \
        tuple(sorted({a % x.ndim for a in ((axis,) if type(axis) is int else axis)}))
    return axes, () if n.params["keepdims"] else axes


def diagonal_into_contraction(prog, nodes, consts):
    """``c * x + einsum(m, x)`` where the einsum applies a matrix to one axis of ``x`` (one
    letter of ``x`` contracted, another put in its place, ``m``'s other letters batch ``x``'s)
    and ``c`` is constant along the axes ``m`` does not index: the product is the diagonal
    matrix of ``c`` applied the same way, so the sum is one einsum with ``m + diag(c)``
    (GMM's ``Q x`` for a lower-triangular ``Q``: two passes over arrays of ``x``'s size
    fewer; ``diag(c)`` and the addition run over ``m``'s size). Each element is the same
    products summed in another order; the off-diagonal zeros are written, never computed, so
    an infinite ``c`` stays where it was."""
    g = prog.g
    count, made, free = _uses(prog, nodes, consts)
    out, gone = [], set()
    for n in nodes:
        plan = _diagonal_plan(g, n, made, count, free) if n.op == "add" else None
        if plan is None:
            out.append(n)
            continue
        prod, ein, k, c, c_shape, key = plan
        m = ein.ins[1 - k]
        mark = len(out)
        if ir.shape_of(g.val[c]) != c_shape:
            c = _derived(g, out, "reshape", (c,), {"shape": c_shape})
        d = _derived(g, out, "index_scatter", (c,), {"key": key, "shape": g.val[m].shape,
                                                     "dtype": g.val[m].dtype})
        ins = list(ein.ins)
        ins[1 - k] = _derived(g, out, "add", (m, d), {})
        node = ir.Node("einsum", tuple(ins), {"spec": ein.params["spec"]}, n.out)
        res = ir.IMPL["einsum"](node.params, *[g.val[i] for i in ins])  # its plan, once
        if not _same_sum(res, g.val[n.out], g.val[prod.out], g.val[ein.out]):
            del out[mark:]  # not the same numbers: keep the two passes
            out.append(n)
            continue
        out.append(node)
        gone.update((prod.out, ein.out))
    if not gone:
        return nodes
    return [n for n in out if n.out not in gone]


def _same_sum(new, old, a, b):
    """Whether ``new`` is ``old = a + b`` up to rounding relative to the terms' sizes."""
    with np.errstate(invalid="ignore", over="ignore"):
        ok = (new == old) | (np.abs(new - old) <= 1e-9 * (np.abs(a) + np.abs(b))) | \
            (np.isnan(new) & np.isnan(old))
    return bool(ok.all())


def _diagonal_plan(g, n, made, count, free):
    """For ``add(mul(c, x), einsum(m, x))`` (any order): the product and einsum nodes, the
    position of ``x`` in the einsum, ``c``, the shape ``c`` takes to be scattered and the
    index key that scatters it onto ``m``'s diagonal; else None."""
    r = g.meta(n.out)  # (its type, shape and dtype)
    if type(r) is not np.ndarray or r.dtype.kind != "f" or n.ins[0] == n.ins[1]:
        return None
    for p, e in (n.ins, n.ins[::-1]):
        prod, ein = made.get(p), made.get(e)
        if prod is None or ein is None or prod.op != "mul" or ein.op != "einsum" or \
                len(ein.ins) != 2 or count.get(p) != 1 or count.get(e) != 1 or \
                p in free or e in free:
            continue
        for x, c in (prod.ins, prod.ins[::-1]):
            if x not in ein.ins or ein.ins[0] == ein.ins[1]:
                continue
            plan = _diagonal_key(g, ein, x, c, r)
            if plan is not None:
                return (prod, ein) + plan
    return None


def _diagonal_key(g, ein, x, c, r):
    spec = ein.params["spec"]
    if "." in spec:
        return None
    lhs, to = spec.split("->")
    terms = lhs.split(",")
    k = ein.ins.index(x)
    tx, tm = terms[k], terms[1 - k]
    vx, vc, vm = g.val[x], g.val[c], g.val[ein.ins[1 - k]]
    if any(type(v) is not np.ndarray or v.dtype != r.dtype for v in (vx, vc, vm)) or \
            vx.shape != r.shape or any(len(set(t)) != len(t) for t in (tx, tm, to)):
        return None
    lost = [ch for ch in tx if ch not in to]
    new = [ch for ch in to if ch not in tx]
    if len(lost) != 1 or len(new) != 1 or to != tx.replace(lost[0], new[0]) or \
            set(tm) != {lost[0], new[0]} | (set(tm) & set(tx)) or \
            vm.shape[tm.index(lost[0])] != vm.shape[tm.index(new[0])]:
        return None
    full = (1,) * (r.ndim - vc.ndim) + vc.shape
    if len(full) != r.ndim or any(full[a] != 1 for a, ch in enumerate(to) if ch not in tm):
        return None  # c varies along an axis the matrix does not index
    # c in ``to``'s letters that m has (the batch letters and the new one): the index space
    kept = [ch for ch in to if ch in tm]
    size = dict(zip(tm, vm.shape))
    if any(full[to.index(ch)] not in (1, size[ch]) for ch in kept):
        return None
    grid = np.ix_(*[np.arange(size[ch]) for ch in kept])  # broadcastable index arrays
    key = tuple(grid[kept.index(new[0] if ch == lost[0] else ch)] for ch in tm)
    return k, c, tuple(full[to.index(ch)] for ch in kept), key


def diagonal_of_a_contraction(prog, nodes, consts):
    """``sum(a * b)`` over the axes that ``einsum(a, b)`` contracts, when that einsum also
    pairs one axis of ``a`` with another letter of ``b`` (GMM's ``"nki,nkj->kij"`` beside
    ``sum_n(g * xc)``): the sum is the einsum's diagonal, taken (and copied: no view of it
    is held) instead of a pass over both operands. The einsum moves up to the sum's place.
    Each element is the same sum of the same products, summed in BLAS's order."""
    g = prog.g
    count, made, free = _uses(prog, nodes, consts)
    pairs = {}
    for n in nodes:
        if n.op == "einsum" and len(n.ins) == 2 and n.out not in free:
            pairs.setdefault(frozenset(n.ins), []).append(n)
    out, moved, changed = [], set(), False
    for n in nodes:
        if n.out in moved:
            continue
        red = _reduction(prog, n) if n.out not in consts else None
        prod = made.get(n.ins[0]) if red is not None else None
        plan = None
        if prod is not None and prod.op == "mul" and count.get(prod.out) == 1 and \
                prod.out not in free and prod.ins[0] != prod.ins[1]:
            for ein in pairs.get(frozenset(prod.ins), ()):
                plan = _diagonal_spec(g, ein, prod, n, red)
                if plan is not None:
                    break
        if plan is None:
            out.append(n)
            continue
        ein, spec, shape = plan
        plan_axes = red[0]
        if ein.out not in {m.out for m in out}:
            out.append(ein)  # computed here, before the sum's readers
            moved.add(ein.out)
        mark = len(out)
        d = _derived(g, out, "einsum", (ein.out,), {"spec": spec})
        d = _derived(g, out, "copy", (d,), {})
        if ir.shape_of(g.val[d]) != shape:
            d = _derived(g, out, "reshape", (d,), {"shape": shape})
        va, vb = (g.val[i] for i in prod.ins)
        with np.errstate(invalid="ignore", over="ignore"):  # rounding of sums of |a * b|
            bound = 1e-9 * float(np.max(np.sum(np.abs(va * vb), axis=plan_axes)))
            new, old = np.asarray(g.val[d]), np.asarray(g.val[n.out])
            same = bool(((np.abs(new - old) <= bound) | (np.isnan(new) & np.isnan(old))).all())
        if not same:
            del out[mark:]
            out.append(n)
            continue
        out[-1].out = n.out
        changed = True
    return _drop_dead(prog, out) if changed else nodes


def _diagonal_spec(g, ein, prod, n, red):
    """The one-operand spec taking the diagonal of ``ein`` that equals the sum node ``n``
    (over ``red``'s axes) of ``prod``, and the sum's shape; None if it is not one."""
    axes, dropped = red
    spec = ein.params["spec"]
    if "." in spec:
        return None
    lhs, te = spec.split("->")
    terms = lhs.split(",")
    a, b = prod.ins
    ta, tb = (terms[0], terms[1]) if ein.ins[0] == a else (terms[1], terms[0])
    va, vb = g.val[a], g.val[b]
    if any(type(v) is not np.ndarray or v.dtype.kind != "f" for v in (va, vb)) or \
            va.shape != vb.shape or va.dtype != vb.dtype or len(ta) != va.ndim or \
            len(tb) != va.ndim or any(len(set(t)) != len(t) for t in (ta, tb, te)):
        return None
    diff = [p for p in range(len(ta)) if ta[p] != tb[p]]
    if len(diff) != 1:
        return None
    p = diff[0]
    i, j = ta[p], tb[p]
    if i not in te or j not in te or i in tb or j in ta:
        return None
    summed = {q for q in range(len(ta)) if ta[q] not in te}
    if summed != set(axes) or p in summed:
        return None
    kept = "".join(ta[q] for q in range(len(ta)) if q not in summed)
    r = g.val[n.out]
    return ein, te.replace(j, i) + "->" + kept, ir.shape_of(r)


def _drop_dead(prog, nodes):
    keep, live = [], set(prog.out_vids)
    for n in reversed(nodes):
        if n.out < 0 or n.out in live:
            keep.append(n)
            live.update(n.ins)
    return keep[::-1]
