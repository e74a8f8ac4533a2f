"""``linalg.lstsq`` accepts and refuses the batch shapes of A and B that PyTorch does, with its
errors, and returns results of PyTorch's shapes and values where both accept."""
import itertools

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

BATCHES = [(), (1,), (2,), (3,), (2, 1), (1, 3), (2, 3), (1, 1), (2, 1, 3)]
M, N, K = 4, 3, 2


def _run(lib, a, b, driver):
    try:
        r = lib.linalg.lstsq(lib.tensor(a), lib.tensor(b), driver=driver)
    except Exception as e:  # noqa: BLE001 (the outcome compared is the exception)
        return type(e).__name__, str(e).split("\n")[0]
    return [(tuple(x.shape), np.asarray(x.detach().numpy())) for x in r]


def _compare(a, b, driver=None):
    got, want = _run(tg, a, b, driver), _run(torch, a, b, driver)
    if isinstance(want, tuple):
        assert got == want, (a.shape, b.shape)
        return
    assert not isinstance(got, tuple), (a.shape, b.shape, got)
    for (gs, gv), (ws, wv) in zip(got, want):
        assert gs == ws, (a.shape, b.shape)
        np.testing.assert_allclose(gv, wv, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("ba", BATCHES)
def test_batch_shape_grid(ba):
    rng = np.random.default_rng(0)
    for bb, vec in itertools.product(BATCHES, (False, True)):
        a = rng.standard_normal(ba + (M, N))
        b = rng.standard_normal(bb + ((M,) if vec else (M, K)))
        _compare(a, b)


@pytest.mark.parametrize("shapes", [((1, 4, 3), (4, 2)), ((2, 1, 4, 3), (1, 4, 2)),
                                    ((3, 4, 3), (1, 4, 2)), ((2, 4, 3), (2, 4)),
                                    ((4, 3), (4,)), ((1, 1, 1, 3), (3, 1, 2)),
                                    ((2, 1, 4, 3), (2, 4, 2))])
@pytest.mark.parametrize("driver", ["gelsd", "gels", "gelss"])
def test_drivers_shapes(shapes, driver):
    rng = np.random.default_rng(1)
    _compare(rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1]), driver)


@pytest.mark.parametrize("case", [
    ((4, 3), "float64", (), "float64"), ((4,), "float64", (4,), "float64"),
    ((4, 3), "int64", (1, 1, 4, 2), "int64"), ((4, 3), "int64", (3,), "int64"),
    ((4, 3), "int64", (4, 2), "int64"), ((4, 3), "float64", (3,), "float64")])
def test_argument_errors(case):
    sa, da, sb, db = case
    a, b = np.ones(sa, da), np.ones(sb, db)
    _compare(a, b)


def test_gradient_through_a_matrix_b_with_one_batch_dimension_fewer():
    rng = np.random.default_rng(2)
    a = tg.tensor(rng.standard_normal((1, 4, 3)), requires_grad=True)
    b = tg.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    assert tg.autograd.gradcheck(lambda a, b: tg.linalg.lstsq(a, b).solution, (a, b))
