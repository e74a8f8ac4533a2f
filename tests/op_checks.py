"""check_op: the per-op oracle used by every op table (tests/ops/test_*.py).

For an op ``fn(*tensors)`` on float64 inputs it checks, in order:
1. the forward value against a NumPy reference (when given);
2. first-order gradients against central finite differences (``gradcheck``);
3. the numeric (compiled) sweep against the re-taping sweep (same first-order grads);
4. second order (``gradgradcheck``, through re-taping) when ``order >= 2``;
5. values and gradients against PyTorch when torch is importable and ``torch_fn`` is given.
"""

import zlib

import numpy as np
import pytest

import tapegrad as tg

try:
    import torch as _torch
except ImportError:  # (the finite-difference checks still run; the comparisons are skipped)
    _torch = None
torch = _torch  # for test modules: ``from tests.op_checks import needs_torch, torch``
needs_torch = pytest.mark.skipif(_torch is None, reason="compares with PyTorch")


def make_inputs(arrays, requires_grad=True):
    return [tg.tensor(np.array(a, dtype=np.float64), requires_grad=requires_grad)
            if isinstance(a, np.ndarray) else a for a in arrays]


def _sum_out(out):
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, tg.Tensor) and o.requires_grad]


def check_op(fn, arrays, ref=None, torch_fn=None, order=2, atol=1e-5, rtol=1e-3, seed=0):
    xs = make_inputs(arrays)
    out = fn(*xs)
    if ref is not None:
        expect = ref(*[np.array(a) if isinstance(a, np.ndarray) else a for a in arrays])
        got = out if isinstance(out, (tuple, list)) else (out,)
        expect = expect if isinstance(expect, (tuple, list)) else (expect,)
        for g, e in zip(got, expect):
            np.testing.assert_allclose(np.asarray(g.detach().numpy()), e, rtol=1e-10, atol=1e-12)
    diff = [x for x in xs if isinstance(x, tg.Tensor)]
    assert tg.autograd.gradcheck(fn, tuple(xs), atol=atol, rtol=rtol)
    # numeric sweep == re-taping sweep, with a random projection of the outputs
    rng = np.random.default_rng(seed)
    outs = _sum_out(fn(*xs))
    if outs:
        ws = [tg.tensor(rng.standard_normal(o.shape)) for o in outs]
        fast = tg.autograd.grad(outs, diff, grad_outputs=ws, allow_unused=True)
        outs = _sum_out(fn(*xs))
        slow = tg.autograd.grad(outs, diff, grad_outputs=ws, allow_unused=True,
                                create_graph=True)
        for f, s in zip(fast, slow):
            assert (f is None) == (s is None)
            if f is not None:
                np.testing.assert_allclose(f.numpy(), s.detach().numpy(), rtol=1e-9, atol=1e-12)
    if order >= 2:
        assert tg.autograd.gradgradcheck(fn, tuple(xs), atol=atol, rtol=rtol)
    if torch_fn is not None:
        check_against_torch(fn, torch_fn, arrays, seed=seed)


def check_against_torch(fn, torch_fn, arrays, seed=0, rtol=1e-7, atol=1e-10):
    try:
        import torch
    except ImportError:
        return
    xs = make_inputs(arrays)
    ts = [torch.tensor(np.array(a, dtype=np.float64), requires_grad=True)
          if isinstance(a, np.ndarray) else a for a in arrays]
    out, tout = fn(*xs), torch_fn(*ts)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    touts = tout if isinstance(tout, (tuple, list)) else (tout,)
    rng = np.random.default_rng(seed)
    loss, tloss = 0.0, 0.0
    for o, t in zip(outs, touts):
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol)
        if o.requires_grad and t.requires_grad and o.dtype.kind == "f":
            w = rng.standard_normal(o.shape)
            loss = loss + (o * tg.tensor(w)).sum()
            tloss = tloss + (t * torch.tensor(w)).sum()
    if isinstance(loss, float):
        return
    loss.backward()
    tloss.backward()
    for x, t in zip(xs, ts):
        if isinstance(x, tg.Tensor):
            if t.grad is None:
                assert x.grad is None or np.all(x.grad.numpy() == 0)
            else:
                np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol)


def lib_fns(f):
    """``f(lib, *xs)`` as a tapegrad function and a torch function (None without torch)."""
    torch_fn = None if _torch is None else (lambda *ts: f(_torch, *ts))
    return (lambda *xs: f(tg, *xs)), torch_fn


def check_table_entry(name, f, cases, arrays=None):
    """Run ``check_op`` on one op-table entry: ``f(lib, *xs)`` at each tuple of input shapes.

    Inputs are standard normal unless ``arrays(shapes, rng)`` draws them from the op's domain;
    the seed comes from the name, so a failure reproduces on its own.
    """
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    fn, torch_fn = lib_fns(f)
    for shapes in cases:
        xs = arrays(shapes, rng) if arrays else [rng.standard_normal(s) for s in shapes]
        check_op(fn, xs, torch_fn=torch_fn)


def check_directional_derivative(f, arrays, seed=0, h=1e-6, rel=1e-6):
    """``f(*tensors)`` (a scalar) differentiated by ``backward`` agrees with the central
    difference of ``f`` along one random direction: a check of large-array paths (where
    ``gradcheck``'s one-element-at-a-time differences are too many) that relies on no formula
    of the code under test."""
    r = np.random.default_rng(seed)
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    f(*xs).backward()
    vs = [r.standard_normal(np.shape(a)) for a in arrays]

    def at(s):
        with tg.no_grad():
            return float(f(*[tg.tensor(a + s * v) for a, v in zip(arrays, vs)]))

    fd = (at(h) - at(-h)) / (2 * h)
    got = float(sum(np.sum(x.grad.numpy() * v) for x, v in zip(xs, vs)))
    assert abs(got - fd) <= rel * abs(fd), (got, fd)


def check_forward_equals_reverse(f, args, argnums_list, rtol=1e-12, atol=1e-14):
    """``jacfwd`` and ``jacrev`` of ``f`` at ``args`` agree for each ``argnums``."""
    for argnums in argnums_list:
        jf = tg.func.jacfwd(f, argnums=argnums)(*args)
        jr = tg.func.jacrev(f, argnums=argnums)(*args)
        for a, c in zip(jf if isinstance(jf, tuple) else (jf,),
                        jr if isinstance(jr, tuple) else (jr,)):
            np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=rtol, atol=atol)
