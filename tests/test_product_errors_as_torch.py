"""Products' errors and bool results as PyTorch's: a vector times a >= 3-D tensor that PyTorch
folds into one matrix fails with mv's message; tensordot/inner of bool operands whose result
is one element refuse as dot; addmm/baddbmm/addbmm of bools without products (an empty sum or
an empty result) give beta * input in bool, or PyTorch's cast error."""
import numpy as np
import pytest

import tapegrad as tg
from tests.outcome import dtype_name, outcome

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _torch_default_dtype_as_ours():
    """A float scalar's type in the messages is the default dtype's: compared under one."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, np.dtype(tg.get_default_dtype()).name))
    yield
    torch.set_default_dtype(before)


def _outcome(f):
    return outcome(f, lambda r: (dtype_name(r), tuple(r.shape), r.tolist()), first_line=True)


@pytest.mark.parametrize("xs,ys,rg,transposed", [
    ((3,), (2, 0, 3), False, False), ((3,), (2, 4, 5), False, False),
    ((3,), (2, 4, 5), True, False), ((3,), (2, 1, 5), False, False),
    ((3,), (2, 5, 4), False, True), ((3,), (2, 2, 5, 4), False, True),
    ((3,), (2, 2, 4, 5), True, False), ((4,), (2, 0, 3), False, False)])
def test_vector_times_batch_mismatch_as_torch(xs, ys, rg, transposed):
    def run(L):
        x = L.ones(*xs, dtype=L.float64, requires_grad=rg)
        y = L.ones(*ys, dtype=L.float64)
        return _outcome(lambda: L.matmul(x, y.transpose(-1, -2) if transposed else y))

    assert run(tg) == run(torch)


@pytest.mark.parametrize("a,b,dims", [
    ((1, 2), (2, 1), 1), ((2, 2), (2, 1), 1), ((1, 2), (2, 2), 1), ((1, 1, 2), (2, 1), 1),
    ((2, 3), (2, 3), 2), ((1, 2), (1, 2), ([1], [1])), ((1, 0), (0, 1), 1), ((2,), (2, 3), 1),
    ((1,), (1,), 0)])
def test_bool_tensordot_refusal_names_dot_as_torch(a, b, dims):
    def run(L):
        return _outcome(lambda: L.tensordot(L.ones(*a, dtype=L.bool), L.ones(*b, dtype=L.bool),
                                            dims))

    assert run(tg) == run(torch)


@pytest.mark.parametrize("a,b", [((1, 2), (1, 2)), ((1, 2), (2,)), ((2,), (1, 2)),
                                 ((1, 1, 2), (1, 2)), ((2, 2), (1, 2)), ((1, 2), (2, 2))])
def test_bool_inner_refusal_as_torch(a, b):
    def run(L):
        return _outcome(lambda: L.inner(L.ones(*a, dtype=L.bool), L.ones(*b, dtype=L.bool)))

    assert run(tg) == run(torch)


SHAPES = [("addmm", [(2, 3), (2, 0), (0, 3)]), ("addmm", [(3,), (2, 0), (0, 3)]),
          ("addmm", [(0, 3), (0, 2), (2, 3)]), ("addmm", [(2, 0), (2, 1), (1, 0)]),
          ("addmm", [(2, 3), (2, 1), (1, 3)]),
          ("baddbmm", [(2, 2, 3), (2, 2, 0), (2, 0, 3)]), ("baddbmm", [(0, 2, 3), (0, 2, 1), (0, 1, 3)]),
          ("baddbmm", [(2, 2, 3), (2, 2, 1), (2, 1, 3)]),
          ("addbmm", [(2, 3), (2, 2, 0), (2, 0, 3)]), ("addbmm", [(2, 3), (0, 2, 1), (0, 1, 3)]),
          ("addbmm", [(2, 3), (0, 2, 0), (0, 0, 3)]), ("addbmm", [(0, 3), (2, 0, 1), (2, 1, 3)])]


@pytest.mark.parametrize("name,shapes", SHAPES)
@pytest.mark.parametrize("beta,alpha", [(1, 1), (0, 1), (0.0, 1), (2, 1), (1.5, 1), (True, 1),
                                        (True, 0), (False, True), (0, 0)])
def test_bool_add_products_without_products_as_torch(name, shapes, beta, alpha):
    rng = np.random.default_rng(0)
    arrays = [rng.integers(0, 2, s).astype(bool) for s in shapes]

    def run(L):
        return _outcome(lambda: getattr(L, name)(*[L.tensor(a) for a in arrays], beta=beta,
                                                 alpha=alpha))

    assert run(tg) == run(torch)


ADD_PRODUCTS = [("addmv", [(2,), (2, 0), (0,)]), ("addmv", [(2,), (2, 3), (3,)]),
                ("addmv", [(0,), (0, 2), (2,)]), ("addr", [(2, 3), (2,), (3,)]),
                ("addr", [(0, 3), (0,), (3,)]), ("addr", [(3,), (2,), (3,)]),
                ("addmm", [(2, 3), (2, 2), (2, 3)]), ("baddbmm", [(1, 2, 3), (1, 2, 2), (1, 2, 3)]),
                ("addbmm", [(2, 3), (1, 2, 2), (1, 2, 3)])]


@pytest.mark.parametrize("name,shapes", ADD_PRODUCTS)
@pytest.mark.parametrize("dtype", [bool, np.int64, np.float64])
@pytest.mark.parametrize("beta,alpha", [(1, 1), (0, 1), (0.0, 1), (2, 1), (1.5, 1), (-1.5, 2),
                                        (True, 1), (True, 0), (False, True), (0, 0), (1, 2),
                                        (1, 0.5), (1, True)])
def test_add_products_scalars_and_dtypes_as_torch(name, shapes, dtype, beta, alpha):
    """Integer results take beta and alpha truncated to integers; addr refuses a float scalar
    for integer results and a bool one for non-bool results, and is logical for bools; bool
    addmv without products is beta * input in bool."""
    rng = np.random.default_rng(2)
    arrays = [rng.integers(-3, 4, s).astype(dtype) for s in shapes]

    def run(L):
        return _outcome(lambda: getattr(L, name)(*[L.tensor(a) for a in arrays], beta=beta,
                                                 alpha=alpha))

    ours, theirs = run(tg), run(torch)
    if ours[0] == theirs[0] == "float64":
        np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-12)
    else:
        assert ours == theirs


INT_WITHOUT_PRODUCTS = [("addmm", [(2, 3), (2, 0), (0, 3)]), ("addmm", [(0, 3), (0, 2), (2, 3)]),
                        ("baddbmm", [(2, 2, 3), (2, 2, 0), (2, 0, 3)]),
                        ("baddbmm", [(0, 2, 3), (0, 2, 1), (0, 1, 3)]),
                        ("addbmm", [(2, 3), (2, 2, 0), (2, 0, 3)]),
                        ("addbmm", [(2, 3), (0, 2, 1), (0, 1, 3)]),
                        ("addmv", [(2,), (2, 0), (0,)])]


@pytest.mark.parametrize("name,shapes", INT_WITHOUT_PRODUCTS)
@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.uint8])
@pytest.mark.parametrize("beta,alpha", [(0.5, 1), (1.0, 1), (2.0, 1), (0.0, 1), (-0.0, 1),
                                        (float("nan"), 1), (2, 1), (1, 0.5), (True, 1)])
@pytest.mark.parametrize("default", [np.float64, np.float32])
def test_integer_add_products_without_products_as_torch(name, shapes, dtype, beta, alpha,
                                                         default):
    """No product to form (no columns; addbmm of an empty batch): a float beta other than 0
    raises PyTorch's 'result type <default float> can't be cast to ...' (addmv and empty
    results do not); elsewhere the scalars are truncated."""
    rng = np.random.default_rng(3)
    arrays = [rng.integers(0, 4, s).astype(dtype) for s in shapes]
    before = tg.get_default_dtype()
    tg.set_default_dtype(default)
    torch.set_default_dtype(getattr(torch, np.dtype(default).name))
    try:
        got, want = (_outcome(lambda L=L: getattr(L, name)(*[L.tensor(a) for a in arrays],
                                                           beta=beta, alpha=alpha))
                     for L in (tg, torch))
    finally:
        tg.set_default_dtype(before)
    assert got == want
