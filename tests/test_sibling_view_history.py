"""Every view of a storage sees the storage's current history after an in-place write through
the base or any view of it, as PyTorch's regenerated views do: requires_grad, grad_fn and the
gradient path (first and second order). A view of a constant made before a write through a
sibling view used to keep requires_grad False, and its uses dropped the gradient silently."""

import random

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _vals(t):
    return np.asarray(t.detach().tolist(), dtype=np.float64)


def _reviewer_case(lib):
    a = lib.tensor([2.0, 3.0], requires_grad=True)
    b = lib.ones(2, 2)  # a constant
    w = b.view(2, 2)
    w.t()[1].mul_(a)  # column 1 of b becomes a: every view of b depends on a now
    return a, b, w


@pytest.mark.parametrize("lib", [tg, torch], ids=["tapegrad", "torch"])
def test_view_made_before_a_sibling_write_requires_grad(lib):
    a, b, w = _reviewer_case(lib)
    assert w.requires_grad and w.grad_fn is not None and not w.is_leaf
    assert type(w.grad_fn).__name__ == "AsStridedBackward0"
    assert type(b.grad_fn).__name__ == "CopySlices"
    b.add_(1)
    y = (w * w).sum()
    assert y.requires_grad
    (g,) = lib.autograd.grad(y, a)
    np.testing.assert_allclose(_vals(g), [6.0, 8.0])  # d/da of sum((1 + a)^2) + 2


def test_older_views_of_a_base_written_in_place():
    def run(lib):
        a = lib.tensor([2.0, 3.0], requires_grad=True)
        b = lib.ones(2, 2)
        v, e, d = b[0], b[:, :1].expand(2, 3), b.diagonal()
        b.mul_(a)  # through the base itself: older views read it
        out = [(t * t).sum() for t in (v, e, d)]
        return a, out

    (ta, tout), (pa, pout) = run(tg), run(torch)
    for t, p in zip(tout, pout):
        assert t.requires_grad and p.requires_grad
        np.testing.assert_allclose(_vals(tg.autograd.grad(t, ta, retain_graph=True)[0]),
                                   _vals(torch.autograd.grad(p, pa, retain_graph=True)[0]))


@pytest.mark.parametrize("make", ["no_grad", "unbind"])
def test_no_grad_and_unbind_views_of_a_constant_raise_as_pytorch(make):
    """A view PyTorch forbids to rebase (made under no_grad, an output of unbind) raises
    PyTorch's error at its uses once a write gave its base a history."""
    errors = []
    for lib in (tg, torch):
        a = lib.tensor([2.0, 3.0], requires_grad=True)
        b = lib.zeros(2, 2)
        if make == "no_grad":
            with lib.no_grad():
                v = b[0]
        else:
            v = b.unbind(0)[0]
        b[1].mul_(a)
        assert v.requires_grad
        for f in (lambda: v * 2, lambda: v.sum(), lambda: v.grad_fn, lambda: v.mul_(2)):
            with pytest.raises(RuntimeError) as e:
                f()
            errors.append(str(e.value))
    n = len(errors) // 2
    assert errors[:n] == errors[n:]


def _outputs_and_inputs(lib):
    """A view used as backward's output or input after its base changed in place: PyTorch
    reads its regenerated node (a base with history of its own, and a constant one)."""
    res = []
    for rg_base in (False, True):
        a = lib.tensor([2.0, 3.0], requires_grad=True)
        b = lib.ones(2, 2) * a[1] if rg_base else lib.ones(2, 2)
        v = b[0]
        b.mul_(a[0])
        res.append(lib.autograd.grad(v, a, lib.ones(2), retain_graph=True)[0].tolist())
        v2 = b[1]
        b.mul_(2.0)
        v2.backward(lib.ones(2))
        res.append(a.grad.tolist())
        b = lib.ones(2, 2) * a[1]
        v = b[0]
        out = (v * v).sum()
        b.mul_(a[0])  # out was computed from v's old node: not from its regenerated one
        with pytest.raises(RuntimeError, match="appears to not have been used"):
            lib.autograd.grad(out, v)
        res.append(lib.autograd.grad((v * v).sum(), [v])[0].tolist())
        a.grad = None
        b = lib.ones(2, 2) * a[1] if rg_base else lib.ones(2, 2)
        s = b[1, 1]
        b.mul_(a[0])
        s.backward()  # (a 0-d output: backward's shortest path)
        res.append(a.grad.tolist())
    return res


def test_backward_reads_the_current_history_of_views_as_pytorch():
    assert _outputs_and_inputs(tg) == _outputs_and_inputs(torch)


