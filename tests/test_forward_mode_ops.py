"""Forward mode (tg.func.jvp, the double-vjp trick) through every op of the op tables
(tests/ops/*): the tangent against central finite differences, and against torch.func.jvp
when PyTorch is installed."""

import zlib

import numpy as np
import pytest

import tapegrad as tg

from ops.test_elementwise import BINARY, UNARY, _draw
from ops.test_linalg import OPS as LINALG
from ops.test_movement import OPS as MOVEMENT
from ops.test_reduce import OPS as REDUCE
from ops.test_reduce import _arrays

try:
    import torch
except ImportError:
    torch = None


def _leaves(out):
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs]


def _check(name, fn, torch_fn, arrays, eps=1e-6):
    rng = np.random.default_rng(zlib.crc32(("jvp" + name).encode()))
    tans = [rng.standard_normal(np.shape(a)) for a in arrays]
    out, jv = tg.func.jvp(fn, tuple(tg.tensor(a) for a in arrays),
                          tuple(tg.tensor(t) for t in tans))
    plus = fn(*[tg.tensor(a + eps * t) for a, t in zip(arrays, tans)])
    minus = fn(*[tg.tensor(a - eps * t) for a, t in zip(arrays, tans)])
    for o, j, p, m in zip(_leaves(out), _leaves(jv), _leaves(plus), _leaves(minus)):
        if o.dtype.kind != "f":
            assert not np.any(j.numpy())
            continue
        fd = (p.numpy() - m.numpy()) / (2 * eps)
        np.testing.assert_allclose(j.numpy(), fd, rtol=1e-4, atol=1e-6, err_msg=name)
    if torch is not None and torch_fn is not None:
        tout, tjv = torch.func.jvp(torch_fn, tuple(torch.tensor(a) for a in arrays),
                                   tuple(torch.tensor(t) for t in tans))
        for o, j, to, tj in zip(_leaves(out), _leaves(jv), _leaves(tout), _leaves(tjv)):
            np.testing.assert_allclose(o.numpy(), to.detach().numpy(), rtol=1e-10, atol=1e-12)
            if o.dtype.kind == "f":
                np.testing.assert_allclose(j.numpy(), tj.detach().numpy(), rtol=1e-8,
                                           atol=1e-10, err_msg=name)


def _lib(f):
    return (lambda *xs: f(tg, *xs)), (None if torch is None else (lambda *ts: f(torch, *ts)))


TABLE = ([(n, f, c, lambda s, rng, d=d: _arrays(s, d, rng)) for n, f, c, d in REDUCE]
         + [(n, f, c, None) for n, f, c in MOVEMENT]
         + [(n, f, c, None) for n, f, c in LINALG])


@pytest.mark.parametrize("name,f,cases,arrays", TABLE, ids=[t[0] for t in TABLE])
def test_jvp_op_tables(name, f, cases, arrays):
    fn, tfn = _lib(f)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    for shapes in cases:
        xs = arrays(shapes, rng) if arrays else [rng.standard_normal(s) for s in shapes]
        if name == "bool_mask":  # the mask must not flip between x and x +- eps t
            xs = [np.where(np.abs(x) < 0.1, 0.5, x) for x in xs]
        _check(name, fn, tfn, xs)


@pytest.mark.parametrize("name", list(UNARY))
def test_jvp_unary(name):
    fn, _, tfn, dom = UNARY[name]
    tfn = (lambda t, s=tfn: getattr(t, s)()) if isinstance(tfn, str) else tfn
    x = _draw(np.random.default_rng(zlib.crc32(name.encode())), (2, 3), **dom)
    _check(name, fn, tfn, [x])


@pytest.mark.parametrize("name", list(BINARY))
def test_jvp_binary(name):
    fn, _, tfn, dx, dy, _ = BINARY[name]
    tfn = (lambda a, b, s=tfn: getattr(a, s)(b)) if isinstance(tfn, str) else tfn
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    x, y = _draw(rng, (2, 3), **dx), _draw(rng, (3,), **dy)
    while np.min(np.abs(x - y)) < 0.05:
        y = _draw(rng, (3,), **dy)
    _check(name, fn, tfn, [x, y])
