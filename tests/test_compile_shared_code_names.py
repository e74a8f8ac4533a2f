"""A compiled function running an op built by a closure factory of elementwise ops that
tg.compile does not replay (atan, asin, erf: the exact GELU) runs eagerly with a warning that
named the closure's derivative, '<lambda> (code several ops share) is not supported', a name
that points nowhere; it now names the op ('atan is not supported'); erf is replayed (no
warning). Values and gradients against PyTorch, finite differences."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

X = np.linspace(-0.9, 0.9, 7)


@pytest.mark.parametrize("name, tg_f, torch_f", [
    ("atan", tg.atan, torch.atan),
    ("asin", tg.asin, torch.asin),
    ("erf", lambda x: tg.nn.functional.gelu(x), lambda x: torch.nn.functional.gelu(x)),
])
def test_warning_names_the_op(name, tg_f, torch_f):
    fn = tg.compile(lambda x: (tg_f(x) * x).sum())
    for shift in (0.0, 0.05):
        gx = tg.tensor(X + shift, requires_grad=True)
        tx = torch.tensor(X + shift, requires_grad=True)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            out = fn(gx)
        want = (torch_f(tx) * tx).sum()
        out.backward()
        want.backward()
        np.testing.assert_allclose(out.item(), want.item(), rtol=1e-12)
        np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
        msgs = [str(w.message) for w in seen]
        if shift == 0.0:  # (one warning, on the first call)
            if name == "erf":
                assert msgs == []
            else:
                assert len(msgs) == 1 and \
                    f"runs eagerly: {name} is not supported by tg.compile yet" in msgs[0], msgs
    assert tg.autograd.gradcheck(fn, (tg.tensor(X, requires_grad=True),))
