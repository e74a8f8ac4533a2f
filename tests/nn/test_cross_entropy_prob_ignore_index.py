"""Cross-entropy with class-probability targets refuses a non-negative ``ignore_index`` as
PyTorch does (a negative one, the default -100 included, is accepted: no class has it)."""

import numpy as np
import pytest

import tapegrad as tg

X = np.random.default_rng(0).standard_normal((3, 4))
P = np.random.default_rng(1).dirichlet(np.ones(4), 3)
X3 = np.random.default_rng(2).standard_normal((2, 4, 3))
P3 = np.random.default_rng(3).dirichlet(np.ones(4), (2, 3)).transpose(0, 2, 1).copy()


def _outcomes(lib):
    out = []
    for x, p, ii in [(X, P, -100), (X, P, -1), (X, P, 1), (X3, P3, 0), (X3, P3, -5)]:
        try:
            out.append(round(lib.nn.functional.cross_entropy(
                lib.tensor(x), lib.tensor(p), ignore_index=ii).item(), 12))
        except RuntimeError as e:
            out.append(str(e))
    return out


def test_probability_targets_refuse_a_class_index_to_ignore():
    out = _outcomes(tg)
    assert out[0] == out[1] and out[3] == out[2] == (
        "ignore_index is not supported for floating point target")
    assert isinstance(out[4], float)
    with pytest.raises(RuntimeError, match="ignore_index is not supported"):
        tg.nn.CrossEntropyLoss(ignore_index=2)(tg.tensor(X), tg.tensor(P))


def test_probability_targets_match_torch(torch):
    assert _outcomes(tg) == _outcomes(torch)
