"""Class attributes that code written for torch.distributions reads on every distribution."""

import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

CASES = [("Normal", (0.0, 1.0)), ("Gamma", (2.0, 1.0)), ("Beta", (2.0, 3.0)),
         ("Poisson", (2.0,)), ("Geometric", (0.3,)), ("NegativeBinomial", (5.0, 0.3)),
         ("ContinuousBernoulli", (0.3,)), ("VonMises", (0.0, 1.0)), ("Bernoulli", (0.3,)),
         ("Categorical", ([0.2, 0.8],)), ("Binomial", (5, 0.3))]


@pytest.mark.parametrize("name,args", CASES)
def test_has_enumerate_support_as_torch(name, args):
    d = getattr(tg.distributions, name)(*[tg.tensor(a) for a in args])
    ref = getattr(torch.distributions, name)(*[torch.tensor(a) for a in args])
    assert d.has_enumerate_support is ref.has_enumerate_support
    assert type(d).has_enumerate_support is type(ref).has_enumerate_support
