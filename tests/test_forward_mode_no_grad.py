"""Forward mode ignores grad mode, as PyTorch's does: ops under ``no_grad`` (or
``set_grad_enabled(False)``) inside ``jvp``/``jacfwd``/``linearize``/``forward_ad`` carry
tangents (forward-only records), while reverse mode still treats their values as constants;
``inference_mode`` and ``detach`` stop tangents."""

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.autograd.forward_ad as fwAD
from tapegrad.func import hessian, jacfwd, jacrev, jvp, linearize

X = [1.0, 2.0, 3.0]
V = [1.0, 0.5, 0.25]


def _x(lib):
    return lib.tensor(X, dtype=lib.float64)


def _v(lib):
    return lib.tensor(V, dtype=lib.float64)


def square_by_constant(lib):
    """``c * x`` with ``c = 2x`` made under no_grad: tangent ``4 x v``, reverse slope ``2x``."""
    def f(x):
        with lib.no_grad():
            c = x * 2
        return c * x
    return f


def sine_off(lib):
    def f(x):
        with lib.set_grad_enabled(False):
            y = x.sin()
        return y * 1.0
    return f


def exp_nested(lib):
    def f(x):
        with lib.no_grad():
            with lib.enable_grad():
                y = x.exp()
            z = (y * 3).sum(0, keepdim=True)
        return z * x
    return f


def reduction_off(lib):
    def f(x):
        with lib.no_grad():
            m = (x * x).mean()
        return x - m
    return f


CASES = [square_by_constant, sine_off, exp_nested, reduction_off]


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a.detach().numpy()), b.detach().numpy(), rtol=1e-12,
                               atol=1e-14)


def test_jvp_through_no_grad_exact():
    x, v = _x(tg), _v(tg)
    out, tan = jvp(square_by_constant(tg), (x,), (v,))
    np.testing.assert_array_equal(out.numpy(), [2.0, 8.0, 18.0])
    np.testing.assert_array_equal(tan.numpy(), [4.0, 4.0, 3.0])  # 4 x v
    _, tan = jvp(reduction_off(tg), (x,), (v,))
    # d(x - mean(x^2)) = v - 2 mean(x v) = v - 2 * 2.75 / 3
    np.testing.assert_allclose(tan.numpy(), np.array(V) - 11.0 / 6.0, rtol=1e-15)


def test_jacfwd_through_no_grad_and_reverse_mode_unchanged():
    x = _x(tg)
    np.testing.assert_array_equal(jacfwd(square_by_constant(tg))(x).numpy(),
                                  np.diag([4.0, 8.0, 12.0]))
    # reverse mode: the no_grad value is a constant
    np.testing.assert_array_equal(jacrev(square_by_constant(tg))(x).numpy(),
                                  np.diag([2.0, 4.0, 6.0]))
    # forward over reverse: the constant's tangent reaches the gradient (PyTorch: 2 I)
    def total(x):
        return square_by_constant(tg)(x).sum()
    np.testing.assert_array_equal(jacfwd(jacrev(total))(x).numpy(), 2.0 * np.eye(3))
    # hessian without an enclosing transform is reverse over reverse: a constant in both
    np.testing.assert_array_equal(hessian(total)(x).numpy(), np.zeros((3, 3)))


def test_linearize_through_no_grad():
    _, jfn = linearize(square_by_constant(tg), _x(tg))
    np.testing.assert_array_equal(jfn(_v(tg)).numpy(), [4.0, 4.0, 3.0])


def test_double_vjp_path_follows_no_grad():
    """A tangent that requires grad takes the double-vjp trick: it goes through no_grad too."""
    v = _v(tg).requires_grad_()
    _, tan = jvp(square_by_constant(tg), (_x(tg),), (v,))
    np.testing.assert_array_equal(tan.detach().numpy(), [4.0, 4.0, 3.0])
    (g,) = tg.autograd.grad(tan.sum(), v)
    np.testing.assert_array_equal(g.numpy(), [4.0, 8.0, 12.0])


def test_grad_mode_reads_off_inside_and_restored_after():
    seen = []

    def f(x):
        with tg.no_grad():
            seen.append(tg.is_grad_enabled())
            with tg.enable_grad():
                seen.append(tg.is_grad_enabled())
            y = x * 2
        seen.append(tg.is_grad_enabled())
        return y
    with tg.no_grad():
        _, tan = jvp(f, (_x(tg),), (_v(tg),))
        assert not tg.is_grad_enabled()
        assert (tg.ones(2, requires_grad=True) * 2).grad_fn is None
    assert seen == [False, True, True]
    np.testing.assert_array_equal(tan.numpy(), 2.0 * np.array(V))
    assert tg.is_grad_enabled()


def test_inference_mode_and_detach_stop_tangents():
    def inf(x):
        with tg.inference_mode():
            y = x * 2
        return y

    def det(x):
        return x.detach() * 2
    for f in (inf, det):
        _, tan = jvp(f, (_x(tg),), (_v(tg),))
        np.testing.assert_array_equal(tan.numpy(), [0.0, 0.0, 0.0])