def test_in_place_op_on_a_view_woken_by_a_sibling_write_raises_as_pytorch():
    """PyTorch's node of such a view stays unset until it is read: an in-place op on the view
    itself raises its leaf error then; after a use, or through a fresh view, it works."""
    def run(lib):
        out = []
        for prep in ("none", "use", "grad_fn", "setitem"):
            a = lib.tensor([2.0, 3.0], requires_grad=True)
            b = lib.zeros(2, 2)
            v = b[0]
            b[1].mul_(a)
            if prep == "use":
                v * 2
            elif prep == "grad_fn":
                v.grad_fn
            try:
                if prep == "setitem":
                    v[0] = a[0]
                else:
                    v.add_(a)
                out.append(((v * v).sum() + (b * b).sum()).requires_grad)
            except RuntimeError as e:
                out.append(str(e))
        return out

    assert run(tg) == run(torch)


def test_write_under_no_grad_leaves_views_constant():
    a = tg.tensor([2.0, 3.0], requires_grad=True)
    b = tg.zeros(2, 2)
    v = b[0]
    with tg.no_grad():
        b[1].mul_(a)
    assert not v.requires_grad and not (v * v).sum().requires_grad
    b[1].mul_(a)  # a later recorded write still reaches it
    assert v.requires_grad and (v * v).sum().requires_grad


def test_views_list_of_a_constant_base_stays_bounded():
    b = tg.zeros(8)
    for _ in range(1000):
        b[1:3]
    assert len(b._cviews) < 130


# ---- random programs ----------------------------------------------------------------------

_VIEW_OPS = ("view", "reshape", "t", "transpose", "slice", "int", "expand", "unsqueeze",
             "narrow", "diagonal", "step")


