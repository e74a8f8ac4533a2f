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


def test_missing_attribute_message_as_torch():
    makers = [lambda lib: lib.distributions.Categorical(probs=lib.tensor([0.5, 0.5])),
              lambda lib: lib.distributions.Bernoulli(logits=lib.tensor([0.5])),
              lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2), lib.eye(2)),
              lambda lib: lib.distributions.LowRankMultivariateNormal(
                  lib.zeros(2), lib.ones(2, 1), lib.ones(2))]
    for make in makers:
        with pytest.raises(AttributeError) as theirs:
            make(torch).param
        with pytest.raises(AttributeError) as ours:
            make(tg).param
        assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("ndims", [0, 1])
def test_independent_enumerate_support_as_torch(ndims):
    probs = [[0.3, 0.6]]
    d = tg.distributions.Independent(tg.distributions.Bernoulli(tg.tensor(probs)), ndims)
    ref = torch.distributions.Independent(torch.distributions.Bernoulli(torch.tensor(probs)),
                                          ndims)
    assert d.has_enumerate_support is ref.has_enumerate_support
    if ndims:
        with pytest.raises(NotImplementedError,
                           match="Enumeration over cartesian product is not implemented"):
            d.enumerate_support()
        return
    for expand in (True, False):
        assert d.enumerate_support(expand).numpy().tolist() == \
            ref.enumerate_support(expand).numpy().tolist()


def test_constraint_check_returns_bool_tensor_as_torch():
    C, tC = tg.distributions.constraints, torch.distributions.constraints
    cases = [("positive", [0.0, 1.0]), ("simplex", [[0.5, 0.5], [0.5, 0.6]]),
             ("unit_interval", [0.0, 1.0, 1.1]), ("nonnegative_integer", [0.0, 1.5]),
             ("lower_cholesky", [[1.0, 0.0], [1.0, 1.0]]), ("real_vector", [[1.0, 2.0]]),
             ("positive_definite", [[1.0, 0.0], [0.0, 1.0]]), ("boolean", [0.0, 2.0])]
    for name, value in cases:
        ok = getattr(C, name).check(tg.tensor(value))
        ref = getattr(tC, name).check(torch.tensor(value))
        assert isinstance(ok, tg.Tensor) and ok.dtype == tg.bool, name
        assert ok.numpy().tolist() == ref.numpy().tolist(), name
        assert ok.float().mean().item() == ref.float().mean().item(), name
    ok = C.independent(C.interval(0.0, 2.0), 1).check(tg.tensor([[0.5, 3.0], [1.0, 1.5]]))
    assert isinstance(ok, tg.Tensor) and ok.numpy().tolist() == [False, True]


def _my_exponential(lib):
    C = lib.distributions.constraints

    class MyExp(lib.distributions.Distribution):
        arg_constraints = {"rate": C.positive}
        support = C.nonnegative

        def __init__(self, rate, validate_args=None):
            self.rate = rate
            super().__init__(rate.shape, validate_args=validate_args)

        def log_prob(self, value):
            return self.rate.log() - self.rate * value

        def expand(self, batch_shape, _instance=None):
            new = self._get_checked_instance(MyExp, _instance)
            new.rate = self.rate.expand(batch_shape)
            super(MyExp, new).__init__(batch_shape, validate_args=False)
            return new

    class Child(MyExp):
        def __init__(self, rate):
            super().__init__(rate)

    return MyExp, Child


def test_user_distribution_expand_through_get_checked_instance():
    def run(lib):
        MyExp, Child = _my_exponential(lib)
        d = MyExp(lib.tensor([1.0, 2.0], dtype=lib.float64)).expand((3, 2))
        out = [tuple(d.batch_shape), type(d).__name__,
               d.log_prob(lib.tensor(0.5, dtype=lib.float64)).numpy().tolist()]
        try:
            Child(lib.tensor([1.0])).expand((2, 1))
        except NotImplementedError as e:
            out.append(str(e))
        return out
    assert run(tg) == run(torch)


def test_sample_n_deprecated_as_torch():
    d = tg.distributions.Normal(tg.tensor([0.0, 1.0]), 1.0)
    with pytest.warns(FutureWarning, match=r"`sample_n\(n\)` will be deprecated"):
        s = d.sample_n(3)
    assert tuple(s.shape) == (3, 2)


def test_validation_honours_user_constraint_checks():
    # validation reads tapegrad's checks on the host directly; a check written by the user
    # (a subclass overriding check, returning a tensor or an array) is still the one asked
    from tapegrad.distributions import constraints

    class AtMostTwo(constraints._GreaterThan):
        def check(self, value):
            return value <= 2

    class Capped(tg.distributions.Normal):
        arg_constraints = {"loc": AtMostTwo(0.0), "scale": constraints.positive}

    Capped(tg.tensor([-5.0, 1.0]), 1.0)  # (the parent's check, > 0, would refuse -5)
    with pytest.raises(ValueError, match="parameter loc"):
        Capped(tg.tensor([3.0]), 1.0)
    with pytest.raises(ValueError, match="parameter scale"):
        tg.distributions.Normal(0.0, tg.tensor([1.0, -1.0]))
    assert constraints.host_check(AtMostTwo(0.0), tg.tensor([1.0, 3.0])).tolist() == [True, False]
    ok = constraints.positive.check(tg.tensor([1.0, -1.0]))
    assert isinstance(ok, tg.Tensor) and ok.tolist() == [True, False]


@pytest.mark.parametrize("lib_name", ["tg", "torch"])
def test_subclass_expand_keeps_what_it_set_on_the_instance(lib_name):
    lib = tg if lib_name == "tg" else torch

    class Tempered(lib.distributions.Gamma):
        def __init__(self, concentration, rate, temp, validate_args=None):
            self.temp = temp
            super().__init__(concentration, rate, validate_args=validate_args)

        def expand(self, batch_shape, _instance=None):
            new = self._get_checked_instance(Tempered, _instance)
            new.temp = self.temp * 10
            return super().expand(batch_shape, _instance=new)

    class Plain(lib.distributions.Normal):
        def __init__(self, loc, scale, validate_args=None):
            super().__init__(loc, scale, validate_args=validate_args)

    d = Tempered(lib.ones(1), lib.ones(1), 2.0).expand((3,))
    assert type(d) is Tempered and d.temp == 20.0 and tuple(d.batch_shape) == (3,)
    assert tuple(d.concentration.shape) == (3,) and tuple(d.sample().shape) == (3,)
    with pytest.raises(NotImplementedError, match="Subclass Plain of Normal that defines a "
                       "custom __init__ method must also define a custom .expand"):
        Plain(lib.zeros(1), 1.0).expand((3,))
