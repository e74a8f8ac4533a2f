"""gradcheck / gradgradcheck: they pass correct rules and catch wrong ones."""

import inspect

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd import GradcheckError, gradcheck, gradgradcheck
from tapegrad.registry import REGISTRY, Op


def x64(*v):
    return tg.tensor(np.array(v, dtype=np.float64), requires_grad=True)


def test_signature_matches_torch(torch):
    for name in ("gradcheck", "gradgradcheck"):
        ours = inspect.signature(getattr(tg.autograd, name))
        theirs = inspect.signature(getattr(torch.autograd, name))
        assert list(ours.parameters) == list(theirs.parameters)
        assert [p.default for p in ours.parameters.values()] == \
            [p.default for p in theirs.parameters.values()]


def test_correct_functions_pass():
    x = x64(0.3, 0.7)
    assert gradcheck(lambda a: (a ** 2).sin(), (x,)) is True
    assert gradgradcheck(lambda a: (a ** 2).sin(), (x,)) is True
    y = x64(1.5, -0.2)
    assert gradcheck(lambda a, b: (a * b, (a @ b).exp()), (x, y))
    assert gradgradcheck(lambda a, b: tg.tanh(a * b).sum() * a, (x, y))


def test_gradcheck_error_is_runtime_error():
    assert issubclass(GradcheckError, RuntimeError)


@pytest.fixture
def wrong_matmul_numeric(monkeypatch):
    """MATMUL's numeric VJP scaled by 3 (like a ``g*3`` backward for ``x*2``)."""
    d = REGISTRY[Op.MATMUL]
    right = d.vjp_np

    def wrong(g, inputs, out, **params):
        return tuple(None if gi is None else gi * 3 for gi in right(g, inputs, out, **params))

    monkeypatch.setattr(d, "vjp_np", wrong)
    monkeypatch.setattr(d, "vjp_into", None)  # the sweep then runs vjp_np


def test_catches_wrong_numeric_vjp(wrong_matmul_numeric):
    M = tg.tensor(np.array([[2.0, 0.0], [0.0, 3.0]]))
    x = x64(0.5, 1.5)
    with pytest.raises(GradcheckError) as e:
        gradcheck(lambda a: M @ a, (x,))
    msg = str(e.value)
    assert msg.startswith("Jacobian mismatch for output 0 with respect to input 0,\n"
                          "numerical:tensor([[2.0000, 0.0000],\n        [0.0000, 3.0000]])\n"
                          "analytical:tensor([[6., 0.],\n        [0., 9.]])\n")
    assert "largest difference is at input element 1, output element 1: numerical 3" in msg
    assert msg.endswith("analytical 9.\n")
    assert gradcheck(lambda a: M @ a, (x,), raise_exception=False) is False


def test_reports_the_right_input_and_output(wrong_matmul_numeric):
    a, b = x64(1.0, 2.0), x64(0.5, -1.0)
    with pytest.raises(GradcheckError, match="output 1 with respect to input 1"):
        gradcheck(lambda p, q: (p * q, tg.tensor(np.eye(2)) @ q), (a, b))


def test_gradgradcheck_catches_wrong_retaped_vjp(monkeypatch):
    """A wrong Tensor-level rule passes gradcheck (numeric sweep) but not gradgradcheck."""
    from tapegrad.autograd import retape

    rules = retape._Rules()
    rules.cache[int(Op.SIN)] = (lambda g, x, y, out, m, c0, c1: g * tg.sin(x), None)
    monkeypatch.setattr(retape, "_rules", rules)
    x = x64(0.3, 0.8)
    assert gradcheck(tg.sin, (x,))
    with pytest.raises(GradcheckError, match="create_graph=True \\(re-taped VJPs\\) differs"):
        gradgradcheck(tg.sin, (x,))
    assert gradgradcheck(tg.sin, (x,), raise_exception=False) is False


def test_gradgradcheck_catches_wrong_python_rule(monkeypatch):
    d = REGISTRY[Op.MATMUL]
    right = d.vjp
    monkeypatch.setattr(d, "vjp", lambda g, ins, out, **p: tuple(
        None if gi is None else gi * 1.5 for gi in right(g, ins, out, **p)))
    from tapegrad.autograd import retape

    monkeypatch.setattr(retape, "_matmul_2d_rule", lambda g, ins, needs: None)
    a = tg.tensor(np.array([[1.0, 2.0], [0.5, -1.0]]), requires_grad=True)
    x = x64(0.5, 1.5)
    assert gradcheck(lambda m, v: m @ v, (a, x))
    with pytest.raises(GradcheckError):
        gradgradcheck(lambda m, v: tg.tanh(m @ v), (a, x))


def test_catches_wrong_custom_function():
    class Twice(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = x64(1.0, 2.0)
    with pytest.raises(GradcheckError, match="numerical:tensor\\(\\[\\[2.0000"):
        gradcheck(Twice.apply, (x,))


def test_float32_warns_and_fails():
    x = tg.tensor([1.0, 2.0], dtype=tg.float32, requires_grad=True)
    with pytest.warns(UserWarning) as rec:
        with pytest.raises(GradcheckError, match="Jacobian mismatch"):
            gradcheck(lambda a: a * 2, (x,))
    assert str(rec[0].message) == (
        "Input #0 requires gradient and is not a double precision floating point or complex. "
        "This check will likely fail if all the inputs are not of double precision floating "
        "point or complex. ")


def test_no_differentiable_input():
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(lambda a: a * 2, (tg.tensor([1.0]),))


def test_scalar_and_matrix_inputs():
    assert gradcheck(lambda a: a ** 3, (tg.tensor(1.5, requires_grad=True),))
    m = tg.tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)
    assert gradgradcheck(lambda a: (a @ a.T).exp(), (m,))


def test_message_matches_torch_prefix(torch):
    class TWrong(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    tx = torch.tensor([0.5, 1.5], dtype=torch.float64, requires_grad=True)
    with pytest.raises(RuntimeError) as te:
        torch.autograd.gradcheck(TWrong.apply, (tx,))
    want = str(te.value).replace(", dtype=torch.float64", "")

    class Wrong(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    with pytest.raises(GradcheckError) as e:
        gradcheck(Wrong.apply, (x64(0.5, 1.5),))
    assert str(e.value).startswith(want)


def test_backward_must_be_multiplied_by_grad_output():
    # right one seed at a time, NaN for an all-zero gradient (as a solver iterating to a
    # relative tolerance can be): PyTorch's gradcheck fails it with this message
    class Bad(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return 2 * g + (float("nan") if bool((g == 0).all()) else 0.0)

    x = tg.ones(3, dtype=tg.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="^backward not multiplied by grad_output$"):
        gradcheck(Bad.apply, (x,))
    assert gradcheck(Bad.apply, (x,), raise_exception=False) is False
