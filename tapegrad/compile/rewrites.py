"""Exact rewrites of a replay program's nodes that save a pass over a large array.

Each takes the ``codegen.Program`` (its graph, outputs) and the live nodes in order, and
returns the nodes to generate code for; new values get trace-time values like any other.
"""

import numpy as np

from . import ir


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
                g.val[src.out].dtype.kind != "f":
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
    count, made = {}, {}
    for n in nodes:
        made[n.out] = n
        for i in n.ins:
            count[i] = count.get(i, 0) + 1
    free = set(prog.out_vids) | consts
    plans = {}
    for n in nodes:
        if n.op != "add" or n.ins[0] != n.ins[1] or n.out in free:
            continue
        prod = made.get(n.ins[0])
        if prod is None or prod.op != "mul" or count.get(prod.out) != 2 or \
                prod.out in free or type(g.val[prod.out]) is not np.ndarray:
            continue
        for k in (0, 1):
            chain, v = [], prod.ins[k]
            while made.get(v) is not None and made[v].op in ("reshape", "broadcast_to") \
                    and count.get(v) == 1 and v not in free:
                chain.append(made[v])
                v = made[v].ins[0]
            base = g.val[v]
            if chain and type(base) is np.ndarray and base.dtype.kind == "f" and \
                    4 * base.size <= g.val[prod.out].size:
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
