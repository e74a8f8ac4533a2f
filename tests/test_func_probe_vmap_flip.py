"""``x.flip(0, 1)`` (dims as separate arguments, PyTorch's method form) inside ``vmap``: its
batching rule took one ``dims`` argument and raised TypeError for two; every spelling now
flips each example as flipping it alone does."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

X = np.random.default_rng(0).standard_normal((3, 4, 5))
FORMS = {
    "method_varargs": lambda m, a: a.flip(0, 1),
    "method_one_int": lambda m, a: a.flip(-1),
    "function_list": lambda m, a: m.flip(a, [0, 1]),
    "keyword": lambda m, a: a.flip(dims=(1,)),
    "method_tuple": lambda m, a: a.flip((0, -1)),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_flip_in_vmap_is_each_example_flipped(form):
    f = FORMS[form]
    x = tg.tensor(X, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (the batching rule, not the per-example loop)
        out = tg.func.vmap(lambda a: f(tg, a))(x)
    want = tg.stack([f(tg, x[b]) for b in range(3)])
    np.testing.assert_array_equal(out.detach().numpy(), want.detach().numpy())
    assert tg.autograd.gradcheck(lambda x: tg.func.vmap(lambda a: f(tg, a).sin())(x), (x,))


@pytest.mark.parametrize("form", sorted(FORMS))
def test_flip_in_vmap_against_torch(form):
    torch = pytest.importorskip("torch")
    f = FORMS[form]
    got = tg.func.vmap(lambda a: f(tg, a))(tg.tensor(X)).numpy()
    want = torch.func.vmap(lambda a: f(torch, a))(torch.tensor(X)).numpy()
    np.testing.assert_array_equal(got, want)
