"""vmap of the torch-named shape functions, NumPy ufuncs and compositions without a rule of
their own: each example's result, with no per-example loop (no warning)."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

F = tg.nn.functional
X = np.random.default_rng(3).standard_normal((4, 3, 5))

CASES = [
    ("swapaxes", lambda a: tg.swapaxes(a, 0, 1)), ("swapdims", lambda a: tg.swapdims(a, -1, 0)),
    ("movedim", lambda a: tg.movedim(a, 0, -1)), ("movedim_pairs", lambda a: tg.movedim(
        a[None], (0, 2), (2, 0))),
    ("narrow", lambda a: tg.narrow(a, 1, 1, 3)), ("narrow_neg", lambda a: a.narrow(-2, 0, 2)),
    ("roll_dims", lambda a: tg.roll(a, (1, -2), (0, 1))), ("roll_flat", lambda a: tg.roll(a, 4)),
    ("tril", lambda a: tg.tril(a, -1)), ("triu", lambda a: tg.triu(a, 1)),
    ("diag_embed", lambda a: tg.diag_embed(a)),
    ("diag_embed_dims", lambda a: tg.diag_embed(a, 1, 0, 2)),
    ("cummax", lambda a: tg.cummax(a, 1)[0]), ("cummin_indices", lambda a: tg.cummin(a, 0)[1]),
    ("np_sin", lambda a: np.sin(a)), ("np_exp_add", lambda a: np.exp(a) + np.tanh(a)),
    # functions without a rule of their own that are compositions of ops with one
    ("diff", lambda a: tg.diff(a, dim=1)), ("select", lambda a: a.select(1, 2)),
    ("type_as", lambda a: a.type_as(a) * 2),
]


@pytest.mark.parametrize("name,f", CASES, ids=[c[0] for c in CASES])
def test_vmap_matches_each_example_without_a_loop(name, f):
    x = tg.tensor(X, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the per-example fallback warns
        out = tg.vmap(f)(x)
    want = np.stack([f(tg.tensor(X[i])).numpy() for i in range(len(X))])
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-13, atol=1e-13)
    if out.requires_grad:  # one backward through the batch gives every example's gradient
        w = np.random.default_rng(0).standard_normal(out.shape)
        g, = tg.autograd.grad((out * tg.tensor(w)).sum(), x)
        for i in range(len(X)):
            xi = tg.tensor(X[i], requires_grad=True)
            gi, = tg.autograd.grad((f(xi) * tg.tensor(w[i])).sum(), xi)
            np.testing.assert_allclose(g[i].numpy(), gi.numpy(), rtol=1e-12, atol=1e-13)


def test_out_of_range_dims_raise_as_per_example():
    with pytest.raises(IndexError, match="Dimension out of range"):
        tg.vmap(lambda a: tg.narrow(a, 2, 0, 1))(tg.tensor(X))
    with pytest.raises(IndexError, match="Dimension out of range"):
        tg.vmap(lambda a: tg.movedim(a, 0, 3))(tg.tensor(X))
