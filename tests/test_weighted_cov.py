"""Weighted covariance: ``tg.cov(x, fweights=, aweights=)`` (PyTorch's checks and dtypes) and
``np.cov(t, fweights=, aweights=)`` (NumPy's), differentiable in the data and in ``aweights``."""

import numpy as np
import pytest

import tapegrad as tg
from op_checks import check_op, lib_fns

R = np.random.default_rng(7)
X = R.standard_normal((3, 6))
FW = np.array([1, 3, 0, 2, 1, 4])
AW = R.uniform(0.3, 2.0, 6)


@pytest.mark.parametrize("correction", [0, 1, 2])
@pytest.mark.parametrize("which", ["f", "a", "fa"])
def test_torch_cov_weights_gradients(correction, which):
    def f(lib, x, aw):
        kw = {}
        if "f" in which:
            kw["fweights"] = lib.tensor(FW)
        if "a" in which:
            kw["aweights"] = aw
        return lib.cov(x, correction=correction, **kw) + aw.sum()  # (aw reaches the output)
    fn, torch_fn = lib_fns(f)
    check_op(fn, [X, AW], torch_fn=torch_fn)  # finite differences (1st, 2nd order), torch


def test_torch_cov_weights_one_variable_and_dtypes():
    fn, torch_fn = lib_fns(lambda lib, x, aw: lib.cov(x, fweights=lib.tensor(FW), aweights=aw))
    check_op(fn, [X[0], AW], torch_fn=torch_fn)
    x32 = tg.tensor(X.astype(np.float32))
    assert tg.cov(x32, fweights=tg.tensor(FW)).dtype == np.float32
    assert tg.cov(x32, aweights=tg.tensor(AW)).dtype == np.float64  # (promoted, as PyTorch)


@pytest.mark.parametrize("kw, err, msg", [
    (lambda: dict(fweights=tg.ones(6)), RuntimeError,
     "cov(): expected fweights to have integral dtype but got fweights with Double dtype"),
    (lambda: dict(aweights=tg.tensor(FW)), RuntimeError,
     "cov(): expected aweights to have floating point dtype but got aweights with Long dtype"),
    (lambda: dict(fweights=tg.tensor(FW[None])), RuntimeError,
     "cov(): expected fweights to have one or fewer dimensions but got fweights with 2 "
     "dimensions"),
    (lambda: dict(aweights=tg.tensor(AW[:4])), RuntimeError,
     "cov(): expected aweights to have the same numel as there are observations in the input "
     "but got 4 != 6"),
    (lambda: dict(aweights=-tg.tensor(AW)), RuntimeError, "cov(): aweights cannot be negative"),
    (lambda: dict(fweights=list(FW)), TypeError,
     "cov(): argument 'fweights' must be Tensor, not list"),
])
def test_torch_cov_weights_errors(kw, err, msg):
    with pytest.raises(err) as e:
        tg.cov(tg.tensor(X), **kw())
    assert str(e.value) == msg


@pytest.mark.parametrize("ddof", [None, 0, 2])
def test_numpy_cov_weights(ddof):
    x = tg.tensor(X, requires_grad=True)
    aw = tg.tensor(AW, requires_grad=True)
    got = np.cov(x, ddof=ddof, fweights=FW, aweights=aw)
    assert isinstance(got, tg.Tensor)
    np.testing.assert_allclose(got.detach().numpy(), np.cov(X, ddof=ddof, fweights=FW, aweights=AW),
                               rtol=1e-12)
    assert tg.autograd.gradcheck(lambda a, b: np.cov(a, ddof=ddof, fweights=FW, aweights=b),
                                 (x, aw))
    assert tg.autograd.gradgradcheck(lambda a, b: np.cov(a, ddof=ddof, fweights=FW, aweights=b),
                                     (x, aw))
    np.testing.assert_allclose(np.cov(x[0], fweights=FW, rowvar=False).detach().numpy(),
                               np.cov(X[0], fweights=FW, rowvar=False), rtol=1e-12)


@pytest.mark.parametrize("kw, err, msg", [
    (dict(fweights=[1.5, 1, 1, 1, 1, 1]), TypeError, "fweights must be integer"),
    (dict(fweights=[FW]), RuntimeError, "cannot handle multidimensional fweights"),
    (dict(aweights=AW[:3]), RuntimeError, "incompatible numbers of samples and aweights"),
    (dict(fweights=-FW), ValueError, "fweights cannot be negative"),
])
def test_numpy_cov_weights_errors(kw, err, msg):
    with pytest.raises(err, match=msg):
        np.cov(tg.tensor(X), **kw)
