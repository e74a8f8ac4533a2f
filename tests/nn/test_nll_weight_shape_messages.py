"""Class weights of the wrong length in nll_loss/cross_entropy, in PyTorch's words: its 2-d
kernel's message for inputs of 1 or 2 dims, its spatial kernel's shorter one for 3 or more,
and cross_entropy's own (prefixed) for class-probability targets."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (4,), (2, 4, 3), (2, 4, 3, 2), (1, 4, 1, 2, 2)]


def _outcome(lib, shape, form, wlen):
    F = lib.nn.functional
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal(shape))
    cshape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    t = lib.tensor(rng.integers(0, 4, cshape))
    w = lib.tensor(rng.random(wlen))
    p = rng.random(shape)
    probs = lib.tensor(p / p.sum(axis=1 if len(shape) > 1 else 0, keepdims=True))
    try:
        if form == "nll":
            out = F.nll_loss(x, t, w)
        elif form == "ce":
            out = F.cross_entropy(x, t, w)
        elif form == "smooth":
            out = F.cross_entropy(x, t, w, label_smoothing=0.1)
        else:
            out = F.cross_entropy(x, probs, w)
        return ("ok", round(float(out), 10))
    except RuntimeError as e:
        return ("error", str(e))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("form", ["nll", "ce", "smooth", "probs"])
@pytest.mark.parametrize("wlen", [5, 3, 4])
def test_weight_length_as_pytorch(shape, form, wlen):
    assert _outcome(tg, shape, form, wlen) == _outcome(torch, shape, form, wlen)
