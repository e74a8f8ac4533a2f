"""``addmm``/``addbmm``/``addmv``/``baddbmm`` of operands whose dtypes cannot meet (an integer, bool or
complex one among different dtypes) raise PyTorch's error for each such triple, in its order:
addmm checks the input against mat2 and then mat1 against mat2 ("mat1 and mat2 must have the
same dtype, but got Float and Long"), before the shapes; addbmm does the same after bmm's
sizes; addmv names the three dtypes in the input's, matrix's, vector's order; baddbmm checks
the input (its shape, then its dtype against batch1's) before the batches' shapes and then
theirs ("Input dtypes must be the same, got: input long int, ..."). Operands of one
dtype keep their (finite-difference checked) gradients."""

import itertools

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd.gradcheck import gradcheck

torch = pytest.importorskip("torch")

DTYPES = ["float32", "float64", "int64", "int32", "bool", "complex128"]
SHAPES = {"addmm": ((2, 3), (2, 4), (4, 3)), "addmv": ((2,), (2, 4), (4,)),
          "addbmm": ((2, 3), (5, 2, 4), (5, 4, 3)), "baddbmm": ((5, 2, 3), (5, 2, 4), (5, 4, 3))}
# the triples PyTorch refuses and tapegrad does too (mixed float widths alone are computed in
# the widest: a documented difference)
TRIPLES = [t for t in itertools.product(DTYPES, repeat=3)
           if len(set(t)) > 1 and not set(t) <= {"float32", "float64"}]


def _outcome(lib, name, shapes, dtypes):
    args = [lib.ones(s, dtype=getattr(lib, d)) for s, d in zip(shapes, dtypes)]
    try:
        r = getattr(lib, name)(*args)
    except Exception as e:  # noqa: BLE001  (compared with PyTorch's)
        return type(e).__name__.lstrip("_"), str(e)
    return "value", str(r.dtype)


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_mixed_dtype_errors_as_torch(name):
    for dtypes in TRIPLES:  # (input, first factor, second factor)
        want = _outcome(torch, name, SHAPES[name], dtypes)
        assert want[0] in ("RuntimeError", "NotImplementedError"), dtypes
        assert _outcome(tg, name, SHAPES[name], dtypes) == want, dtypes


@pytest.mark.parametrize("shapes", [((2, 3), (2, 4), (5, 3)), ((7, 3), (2, 4), (4, 3)),
                                    ((2, 3), (2, 4, 2), (4, 3))])
def test_addmm_checks_dtypes_before_shapes(shapes):
    for dtypes in [("float32", "float32", "int64"), ("float32", "int64", "float32")]:
        want = _outcome(torch, "addmm", shapes, dtypes)
        assert _outcome(tg, "addmm", shapes, dtypes) == want


@pytest.mark.parametrize("shapes", [((5, 2, 3), (5, 2, 4), (5, 5, 3)), ((5, 2, 3), (5, 2), (5, 4, 3)),
                                    ((7, 2, 3), (5, 2, 4), (5, 4, 3)), ((3,), (5, 2, 4), (5, 4, 3)),
                                    ((5, 2, 3), (5, 2, 4), (4, 4, 3))])
def test_baddbmm_checks_in_torchs_order(shapes):
    for dtypes in [("float32", "float32", "int64"), ("int64", "float32", "float32"),
                   ("float32", "int64", "int64"), ("bool", "bool", "int64")]:
        want = _outcome(torch, "baddbmm", shapes, dtypes)
        assert _outcome(tg, "baddbmm", shapes, dtypes) == want


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_one_dtype_keeps_values_and_gradients(name):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in SHAPES[name]]
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    f = getattr(tg, name)
    assert gradcheck(lambda *a: f(*a, beta=0.5, alpha=2.0), xs)
    want = getattr(torch, name)(*map(torch.tensor, arrays), beta=0.5, alpha=2.0)
    np.testing.assert_allclose(f(*xs, beta=0.5, alpha=2.0).detach().numpy(), want.numpy(),
                               rtol=1e-12)
