"""tg.autograd.functional: signatures, values, strict mode and errors, graphs."""

import inspect

import numpy as np
import pytest

import tapegrad as tg

F = tg.autograd.functional


def T(v, rg=False):
    return tg.tensor(v, requires_grad=rg)


def close(a, b):
    np.testing.assert_allclose(np.asarray(a.detach().numpy()), b, rtol=1e-12, atol=1e-12)


def test_signatures_match_torch(torch):
    for name in ("jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"):
        ours = inspect.signature(getattr(F, name))
        theirs = inspect.signature(getattr(torch.autograd.functional, name))
        assert list(ours.parameters) == list(theirs.parameters), name
        assert [p.default for p in ours.parameters.values()] == \
            [p.default for p in theirs.parameters.values()], name


def test_values():
    close(F.jacobian(lambda a: a ** 2, T([1., 2., 3.])), np.diag([2., 4., 6.]))
    j = F.jacobian(lambda a, b: a * b, (T([1., 2.]), T([3., 4.])))
    assert isinstance(j, tuple) and len(j) == 2
    close(j[0], np.diag([3., 4.]))
    close(j[1], np.diag([1., 2.]))
    close(F.hessian(lambda a: (a ** 3).sum(), T([1., 2.])), np.diag([6., 12.]))
    out, v = F.vjp(lambda a: a ** 2, T([1., 2.]), T([1., 1.]))
    close(out, [1., 4.])
    close(v, [2., 4.])
    out, v = F.jvp(lambda a: a ** 2, T([1., 2.]), T([1., 0.]))
    close(out, [1., 4.])
    close(v, [2., 0.])
    for fn in (F.hvp, F.vhp):
        out, v = fn(lambda a: (a ** 3).sum(), T([1., 2.]), T([1., 0.]))
        close(out, 9.0)
        close(v, [6., 0.])


def test_output_structures():
    # one input, tuple of outputs -> tuple over outputs
    j = F.jacobian(lambda a: (a * 2, a.sum()), T([1., 2.]))
    assert isinstance(j, tuple) and j[0].shape == (2, 2) and j[1].shape == (2,)
    # tuple in, tuple out -> [output][input]
    j = F.jacobian(lambda a, b: (a * b, (a + b).sum()), (T([1., 2.]), T([3., 4.])))
    assert len(j) == 2 and len(j[0]) == 2 and j[1][1].shape == (2,)
    close(j[1][1], [1., 1.])
    # matrix input: out.shape + in.shape
    j = F.jacobian(lambda a: a.sum(1), T(np.ones((2, 3))))
    assert j.shape == (2, 2, 3)
    h = F.hessian(lambda a, b: (a ** 2 * b).sum(), (T([1., 2.]), T([3., 4.])))
    close(h[0][0], np.diag([6., 8.]))
    close(h[0][1], np.diag([2., 4.]))
    close(h[1][1], np.zeros((2, 2)))
    out, v = F.vjp(lambda a, b: a * b, (T([1., 2.]), T([3., 4.])), T([1., 1.]))
    assert isinstance(v, tuple)
    close(v[0], [3., 4.])
    out, v = F.jvp(lambda a, b: (a * b, a + b), (T([1., 2.]), T([3., 4.])),
                   (T([1., 0.]), T([0., 1.])))
    close(v[0], [3., 2.])
    close(v[1], [1., 1.])


def test_strict_mode():
    close(F.jacobian(lambda a: tg.ones(2), T([1., 2.])), np.zeros((2, 2)))
    with pytest.raises(RuntimeError) as e:
        F.jacobian(lambda a: tg.ones(2), T([1., 2.]), strict=True)
    assert str(e.value) == ("Output 0 of the user-provided function does not require gradients. "
                            "The outputs must be computed in a differentiable manner from the "
                            "input when running in strict mode.")
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is "
                                           "independent of input 1"):
        F.jacobian(lambda a, b: a * 2, (T([1.]), T([2.])), strict=True)
    with pytest.raises(RuntimeError, match="independent of input 1. This is not allowed in "
                                           "strict mode."):
        F.vjp(lambda a, b: (a * 2).sum(), (T([1.]), T([2.])), strict=True)
    out, v = F.vjp(lambda a, b: (a * 2).sum(), (T([1.]), T([2.])))
    close(v[1], [0.])
    with pytest.raises(RuntimeError, match="strict=True` and `vectorized=True"):
        F.jacobian(lambda a: a, T([1.]), strict=True, vectorize=True)
    # vectorize is accepted and gives the same Jacobian
    close(F.jacobian(lambda a: a ** 2, T([1., 2.]), vectorize=True), np.diag([2., 4.]))


