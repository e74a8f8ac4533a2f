"""tg.compile of F.cross_entropy and F.nll_loss with class-index targets: compiled and eager
agree (values, gradients, parameter updates) as inputs and targets change, gradients of any
order stay compiled, and a target out of range gives eager's error."""

import warnings

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as F

R = np.random.default_rng(7)


def _np(v):
    return v.detach().numpy() if isinstance(v, tg.Tensor) else np.asarray(v)


def _close(a, b):
    np.testing.assert_allclose(_np(b), _np(a), rtol=1e-9, atol=1e-12)


def _classifier(loss_name, **kw):
    """A linear classifier's SGD step with the given loss; returns (step, weight)."""
    W0 = R.standard_normal((5, 4)) * 0.5

    def make():
        w = tg.tensor(W0, requires_grad=True)

        def step(x, t):
            w.grad = None
            z = x @ w
            if loss_name == "nll":
                loss = F.nll_loss(F.log_softmax(z, dim=-1), t, **kw)
            else:
                loss = F.cross_entropy(z, t, **kw)
            loss.sum().backward()
            with tg.no_grad():
                w.sub_(0.1 * w.grad)
            return loss.detach()

        return step, w

    return make


@pytest.mark.parametrize("loss_name", ["ce", "nll"])
@pytest.mark.parametrize("kw", [{}, {"reduction": "sum"}, {"reduction": "none"},
                                {"ignore_index": 2}, {"ignore_index": 1, "reduction": "none"}])
def test_loss_matches_eager_as_inputs_and_targets_change(loss_name, kw):
    make = _classifier(loss_name, **kw)
    fe, we = make()
    fc, wc = make()
    step = tg.compile(fc)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # compiled, not run eagerly
        for _ in range(4):
            x = tg.tensor(R.standard_normal((6, 5)))
            t = tg.tensor(R.integers(0, 4, 6))
            _close(fe(x, t), step(x, t))
            _close(we, wc)
            _close(we.grad, wc.grad)
    assert step._count == 1


def test_all_targets_ignored_gives_nan_and_zero_gradient_like_eager():
    make = _classifier("ce", ignore_index=3)
    fe, we = make()
    fc, wc = make()
    step = tg.compile(fc)
    x = tg.tensor(R.standard_normal((3, 5)))
    step(x, tg.tensor([0, 1, 2]))
    fe(x, tg.tensor([0, 1, 2]))
    t = tg.tensor([3, 3, 3])
    assert np.isnan(fe(x, t).item()) and np.isnan(step(x, t).item())
    _close(we.grad, wc.grad)
    assert not _np(wc.grad).any()
    assert step._count == 1


def test_target_out_of_range_fails_a_guard_and_raises_eagers_error():
    step = tg.compile(lambda x, t: F.cross_entropy(x, t))
    x = tg.tensor(R.standard_normal((4, 3)))
    _close(F.cross_entropy(x, tg.tensor([0, 1, 2, 0])).item(),
           step(x, tg.tensor([0, 1, 2, 0])).item())
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        step(x, tg.tensor([0, 3, 2, 0]))
    strict = tg.compile(lambda x, t: F.cross_entropy(x, t), fullgraph=True)
    strict(x, tg.tensor([0, 1, 2, 0]))
    with pytest.raises(RuntimeError, match="target is out of range"):
        strict(x, tg.tensor([0, 5, 2, 0]))


def test_one_dim_input_and_numpy_targets():
    x = tg.tensor(R.standard_normal(4), requires_grad=True)

    def f(x, t):
        loss = F.cross_entropy(x, t)
        (g,) = tg.autograd.grad(loss, x)
        return loss, g

    step = tg.compile(f)
    for c in (1, 3, 0):
        t = np.array(c)
        (le, ge), (lc, gc) = f(x, t), step(x, t)
        _close(le.item(), lc.item())
        _close(ge, gc)
    assert step._count == 1


def test_second_order_through_the_loss_is_compiled_and_matches_eager():
    """Hessian-vector product of the cross-entropy in the logits (double backward)."""
    def f(z, t, v):
        loss = F.cross_entropy(z, t)
        (g,) = tg.autograd.grad(loss, z, create_graph=True)
        (h,) = tg.autograd.grad((g * v).sum(), z)
        return h

    z = tg.tensor(R.standard_normal((5, 3)), requires_grad=True)
    step = tg.compile(f, fullgraph=True)
    for _ in range(3):
        t = tg.tensor(R.integers(0, 3, 5))
        v = tg.tensor(R.standard_normal((5, 3)))
        _close(f(z, t, v), step(z, t, v))
    assert step._count == 1


def test_nll_grad_and_its_vjp_match_finite_differences():
    """The two primitives are each other's VJP: checked in float64 by finite differences
    through outputs that require grad (the replay's reverse sweep as their VJP)."""
    t = tg.tensor([2, 0, 1, 1])
    for red in ("mean", "sum", "none"):
        step = tg.compile(lambda z, red=red: F.nll_loss(z, t, reduction=red))
        z = tg.tensor(R.standard_normal((4, 3)), requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            step(z)
            assert tg.autograd.gradcheck(step, (z,))
            assert tg.autograd.gradgradcheck(step, (z,))
        assert step._count == 1


def test_against_torch():
    torch = pytest.importorskip("torch")
    x = R.standard_normal((6, 4))
    t = R.integers(0, 4, 6)
    z = tg.tensor(x, requires_grad=True)
    zt = torch.tensor(x, requires_grad=True)

    def f(z, t):
        loss = F.cross_entropy(z, t, ignore_index=1)
        loss.backward()
        return loss.detach()

    step = tg.compile(f)
    step(z, tg.tensor(t))
    z.grad = None
    lc = step(z, tg.tensor(t))
    lt = torch.nn.functional.cross_entropy(zt, torch.tensor(t), ignore_index=1)
    lt.backward()
    _close(lt.item(), lc.item())
    _close(zt.grad, z.grad)
