"""The ``*_copy`` view variants and ``unsafe_split``/``unsafe_chunk``: PyTorch's values, shapes
and errors, storage and version counters of their own, gradients by finite differences (to
second order) and against PyTorch."""

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import check_op, needs_torch, torch

X = np.arange(24.0).reshape(2, 3, 4) / 7.0
# name, call (lib, x), input
CASES = [
    ("view_copy", lambda lib, x: lib.view_copy(x, (4, 6)), X),
    ("view_copy", lambda lib, x: lib.view_copy(x.transpose(0, 2), [-1]), X),
    ("t_copy", lambda lib, x: lib.t_copy(x), X[0]),
    ("transpose_copy", lambda lib, x: lib.transpose_copy(x, 0, 2), X),
    ("permute_copy", lambda lib, x: lib.permute_copy(x, (2, 0, 1)), X),
    ("squeeze_copy", lambda lib, x: lib.squeeze_copy(x), X[:1, :, :1]),
    ("squeeze_copy", lambda lib, x: lib.squeeze_copy(x, [0, 2]), X[:1, :, :1]),
    ("unsqueeze_copy", lambda lib, x: lib.unsqueeze_copy(x, -1), X),
    ("expand_copy", lambda lib, x: lib.expand_copy(x, (2, -1, 3, 4)), X[:, :, :1].copy()),
    ("diagonal_copy", lambda lib, x: lib.diagonal_copy(x, 1, 1, 2), X),
    ("select_copy", lambda lib, x: lib.select_copy(x, 1, -1), X),
    ("slice_copy", lambda lib, x: lib.slice_copy(x, 2, 1, None, 2), X),
    ("slice_copy", lambda lib, x: lib.slice_copy(x, -1, -10, 10), X),
    ("split_copy", lambda lib, x: lib.split_copy(x, 3, 2), X),
    ("split_with_sizes_copy", lambda lib, x: lib.split_with_sizes_copy(x, [1, 2], 1), X),
    ("unbind_copy", lambda lib, x: lib.unbind_copy(x, 1), X),
    ("unfold_copy", lambda lib, x: lib.unfold_copy(x, 2, 2, 1), X),
    ("alias_copy", lambda lib, x: lib.alias_copy(x), X),
    ("narrow_copy", lambda lib, x: lib.narrow_copy(x, 2, 1, 2), X),
    ("narrow_copy", lambda lib, x: x.narrow_copy(0, 1, 1), X),
    ("view_as_real_copy", lambda lib, x: lib.view_as_real_copy(lib.complex(x, -x)), X),
    ("view_as_complex_copy", lambda lib, x: lib.view_as_complex_copy(x).abs(),
     X[:, :, :2].copy()),
    ("as_strided_copy", lambda lib, x: lib.as_strided_copy(x, (3, 2), (2, 5), 1), X),
    ("unsafe_split", lambda lib, x: lib.unsafe_split(x, 2, -1), X),
    ("unsafe_split", lambda lib, x: x.unsafe_split(2, -1), X),
    ("unsafe_chunk", lambda lib, x: x.unsafe_chunk(2, 1), X),
    ("unsafe_split_with_sizes", lambda lib, x: x.unsafe_split_with_sizes([3, 1], 2), X),
]
IDS = [f"{name}{i}" for i, (name, _, _) in enumerate(CASES)]


def _outs(out):
    return out if isinstance(out, tuple) else (out,)


@pytest.mark.parametrize("name,call,x", CASES, ids=IDS)
def test_view_copy_gradients(name, call, x):
    check_op(lambda t: call(tg, t), [x])


@needs_torch
@pytest.mark.parametrize("name,call,x", CASES, ids=IDS)
def test_view_copy_against_torch(name, call, x):
    mine = tg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    if name == "view_as_complex_copy":  # (PyTorch's has no derivative: values only)
        theirs.requires_grad_(False)
    got, want = _outs(call(tg, mine)), _outs(call(torch, theirs))
    assert len(got) == len(want)
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(tuple(w.shape)) for w in want]
    for g, w in zip(got, want):
        assert tuple(g.shape) == tuple(w.shape)
        np.testing.assert_allclose(np.asarray(g.tolist()), np.asarray(w.tolist()))
    real = [(g, w, c) for g, w, c in zip(got, want, weights) if w.dtype.is_floating_point]
    sum(((g * tg.tensor(c)).sum() for g, _, c in real), tg.tensor(0.0)).backward()
    if theirs.requires_grad:
        sum((w * torch.tensor(c)).sum() for _, w, c in real).backward()
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize("name,call,x", [c for c in CASES if "unsafe" not in c[0]],
                         ids=[i for i, c in zip(IDS, CASES) if "unsafe" not in c[0]])
def test_view_copies_own_their_storage(name, call, x):
    base = tg.tensor(x)
    for out in _outs(call(tg, base)):
        assert not np.shares_memory(out.numpy(), base.numpy())
        assert out.numpy().flags.c_contiguous
        before = base._version
        out.add_(1.0) if out.dtype.kind == "f" else out.mul_(2)
        assert base._version == before and base.tolist() == x.tolist()


def test_view_as_complex_copy_stays_differentiable():
    # (PyTorch refuses autograd for this op's complex output; its view_as_complex has a rule)
    check_op(lambda t: tg.view_as_real(tg.view_as_complex_copy(t)), [X[:, :, :2].copy()])


def test_detach_copy_has_no_history():
    x = tg.ones(2, 3, requires_grad=True)
    y = tg.detach_copy(x)
    assert not y.requires_grad and not np.shares_memory(y.numpy(), x.detach().numpy())


@needs_torch
def test_view_copy_errors_against_torch():
    x = np.arange(6.0).reshape(2, 3)

    def error(lib, f):
        try:
            f(lib, lib.tensor(x))
        except Exception as e:  # noqa: BLE001 (the type and words are compared)
            return type(e).__name__, str(e)
        return None

    for f in (lambda lib, t: lib.narrow_copy(t, 1, 2, 2),
              lambda lib, t: lib.view_copy(t, (4,)),
              lambda lib, t: lib.select_copy(t, 0, 5),
              lambda lib, t: lib.slice_copy(t, 1, 0, 5, 0),
              lambda lib, t: lib.view_as_complex_copy(t)):
        assert error(tg, f) == error(torch, f)