def test_option_refusals_in_pytorchs_order():
    """Forward mode refuses ``create_graph``, then ``strict``, then a missing ``vectorize``;
    reverse mode runs the function (strict mode's own errors first) before refusing
    ``strict`` with ``vectorize``, also inside ``hessian``."""
    x = T([1., 2.])
    with pytest.raises(NotImplementedError, match="`create_graph=True` and `strategy="):
        F.jacobian(lambda a: a ** 2, x, strategy="forward-mode", create_graph=True)
    for vectorize in (False, True):
        with pytest.raises(RuntimeError, match='`strict=True` and `strategy="forward-mode"` '
                                               'are not supported together'):
            F.jacobian(lambda a: a ** 2, x, strategy="forward-mode", strict=True,
                       vectorize=vectorize)
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not "
                                           "require gradients"):
        F.jacobian(lambda a: tg.ones(2), x, strict=True, vectorize=True)
    with pytest.raises(RuntimeError, match="found that the jacobian of the user-provided "
                                           "function with respect to input 0 is independent"):
        F.hessian(lambda a: a.sum(), x, strict=True, vectorize=True)
    with pytest.raises(RuntimeError, match="strict=True` and `vectorized=True"):
        F.hessian(lambda a: (a ** 3).sum(), x, strict=True, vectorize=True)


def test_errors():
    with pytest.raises(RuntimeError) as e:
        F.hessian(lambda a: a ** 2, T([1., 2.]))
    assert str(e.value) == ("The Tensor returned by the function given to hessian should "
                            "contain a single element")
    with pytest.raises(RuntimeError) as e:
        F.vjp(lambda a: a ** 2, T([1., 2.]))
    assert str(e.value) == ("The vector v can only be None if the user-provided function "
                            "returns a single Tensor with a single element.")
    with pytest.raises(RuntimeError, match="The vector v can only be None if the input to"):
        F.jvp(lambda a: a ** 2, T([1., 2.]))
    with pytest.raises(RuntimeError, match="The function given to hvp should return a single"):
        F.hvp(lambda a: (a.sum(), a.sum()), T([1.]), T([1.]))
    with pytest.raises(RuntimeError, match="v has invalid size"):
        F.vjp(lambda a: a ** 2, T([1., 2.]), T([1., 1., 1.]))
    with pytest.raises(RuntimeError, match="v is a tuple of invalid length: should be 2 but got 1"):
        F.jvp(lambda a, b: a * b, (T([1.]), T([2.])), (T([1.]),))
    with pytest.raises(TypeError, match="The inputs given to jacobian must be either a Tensor or "
                                        "a tuple of Tensors but the given inputs has type"):
        F.jacobian(lambda a: a, [1.0])
    # v=None is fine for single-element input/output
    out, v = F.vjp(lambda a: (a ** 2).sum(), T([3.]))
    close(v, [6.])
    out, v = F.hvp(lambda a: (a ** 3).sum(), T([2.]))
    close(v, [12.])


def test_create_graph_and_detached_results():
    x = T([1., 2.], rg=True)
    j = F.jacobian(lambda a: a ** 3, x)
    assert not j.requires_grad and j.grad_fn is None
    j = F.jacobian(lambda a: a ** 3, x, create_graph=True)
    assert j.requires_grad and j.grad_fn is not None
    g, = tg.autograd.grad(j.sum(), x)  # d/dx of sum(diag(3x^2)) = 6x
    close(g, [6., 12.])
    out, h = F.hvp(lambda a: (a ** 4).sum(), x, T([1., 1.]), create_graph=True)
    assert out.requires_grad and h.requires_grad
    g, = tg.autograd.grad(h.sum(), x)  # d/dx of 12 x^2 = 24 x
    close(g, [24., 48.])
    out, v = F.vjp(lambda a: a ** 2, x, T([1., 1.]))
    assert not out.requires_grad and not v.requires_grad
    # the caller's input is not modified and the user's grad mode is respected
    assert x.grad is None and tg.is_grad_enabled()


