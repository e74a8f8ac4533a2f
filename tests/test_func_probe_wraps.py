"""``grad``, ``grad_and_value``, ``jacrev``, ``jacfwd`` and ``hessian`` return ``func``
wrapped as ``functools.wraps`` wraps it, as torch.func's do: the function's name, qualified
name, docstring and module (``help()``, ``inspect.signature``), so that a message naming the
transformed function names ``func`` (``vmap(myfn, in_dims=0, ...)``, not ``vmap(grad(myfn),
...)``)."""

import inspect

import pytest

import tapegrad as tg

NAMES = ["grad", "grad_and_value", "jacrev", "jacfwd", "hessian"]


def myfn(a, b=2.0):
    """The sum of a times b."""
    return (a * b).sum()


@pytest.mark.parametrize("name", NAMES)
def test_transformed_function_keeps_funcs_identity(name):
    w = getattr(tg.func, name)(myfn)
    assert (w.__name__, w.__qualname__, w.__doc__, w.__module__) == \
        ("myfn", "myfn", "The sum of a times b.", __name__)
    assert str(inspect.signature(w)) == "(a, b=2.0)"
    lam = getattr(tg.func, name)(lambda a: a.sum())
    assert lam.__name__ == "<lambda>"


@pytest.mark.parametrize("name", NAMES)
def test_vmap_messages_name_func(name):
    w = getattr(tg.func, name)(myfn)
    with pytest.raises(ValueError) as info:
        tg.func.vmap(w, in_dims=1)(tg.ones(2))
    assert str(info.value).startswith("vmap(myfn, in_dims=1, ...)(<inputs>): Got in_dim=1")


@pytest.mark.parametrize("name", NAMES)
def test_against_torch(name):
    torch = pytest.importorskip("torch")

    def messages(lib):
        w = getattr(lib.func, name)(myfn)
        with pytest.raises(ValueError) as info:
            lib.func.vmap(w)(3.0)
        return w.__name__, w.__qualname__, w.__doc__, str(info.value)

    assert messages(tg) == messages(torch)
