"""index_reduce (function, method, in place) and igamma/igammac (special.gammainc/gammaincc):
PyTorch's values, gradients and errors; finite differences to second order."""

import warnings

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import check_op, needs_torch, torch

REDUCES = ["prod", "mean", "amax", "amin"]
# input shape, dim, index, source shape
LAYOUTS = [((3, 2), 0, [0, 2, 0, 2], (4, 2)), ((2, 4), 1, [3, 1, 3], (2, 3)),
           ((2, 3, 2), 1, [2, 2, 0, 1, 0], (2, 5, 2)), ((5,), 0, [4], (1,))]


def _arrays(layout, seed):
    shape, dim, index, sshape = layout
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 2.0, shape), np.array(index), rng.uniform(0.5, 2.0, sshape)


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce_finite_differences(reduce, include_self):
    for k, layout in enumerate(LAYOUTS):
        x, index, src = _arrays(layout, k)
        check_op(lambda x, s: tg.index_reduce(x, layout[1], tg.tensor(index), s, reduce,
                                              include_self=include_self), [x, src])


@needs_torch
@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce_against_torch(reduce, include_self):
    layouts = LAYOUTS + [((3, 2), 0, [0, 0, 1], (3, 2))]
    for k, layout in enumerate(layouts):
        x, index, src = _arrays(layout, k)
        if k == len(layouts) - 1:  # ties and zeros: shared/exact gradients
            x, src = np.array([[1.0, 0.0], [2.0, 3.0], [4.0, 5.0]]), \
                np.array([[1.0, 2.0], [0.0, 2.0], [3.0, 3.0]])
        xs = [tg.tensor(x, requires_grad=True), tg.tensor(src, requires_grad=True)]
        ts = [torch.tensor(x, requires_grad=True), torch.tensor(src, requires_grad=True)]
        got = tg.index_reduce(xs[0], layout[1], tg.tensor(index), xs[1], reduce,
                              include_self=include_self)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (PyTorch's "in beta" warning)
            want = torch.index_reduce(ts[0], layout[1], torch.tensor(index), ts[1], reduce,
                                      include_self=include_self)
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy())
        w = np.random.default_rng(k).standard_normal(x.shape)
        (got * tg.tensor(w)).sum().backward()
        (want * torch.tensor(w)).sum().backward()
        # PyTorch's amax/amin share a source's gradient with an excluded input value that ties
        # the result (include_self=False): half of the true derivative; ours is the function's
        tie_quirk = not include_self and reduce in ("amax", "amin") and k == len(layouts) - 1
        for a, b in zip(xs, ts):
            if not (tie_quirk and a is xs[1]):
                np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-12)


@needs_torch
def test_index_reduce_methods_dtypes_and_errors_against_torch():
    warnings.simplefilter("ignore")

    def run(lib, f):
        x = lib.ones(3, 2, dtype=lib.float64)
        s = lib.arange(8.0, dtype=lib.float64).reshape(4, 2)
        try:
            return f(lib, x, lib.tensor([0, 2, 0, 2]), s).tolist()
        except Exception as e:  # noqa: BLE001 (the type and words are compared)
            return type(e).__name__, str(e)

    cases = [lambda lib, x, i, s: x.index_reduce_(0, i, s, "prod") and x,
             lambda lib, x, i, s: x.index_reduce(0, i, s, "mean", include_self=False),
             lambda lib, x, i, s: x.index_reduce(0, i, s, "sum"),
             lambda lib, x, i, s: x.index_reduce(0, i.double(), s, "prod"),
             lambda lib, x, i, s: x.index_reduce(0, i[:3], s, "prod"),
             lambda lib, x, i, s: x.index_reduce(0, i.reshape(2, 2), s.reshape(2, 2, 2), "prod"),
             lambda lib, x, i, s: x.index_reduce(0, lib.tensor([0, 5, 0, 1]), s, "prod"),
             lambda lib, x, i, s: x.index_reduce(0, i, s.to(lib.float16), "prod"),
             lambda lib, x, i, s: lib.tensor([[1, 7], [3, 2]]).index_reduce(
                 1, lib.tensor([0]), lib.tensor([[5], [1]]), "amax")]
    for f in cases:
        assert run(tg, f) == run(torch, f)


@needs_torch
@pytest.mark.parametrize("name", ["igamma", "igammac"])
def test_igamma_against_torch(name):
    a, x = np.array([0.5, 1.5, 2.0, 7.0]), np.array([0.3, 3.0, 2.0, 5.5])
    mine = tg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    got = getattr(tg, name)(tg.tensor(a), mine)
    want = getattr(torch, name)(torch.tensor(a), theirs)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12)
    got.sum().backward()
    want.sum().backward()
    np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)
    special = {"igamma": "gammainc", "igammac": "gammaincc"}[name]
    np.testing.assert_allclose(getattr(tg.special, special)(tg.tensor(a), tg.tensor(x)).numpy(),
                               want.detach().numpy(), rtol=1e-12)
    inplace = tg.tensor(a)
    getattr(inplace, name + "_")(tg.tensor(x))
    np.testing.assert_allclose(inplace.numpy(), want.detach().numpy(), rtol=1e-12)
    f32 = getattr(tg.tensor(a, dtype=tg.float32), name)(tg.tensor(x, dtype=tg.float32))
    assert f32.dtype == tg.float32

    def error(lib, f):
        try:
            f(lib)
        except Exception as e:  # noqa: BLE001 (the type and words are compared)
            return type(e).__name__, str(e)

    for f in (lambda lib: getattr(lib, name)(lib.tensor([1, 2]), lib.tensor([1, 2])),
              lambda lib: getattr(lib, name)(lib.tensor([1.5], requires_grad=True),
                                             lib.tensor([1.0])).sum().backward()):
        assert error(tg, f) == error(torch, f)


@pytest.mark.parametrize("name", ["igamma", "igammac"])
def test_igamma_gradients_in_x(name):
    pytest.importorskip("scipy")
    a = tg.tensor([0.5, 1.5, 2.0, 7.0])
    check_op(lambda x: getattr(tg, name)(a, x), [np.array([0.3, 3.0, 2.0, 5.5])])