def test_forward_ad_dual_keeps_tangent_under_no_grad():
    with fwAD.dual_level():
        d = fwAD.make_dual(_x(tg), _v(tg))
        with tg.no_grad():
            y = d * d
        np.testing.assert_array_equal(fwAD.unpack_dual(y).tangent.numpy(), [2.0, 2.0, 1.5])
        np.testing.assert_array_equal(fwAD.unpack_dual(y + 1).tangent.numpy(),
                                      [2.0, 2.0, 1.5])
    # a level entered under no_grad: forward mode works there too
    with tg.no_grad():
        with fwAD.dual_level():
            d = fwAD.make_dual(_x(tg), _v(tg))
            np.testing.assert_array_equal(fwAD.unpack_dual(d * 3).tangent.numpy(),
                                          3.0 * np.array(V))
        assert not tg.is_grad_enabled()


def test_backward_stops_at_no_grad_values_inside_a_level():
    xr = _x(tg).requires_grad_()
    with fwAD.dual_level():
        d = fwAD.make_dual(xr, _v(tg))
        with tg.no_grad():
            y = d * d
        z = (y * d).sum()
        np.testing.assert_allclose(float(fwAD.unpack_dual(z).tangent.detach()), 15.75, rtol=1e-15)
        z.backward()
    np.testing.assert_array_equal(xr.grad.numpy(), [1.0, 4.0, 9.0])  # y counts as constant


def test_in_place_under_no_grad():
    """A tensor with history takes the new value's tangent; a captured leaf (a buffer, a
    parameter) changed in place is PyTorch's captured-tensor error, and keeps its value."""
    buf, p = tg.zeros(3, dtype=tg.float64), tg.ones(3, dtype=tg.float64, requires_grad=True)

    def f(x):
        w = x * 1
        with tg.no_grad():
            w.mul_(3)
        return w * 1
    _, tan = jvp(f, (_x(tg),), (_v(tg),))
    np.testing.assert_array_equal(tan.numpy(), 3.0 * np.array(V))
    for t in (buf, p):
        def g(x, t=t):
            with tg.no_grad():
                t.add_(x * 2)
            return x * 1
        with pytest.raises(RuntimeError, match="that would mutate a captured Tensor"):
            jvp(g, (_x(tg),), (_v(tg),))
    np.testing.assert_array_equal(buf.numpy(), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(p.detach().numpy(), [1.0, 1.0, 1.0])
    assert not buf.requires_grad and buf.grad_fn is None
    assert p.is_leaf and p.requires_grad and p.grad_fn is None


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_matches_torch(case):
    torch = pytest.importorskip("torch")
    from torch.func import jacfwd as t_jacfwd, jvp as t_jvp

    out, tan = jvp(case(tg), (_x(tg),), (_v(tg),))
    t_out, t_tan = t_jvp(case(torch), (_x(torch),), (_v(torch),))
    _close(out, t_out)
    _close(tan, t_tan)
    _close(jacfwd(case(tg))(_x(tg)), t_jacfwd(case(torch))(_x(torch)))
    with fwAD.dual_level():
        got = fwAD.unpack_dual(case(tg)(fwAD.make_dual(_x(tg), _v(tg)))).tangent
    import torch.autograd.forward_ad as t_fwAD

    with t_fwAD.dual_level():
        want = t_fwAD.unpack_dual(case(torch)(t_fwAD.make_dual(_x(torch), _v(torch)))).tangent
    _close(got, want)


def test_batch_norm_training_under_jacfwd_matches_torch():
    """Running statistics updated once (under no_grad), the Jacobian that of the batch
    statistics, as PyTorch's module called once."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((4, 3))
    bn = tg.nn.BatchNorm1d(3, affine=False).double()
    t_bn = torch.nn.BatchNorm1d(3, affine=False).double()
    t_x = torch.tensor(xs)
    with pytest.raises(RuntimeError) as e:  # its buffers are captured: PyTorch's error
        jacfwd(bn)(tg.tensor(xs))
    with pytest.raises(RuntimeError) as t_e:
        torch.func.jacfwd(t_bn)(t_x)
    assert str(e.value) == str(t_e.value)
    # the buffers passed in are the function's own
    jac = jacfwd(lambda x, b: tg.func.functional_call(bn, b, (x,)))(
        tg.tensor(xs), dict(bn.named_buffers()))
    want = torch.autograd.functional.jacobian(
        lambda a: torch.nn.functional.batch_norm(a, None, None, training=True), t_x)
    t_bn(t_x)
    _close(jac, want)
    _close(bn.running_mean, t_bn.running_mean)
    _close(bn.running_var, t_bn.running_var)
    assert int(bn.num_batches_tracked) == int(t_bn.num_batches_tracked) == 1
