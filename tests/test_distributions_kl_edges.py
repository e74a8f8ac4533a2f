"""kl_divergence where a parameter sits on its support's edge (probabilities 0 and 1): the
infinite and zero terms PyTorch gives, and their gradients."""

import itertools

import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("a,b", list(itertools.product([0.0, 1.0, 0.3], [0.0, 1.0, 0.3])))
def test_bernoulli_kl_at_probs_zero_and_one(a, b):
    x = tg.tensor([a], requires_grad=True)
    r = tg.distributions.kl_divergence(tg.distributions.Bernoulli(x),
                                       tg.distributions.Bernoulli(tg.tensor([b])))
    xt = torch.tensor([a], dtype=torch.float64, requires_grad=True)
    rt = torch.distributions.kl_divergence(torch.distributions.Bernoulli(xt),
                                           torch.distributions.Bernoulli(
                                               torch.tensor([b], dtype=torch.float64)))
    assert float(r.detach()[0]) == pytest.approx(float(rt.detach()[0]), rel=1e-12, abs=1e-14)
    r.sum().backward()
    rt.sum().backward()
    assert float(x.grad[0]) == pytest.approx(float(xt.grad[0]), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("args", [("Normal", 3), (3, "Normal")])
def test_register_kl_refuses_non_classes_as_torch(args):
    def call(lib):
        return lib.distributions.register_kl(
            *[getattr(lib.distributions, a) if isinstance(a, str) else a for a in args])
    with pytest.raises(TypeError) as theirs:
        call(torch)
    with pytest.raises(TypeError) as ours:
        call(tg)
    assert str(ours.value) == str(theirs.value)
