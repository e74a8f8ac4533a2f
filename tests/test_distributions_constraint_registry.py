"""biject_to / transform_to: the transform onto each constraint's set, compared with PyTorch's
(values, inverse, log|det J| and gradients), and the lookup errors."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.distributions import biject_to, constraints, transform_to

torch = pytest.importorskip("torch")
tC = torch.distributions.constraints


def _pair(lib):
    C = lib.distributions.constraints
    return {
        "real": (C.real, [0.3, -2.0, 1.0]),
        "positive": (C.positive, [0.3, -2.0, 1.0]),
        "nonnegative": (C.nonnegative, [0.3, -2.0, 1.0]),
        "greater_than": (C.greater_than(1.5), [0.3, -2.0, 1.0]),
        "greater_than_eq": (C.greater_than_eq(-1.5), [0.3, -2.0, 1.0]),
        "less_than": (C.less_than(2.0), [0.3, -2.0, 1.0]),
        "unit_interval": (C.unit_interval, [0.3, -2.0, 1.0]),
        "interval": (C.interval(-1.0, 3.0), [0.3, -2.0, 1.0]),
        "half_open_interval": (C.half_open_interval(1.0, 2.0), [0.3, -2.0, 1.0]),
        "simplex": (C.simplex, [0.3, -2.0, 1.0]),
        "real_vector": (C.real_vector, [0.3, -2.0, 1.0]),
        "independent": (C.independent(C.positive, 1), [0.3, -2.0, 1.0]),
        "corr_cholesky": (C.corr_cholesky, [0.3, -2.0, 1.0]),
        "lower_cholesky": (C.lower_cholesky, [[0.3, 0.0], [-2.0, 1.0]]),
        "positive_definite": (C.positive_definite, [[0.3, 0.0], [-2.0, 1.0]]),
        "cat": (C.cat([C.positive, C.real], 0, [2, 1]), [0.3, -2.0, 1.0]),
        "stack": (C.stack([C.positive, C.unit_interval, C.real], 0), [0.3, -2.0, 1.0]),
    }


def _run(lib, registry, name):
    constraint, x = _pair(lib)[name]
    x = lib.tensor(x, dtype=lib.float64, requires_grad=True)
    t = registry(constraint)
    y = t(x)
    out = [y]
    if registry is biject_to or registry is torch.distributions.biject_to or \
            name in ("simplex", "real", "positive"):
        out.append(t.inv(y))
    try:
        out.append(t.log_abs_det_jacobian(x, y))
    except NotImplementedError:  # (softmax, lower_cholesky, positive_definite: no bijection)
        pass
    total = sum((o * (i + 1.0)).sum() for i, o in enumerate(out))
    (g,) = lib.autograd.grad(total, [x])
    assert bool(constraint.check(y).all())
    return [o.detach().numpy() for o in out] + [g.numpy()], type(t).__name__, t.bijective


@pytest.mark.parametrize("which", ["biject_to", "transform_to"])
@pytest.mark.parametrize("name", list(_pair(tg)))
def test_registry_transform_as_torch(which, name):
    ours = {"biject_to": biject_to, "transform_to": transform_to}[which]
    theirs = getattr(torch.distributions, which)
    try:
        theirs(_pair(torch)[name][0])
    except NotImplementedError as e:
        with pytest.raises(NotImplementedError, match=str(e)):
            ours(_pair(tg)[name][0])
        return
    expect = _run(torch, theirs, name)
    got = _run(tg, ours, name)
    assert got[1:] == expect[1:]
    assert len(got[0]) == len(expect[0])
    for a, b in zip(got[0], expect[0]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_unregistered_constraint_and_bad_registration():
    with pytest.raises(NotImplementedError, match="Cannot transform _IntegerInterval constraints"):
        biject_to(constraints.integer_interval(0, 3))
    with pytest.raises(TypeError, match="Expected constraint to be either a Constraint subclass"):
        biject_to.register(3, lambda c: None)


def test_register_custom_constraint_and_distribution_params():
    class Even(constraints.Constraint):
        pass

    @transform_to.register(Even)
    def _even(constraint):
        return tg.distributions.transforms.AffineTransform(0.0, 2.0)

    assert float(transform_to(Even())(tg.tensor(1.5))) == 3.0
    # the usual use: an unconstrained parameter mapped onto a distribution's argument set
    u = tg.tensor([-1.0, 0.5], requires_grad=True)
    scale = transform_to(tg.distributions.Normal.arg_constraints["scale"])(u)
    tg.distributions.Normal(tg.tensor(0.0), scale).log_prob(tg.tensor(1.0)).sum().backward()
    ut = torch.tensor([-1.0, 0.5], dtype=torch.float64, requires_grad=True)
    st = torch.distributions.transform_to(torch.distributions.Normal.arg_constraints["scale"])(ut)
    torch.distributions.Normal(torch.tensor(0.0, dtype=torch.float64), st).log_prob(
        torch.tensor(1.0, dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose(u.grad.numpy(), ut.grad.numpy(), rtol=1e-12)
