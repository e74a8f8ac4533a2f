"""Elementwise runs over large arrays replayed a chunk at a time.

A replay's straight-line NumPy makes one pass over memory per node: for ``sin(x) * exp(-x*x)``
and its gradient over 2·10⁶ float64 elements that is a dozen passes over 16 MB arrays, each
bound by memory bandwidth. When a run of consecutive nodes is elementwise over one large shape
(numbers and 0-d values aside), the same lines run over chunks of ``CHUNK`` elements instead,
so that every intermediate stays in the cache and only the run's inputs are read from memory
and its results written to it (~25% less time for that workload here). A full ``sum`` in the
run adds up its chunks' sums (pairwise over the chunks): the same value up to rounding.

Chunks hold at least ``CHUNK`` elements (the last takes the remainder), so ``vecmath``'s
kernels, which start at 4096 elements, compute every chunk as they computed the whole array.
Inputs are read through a flat view; where one is not C-contiguous at replay time the
unchunked lines run instead.
"""

import math
import re

import numpy as np

from . import ir

CHUNK = 8192
MIN_SIZE = 8 * CHUNK  # elements from which a run is chunked
MIN_NODES = 3  # fewer nodes: the loop's own cost is not won back


def _small(g, v):
    return g.shape(v) == ()


def _fits(g, node, shape, consts):
    """Whether ``node`` can run chunk by chunk in a run over ``shape``."""
    if node.out < 0 or node.out in consts:
        return False
    if node.op == "sum":  # a full sum to a float: chunk sums added up
        return node.params["axis"] is None and not node.params["keepdims"] and \
            type(g.meta(node.out)) is float and g.shape(node.ins[0]) == shape
    if node.op not in ir.ELEMENTWISE or g.shape(node.out) != shape or \
            g.dtype(node.out).kind != "f":
        return False
    return all(_small(g, i) or g.shape(i) == shape for i in node.ins)


def find_run(g, nodes, consts):
    """``(start, stop, shape)`` of the first run of ``nodes`` worth chunking, else None."""
    k = 0
    while k < len(nodes):
        node = nodes[k]
        shape = g.shape(node.out) if node.out >= 0 and node.op in ir.ELEMENTWISE else None
        # (math.prod: np.prod of a tuple costs microseconds, per node of a long program)
        if shape is None or math.prod(shape) < MIN_SIZE or not _fits(g, node, shape, consts):
            k += 1
            continue
        stop, sums = k + 1, set()
        while stop < len(nodes) and _fits(g, nodes[stop], shape, consts) and \
                not sums.intersection(nodes[stop].ins):  # a chunk's sum is not the sum
            if nodes[stop].op == "sum":
                sums.add(nodes[stop].out)
            stop += 1
        if stop - k >= MIN_NODES:
            return k, stop, shape
        k = stop
    return None


def chunked_lines(prog, run, consts, used_after, shape, plain):
    """Source lines for ``run`` (nodes found by ``find_run``): the chunked loop, with the
    ``plain`` lines as the fallback for inputs that are not C-contiguous."""
    g = prog.g
    made = {n.out for n in run}
    n = int(np.prod(shape))
    ins = sorted({i for nd in run for i in nd.ins if i not in made and not _small(g, i)})
    outs = [nd.out for nd in run if nd.out in used_after]
    sums = [v for v in outs if type(g.meta(v)) is float]
    arrays = [v for v in outs if v not in sums]
    body = prog.lines(run, consts, set(outs))
    for i in ins:  # inside the loop an input is its chunk
        pat = re.compile(rf"\bv{i}\b")
        body = [pat.sub(f"c{i}", ln) for ln in body]
    prog.ns["_np_empty"] = np.empty
    cond = " and ".join(f"v{i}.flags.c_contiguous" for i in ins) or "True"
    src = [f"if {cond}:"]
    src += [f"    f{i} = v{i}.reshape(-1)" for i in ins]
    src += [f"    o{v} = _np_empty({n}, {prog.const(g.dtype(v))})" for v in arrays]
    src += [f"    s{v} = _np_empty({n // CHUNK})" for v in sums]
    src.append(f"    for _c in range({n // CHUNK}):")
    src.append(f"        _lo = _c * {CHUNK}")
    src.append(f"        _hi = {n} if _c == {n // CHUNK - 1} else _lo + {CHUNK}")
    src += [f"        c{i} = f{i}[_lo:_hi]" for i in ins]
    src += ["        " + ln for ln in body]
    src += [f"        o{v}[_lo:_hi] = v{v}" for v in arrays]
    src += [f"        s{v}[_c] = v{v}" for v in sums]
    src += [f"    v{v} = o{v}.reshape({tuple(shape)!r})" for v in arrays]
    src += [f"    v{v} = float(s{v}.sum())" for v in sums]
    src.append("else:")
    src += ["    " + ln for ln in plain] or ["    pass"]
    return src


def lines(prog, nodes, consts, used_after):
    """``prog.lines(nodes, ...)`` with each run that ``find_run`` finds replayed by chunks."""
    hit = find_run(prog.g, nodes, consts)
    if hit is None:
        return prog.lines(nodes, consts, used_after)
    k, stop, shape = hit
    pre, run, post = nodes[:k], nodes[k:stop], nodes[stop:]
    after = set(used_after).union(i for n in post for i in n.ins)
    plain = prog.lines(run, consts, after)
    return prog.lines(pre, consts, after.union(i for n in run for i in n.ins)) + \
        chunked_lines(prog, run, consts, after, shape, plain) + \
        lines(prog, post, consts, used_after)