def test_against_torch(torch):
    rng = np.random.default_rng(1)
    A = rng.standard_normal((3, 3))
    x0, v0 = rng.standard_normal(3), rng.standard_normal(3)

    def f(lib, At):
        return lambda a: (lib.tanh(At @ a) ** 2).sum() + (a ** 3).sum()

    ft, fg = f(torch, torch.tensor(A)), f(tg, tg.tensor(A))
    tx, gx = torch.tensor(x0), tg.tensor(x0)
    tv, gv = torch.tensor(v0), tg.tensor(v0)
    close(F.hessian(fg, gx), torch.autograd.functional.hessian(ft, tx).numpy())
    for name in ("hvp", "vhp"):
        o, r = getattr(F, name)(fg, gx, gv)
        to, tr = getattr(torch.autograd.functional, name)(ft, tx, tv)
        close(o, to.item())
        close(r, tr.numpy())
    g = lambda lib, At: (lambda a: lib.sin(At @ a))  # noqa: E731
    close(F.jacobian(g(tg, tg.tensor(A)), gx),
          torch.autograd.functional.jacobian(g(torch, torch.tensor(A)), tx).numpy())
    o, r = F.jvp(g(tg, tg.tensor(A)), gx, gv)
    to, tr = torch.autograd.functional.jvp(g(torch, torch.tensor(A)), tx, tv)
    close(r, tr.numpy())


def test_row_by_row_jacobian_in_one_sweep_matches_torch(torch):
    """Without ``vectorize`` the rows are swept together where nothing observes the rows one
    by one; values, unused inputs and hook calls are a per-row Jacobian's, as in PyTorch."""
    def run(lib):
        calls = []

        def f(x, y, z):
            h = lib.sin(x) * 2
            h.register_hook(lambda g: calls.append(np.asarray(g.detach()).round(12).tolist()))
            return h * lib.exp(x) @ y, (x ** 2).sum() + 0 * y.sum(), lib.tanh(y).cumsum(0)

        x = lib.tensor(np.linspace(0.1, 1.0, 3))
        y = lib.tensor(np.arange(6.0).reshape(3, 2) / 7)
        z = lib.tensor(np.ones(4))
        J = lib.autograd.functional.jacobian(f, (x, y, z))
        plain = lib.autograd.functional.jacobian(lambda a: lib.cumprod(lib.exp(a), 0), x)
        return [[np.asarray(j.detach()) for j in row] for row in J], calls, plain

    ours, ours_calls, ours_plain = run(tg)
    theirs, their_calls, their_plain = run(torch)
    for row_o, row_t in zip(ours, theirs):
        for a, b in zip(row_o, row_t):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    assert ours_calls == their_calls  # a hook runs once per row that reaches it
    np.testing.assert_allclose(ours_plain.numpy(), their_plain.numpy(), rtol=1e-13)


@pytest.mark.parametrize("vectorize", [False, True])
def test_zero_dim_input_jacobian_and_hessian_are_zero_dim(torch, vectorize):
    def f(a):
        return (a ** 3).sum()

    for lib, x in ((tg, tg.tensor(1.5)), (torch, torch.tensor(1.5, dtype=torch.float64))):
        AF = lib.autograd.functional
        H, J = AF.hessian(f, x, vectorize=vectorize), AF.jacobian(lambda a: a * 2, x,
                                                                  vectorize=vectorize)
        assert tuple(H.shape) == () and tuple(J.shape) == ()
        assert float(H) == 9.0 and float(J) == 2.0


def test_v_size_errors_as_torch():
    """A v of the wrong shape: PyTorch's message prints the shapes as torch.Size([3]); tapegrad
    printed [3]."""
    torch = pytest.importorskip("torch")
    cases = [("vjp", lambda a: a.sin(), (3,), (4,)), ("jvp", lambda a: a.sin(), (3,), (4,)),
             ("vhp", lambda a: a.sum(), (3,), (2,)), ("hvp", lambda a: a.sum(), (2, 2), (4,)),
             ("vjp", lambda a: (a.sin(), a), (3,), [(3,), (2, 2)])]
    for name, f, shape, vshape in cases:
        messages = []
        for lib in (torch, tg):
            x = lib.ones(shape, dtype=lib.float64)
            v = tuple(lib.ones(s, dtype=lib.float64) for s in vshape) \
                if isinstance(vshape, list) else lib.ones(vshape, dtype=lib.float64)
            with pytest.raises(RuntimeError) as info:
                getattr(lib.autograd.functional, name)(f, x, v)
            messages.append(str(info.value))
        assert messages[1] == messages[0]
