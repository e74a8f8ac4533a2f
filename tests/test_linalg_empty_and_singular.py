"""eigh/eigvalsh of empty integer, bool or float16 matrices return empties (PyTorch's kernel,
and its dtype check, never runs on them); linalg.cond of singular matrices takes PyTorch's
values (inf, or NaN for the nuclear norm of a zero matrix)."""
import numpy as np
import pytest

import tapegrad as tg
from tests.outcome import dtypes_and_shapes, outcome

torch = pytest.importorskip("torch")


def _outcome(lib, f):
    return outcome(lambda: f(lib), dtypes_and_shapes, first_line=True)


@pytest.mark.parametrize("name", ["eigh", "eigvalsh"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "float16", "float64"])
@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 0), (0, 2, 2), (2, 0, 3), (0,), (2, 2)])
def test_eigh_of_empty_matrices(name, dtype, shape):
    def f(L):
        return getattr(L.linalg, name)(L.zeros(shape, dtype=getattr(L, dtype)))

    assert _outcome(tg, f) == _outcome(torch, f)


SINGULAR = {"rank1": [[1.0, 2.0], [2.0, 4.0]], "zero": [[0.0, 0.0], [0.0, 0.0]],
            "zero_column": [[1.0, 0.0], [0.0, 0.0]],
            "batch": [[[1.0, 2.0], [2.0, 4.0]], [[2.0, 1.0], [1.0, 3.0]]]}


@pytest.mark.parametrize("name", sorted(SINGULAR))
@pytest.mark.parametrize("p", ["fro", "nuc", np.inf, -np.inf, 1, -1, 2, -2, None])
def test_cond_of_singular_matrices(name, p):
    a = np.array(SINGULAR[name])
    got = tg.linalg.cond(tg.tensor(a), p).numpy()
    want = torch.linalg.cond(torch.tensor(a), p).numpy()
    assert np.array_equal(np.isnan(got), np.isnan(want))
    assert np.array_equal(np.isinf(got), np.isinf(want))
    fin = np.isfinite(want)
    if name != "rank1" or p in ("fro", np.inf, -np.inf, 1, -1):  # (rank1's svd: rounding)
        np.testing.assert_allclose(got[fin], want[fin], rtol=1e-10)


def test_cond_nan_input_as_torch():
    a = np.array([[np.nan, 1.0], [1.0, 1.0]])
    for p in ("fro", np.inf, 1, -1, -np.inf):
        assert np.isinf(tg.linalg.cond(tg.tensor(a), p).numpy())
        assert np.isinf(torch.linalg.cond(torch.tensor(a), p).numpy())


def test_cond_gradients_where_regular():
    a = tg.tensor(np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.5, 1.0, 4.0]]),
                  requires_grad=True)
    for p in ("nuc", "fro", 1, np.inf):
        assert tg.autograd.gradcheck(lambda x, p=p: tg.linalg.cond(x, p), (a,))


def _cond_and_grad(lib, a, p):
    """``cond(a, p)`` of a leaf requiring grad, and its gradient or the error's message (the
    library's name taken out, the anomaly-mode hint left off)."""
    x = lib.tensor(a, requires_grad=True)
    r = lib.linalg.cond(x, p)
    assert r.requires_grad
    try:
        (g,) = lib.autograd.grad(r.sum(), x)
    except RuntimeError as e:
        return r.detach().numpy(), str(e).replace(lib.__name__, "L").split(" Hint:")[0]
    return r.detach().numpy(), g.numpy()


@pytest.mark.parametrize("name", sorted(SINGULAR))
@pytest.mark.parametrize("p", ["fro", "nuc", np.inf, -np.inf, 1, -1, 2, None])
def test_cond_of_singular_matrices_requiring_grad_as_torch(name, p):
    """The forward gives PyTorch's values, on the graph; the backward raises where PyTorch's
    does (the norms through the inverse, whose saved value was overwritten in place), in its
    words, and gives its inf or NaN gradient elsewhere."""
    a = np.array(SINGULAR[name])
    got, ours = _cond_and_grad(tg, a, p)
    want, theirs = _cond_and_grad(torch, a, p)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    assert np.array_equal(np.isinf(got), np.isinf(want))
    assert type(ours) is type(theirs)
    if isinstance(ours, str):
        assert "modified by an inplace operation" in ours and ours == theirs
    elif name == "zero":  # (elsewhere the svd's rounding differs: huge finite gradients)
        assert np.array_equal(np.isnan(ours), np.isnan(theirs))


@pytest.mark.parametrize("p", ["fro", 1, -1, float("inf"), float("-inf")])
def test_cond_of_nan_input_requiring_grad_is_inf_as_torch(p):
    """A NaN input gives inf (PyTorch's) whether or not it requires grad; the result stays on
    the graph."""
    a = np.stack([[[np.nan, 1.0], [1.0, 2.0]], np.eye(2)])
    got = tg.linalg.cond(tg.tensor(a, requires_grad=True), p)
    want = torch.linalg.cond(torch.tensor(a, requires_grad=True), p)
    assert got.requires_grad and want.requires_grad
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy())


@pytest.mark.parametrize("p", [1, -1, float("inf"), -float("inf"), "fro"])
def test_cond_tangent_at_a_singular_matrix_as_pytorch(p):
    a = np.array([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 1.0], [0.0, 3.0]]])
    t = np.ones_like(a)

    def jvp_of(lib):
        return [x.numpy() for x in lib.func.jvp(lambda m: lib.linalg.cond(m, p),
                                                (lib.tensor(a),), (lib.tensor(t),))]

    def dual_of(lib):
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            c = lib.linalg.cond(fw.make_dual(lib.tensor(a), lib.tensor(t)), p)
            return [x.numpy() for x in fw.unpack_dual(c)[:2]]

    for ours, theirs in ((jvp_of(tg), jvp_of(torch)), (dual_of(tg), dual_of(torch))):
        for x, y in zip(ours, theirs):
            np.testing.assert_allclose(x, y, rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("how", ["backward", "grad", "tangent_then_backward"])
@pytest.mark.parametrize("p", [1, -1, float("inf"), -float("inf"), "fro"])
def test_cond_backward_at_a_singular_matrix_under_a_dual_level_raises_as_pytorch(p, how):
    # PyTorch overwrites the inverse linalg_inv_ex saved (inf where singular): the tangent is
    # its (inf, nan), a backward through it raises, inside a dual level as outside
    a = np.array([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 1.0], [0.0, 3.0]]])

    def run(lib):
        fw = lib.autograd.forward_ad
        A = lib.tensor(a, requires_grad=True)
        with fw.dual_level():
            c = lib.linalg.cond(fw.make_dual(A, lib.ones_like(A)), p)
            out = [c.detach().numpy().tolist()]
            try:
                if how == "tangent_then_backward":
                    out.append(fw.unpack_dual(c).tangent.detach().numpy().tolist())
                if how == "grad":
                    lib.autograd.grad(c.sum(), A)
                else:
                    c.sum().backward()
            except RuntimeError as e:
                out.append(str(e).replace("torch.", "tapegrad.").split(" Hint")[0])
        return out

    got, want = run(tg), run(torch)
    assert "modified by an inplace operation" in want[-1]
    assert repr(got) == repr(want)