def _view_op(rng, shape):
    """A view op applicable to ``shape`` (a description both libraries run alike)."""
    nd = len(shape)
    while True:
        op = rng.choice(_VIEW_OPS)
        if op == "view":
            return ("view", (-1,)) if rng.random() < 0.5 or nd == 0 else ("view", shape)
        if op == "reshape":
            n = int(np.prod(shape))
            return ("reshape", (n,) if nd != 1 or n % 2 else (2, n // 2))
        if op == "t" and nd <= 2:
            return ("t",)
        if op == "transpose" and nd >= 2:
            return ("transpose", 0, nd - 1)
        if op in ("slice", "int", "narrow", "step") and nd >= 1:
            d = rng.randrange(nd)
            if shape[d] < 2:
                continue
            if op == "slice":
                return ("slice", d, rng.randrange(shape[d]))
            if op == "step":
                return ("step", d)
            if op == "int":
                return ("int", d, rng.randrange(-shape[d], shape[d]))
            return ("narrow", d, rng.randrange(shape[d] - 1), 1 + rng.randrange(1))
        if op == "expand" and 1 <= nd <= 2:
            return ("expand", rng.choice((2, 3)))
        if op == "unsqueeze":
            return ("unsqueeze", rng.randrange(nd + 1))
        if op == "diagonal" and nd >= 2:
            return ("diagonal",)


def _apply_view(t, op):
    k = op[0]
    if k == "view":
        return t.view(*op[1])
    if k == "reshape":
        return t.reshape(*op[1])
    if k == "t":
        return t.t()
    if k == "transpose":
        return t.transpose(op[1], op[2])
    if k == "slice":
        return t[(slice(None),) * op[1] + (slice(op[2], None),)]
    if k == "step":
        return t[(slice(None),) * op[1] + (slice(None, None, 2),)]
    if k == "int":
        return t[(slice(None),) * op[1] + (op[2],)]
    if k == "narrow":
        return t.narrow(op[1], op[2], op[3])
    if k == "expand":
        return t.unsqueeze(0).expand(op[1], *t.shape)
    if k == "unsqueeze":
        return t.unsqueeze(op[1])
    return t.diagonal()


def _chain(rng, shape, n):
    ops = []
    for _ in range(n):
        op = _view_op(rng, shape)
        ops.append(op)
        shape = _shape_after(shape, op)
    return ops


def _shape_after(shape, op):
    x = torch.empty(shape)
    try:
        return tuple(_apply_view(x, op).shape)
    except RuntimeError:
        return shape  # (the op raises in both: the program stops there)


def _program(seed):
    rng = random.Random(seed)
    shape = rng.choice(((3, 4), (2, 3), (4,), (2, 2, 3)))
    prog = {"shape": shape, "base_rg": rng.random() < 0.3, "seed": seed,
            "older": [_chain(rng, shape, rng.randrange(1, 4)) for _ in range(rng.randrange(1, 4))],
            "writes": [], "newer": [_chain(rng, shape, rng.randrange(1, 3))]}
    for _ in range(1 + (rng.random() < 0.3)):
        which = rng.randrange(-1, len(prog["older"]) + 1)  # -1: the base, len: a fresh chain
        fresh = _chain(rng, shape, rng.randrange(1, 3)) if which == len(prog["older"]) else None
        prog["writes"].append((which, fresh, rng.choice(("mul_", "add_", "copy_", "setitem",
                                                         "fill_")), rng.random() < 0.85))
    prog["uses"] = ["base"] + [f"older{i}" for i in range(len(prog["older"]))] + ["newer0"]
    rng.shuffle(prog["uses"])
    del prog["uses"][rng.randrange(1, len(prog["uses"]) + 1):]
    return prog


def _views_of(base, chain):
    t = base
    for op in chain:
        t = _apply_view(t, op)
    return t


def _value_for(lib, a, t, kind, grad):
    src = a if grad else a.detach()
    n = max(t.numel(), 1)
    if kind == "fill_":
        return src[0] * 1.5
    if kind == "setitem":
        shape = t.shape[1:] if t.ndim else ()
        m = int(np.prod(shape)) if shape else 1
        return (src[:m] * 0.5 - 1).reshape(shape)
    return (src[:n] * 0.7 + 0.2).reshape(t.shape)


def _run(lib, prog):
    """Run ``prog`` with ``lib``: what is compared (values, flags, gradients), or the error."""
    gen = np.random.default_rng(prog["seed"])
    x = lib.tensor(gen.standard_normal(prog["shape"]), requires_grad=True)
    a = lib.tensor(gen.standard_normal(24) + 1.5, requires_grad=True)
    base = x * 1.0 if prog["base_rg"] else lib.tensor(gen.standard_normal(prog["shape"]))
    out = []
    try:
        older = [_views_of(base, c) for c in prog["older"]]
        for which, fresh, kind, grad in prog["writes"]:
            t = base if which == -1 else _views_of(base, fresh) if fresh is not None \
                else older[which]
            v = _value_for(lib, a, t, kind, grad)
            if kind == "setitem":
                if t.ndim == 0:
                    continue
                t[0] = v
            elif kind == "fill_":
                t.fill_(v)
            else:
                getattr(t, kind)(v)
        named = {"base": base, "newer0": _views_of(base, prog["newer"][0]),
                 **{f"older{i}": o for i, o in enumerate(older)}}
        loss = 0
        for k, name in enumerate(prog["uses"]):
            t = named[name]
            c = lib.tensor(gen.standard_normal(tuple(t.shape)))
            out.append((name, _vals(t), t.requires_grad, t.grad_fn is None))
            loss = loss + (t * t * c).sum() + (t * (k + 1.0)).sum()
        out.append(("loss", loss.requires_grad))
        if not loss.requires_grad:
            return out
        gs = lib.autograd.grad(loss, (a, x), create_graph=True, allow_unused=True)
        gs = [lib.zeros_like(p) if g is None else g for g, p in zip(gs, (a, x))]
        out.append(("grad", *(_vals(g) for g in gs)))
        r = [lib.tensor(gen.standard_normal(tuple(p.shape))) for p in (a, x)]
        h = sum((g * w).sum() for g, w in zip(gs, r))
        if h.requires_grad:
            hs = lib.autograd.grad(h, (a, x), allow_unused=True)
            out.append(("hvp", *(np.zeros(p.shape) if g is None else _vals(g)
                                 for g, p in zip(hs, (a, x)))))
        else:
            out.append(("hvp", np.zeros(a.shape), np.zeros(x.shape)))
    except RuntimeError as e:
        out.append(("error", str(e).split("\n")[0][:60]))
    return out


def _same(p, q):
    if len(p) != len(q):
        return False
    for u, v in zip(p, q):
        if len(u) != len(v) or u[0] != v[0]:
            return False
        for s, t in zip(u[1:], v[1:]):
            if isinstance(s, np.ndarray):
                if s.shape != t.shape or not np.allclose(s, t, rtol=1e-9, atol=1e-9):
                    return False
            elif s != t:
                return False
    return True


def probe(n, start=0):
    """Random programs run by both libraries: (cases run, mismatches, cases that wrote with a
    value requiring grad and used an older view)."""
    bad, relevant = [], 0
    for seed in range(start, start + n):
        prog = _program(seed)
        p, q = _run(tg, prog), _run(torch, prog)
        relevant += any(w[3] for w in prog["writes"]) and any(
            u.startswith("older") for u in prog["uses"])
        if not _same(p, q):
            bad.append(seed)
    return n, bad, relevant


def test_random_view_programs_match_pytorch():
    n, bad, relevant = probe(400)
    assert relevant > 150
    assert not bad, f"mismatching programs (seeds): {bad[:20]}"
