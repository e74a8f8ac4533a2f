"""torch.special's SciPy-valued functions (i0, i0e, i1, i1e, ndtri, erfcx, the Bessel
functions, zeta), the ones whose torch names take the host round trip (digamma, polygamma,
gammaln, multigammaln, erfinv, logit, sinc) and xlog1py on CUDA tensors: the CPU's values and
derivatives to second order, PyTorch's values; on numba-cuda's simulator (see conftest.py)."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg

X = np.array([-2.0, 0.5, 1.0, 3.0])
POS = np.array([0.1, 0.5, 1.0, 3.0])
UNIT = np.array([0.1, 0.3, 0.5, 0.8])
CALLS = {  # name: (function, input)
    "i0": (tg.special.i0, X), "i0e": (tg.special.i0e, X), "i1": (tg.special.i1, X),
    "i1e": (tg.special.i1e, X), "ndtri": (tg.special.ndtri, UNIT),
    "erfcx": (tg.special.erfcx, X), "log_ndtr": (tg.special.log_ndtr, X),
    "bessel_j0": (tg.special.bessel_j0, X), "bessel_y1": (tg.special.bessel_y1, POS),
    "modified_bessel_k1": (tg.special.modified_bessel_k1, POS),
    "spherical_bessel_j0": (tg.special.spherical_bessel_j0, X),
    "digamma": (tg.special.digamma, POS), "gammaln": (tg.special.gammaln, POS),
    "polygamma": (lambda x: tg.special.polygamma(1, x), POS),
    "multigammaln": (lambda x: tg.special.multigammaln(x + 2.0, 2), POS),
    "erfinv": (tg.special.erfinv, UNIT), "logit": (tg.special.logit, UNIT),
    "sinc": (tg.special.sinc, X), "tg.i0": (tg.i0, X), "method_i0": (lambda x: x.i0(), X),
    "xlog1py": (lambda x: tg.special.xlog1py(x, x - 0.5), POS),
    "zeta": (lambda x: tg.special.zeta(tg.tensor([2.0, 3.0, 4.0, 2.5], device=x.device), x),
             POS),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_values_and_two_derivatives_match_cpu(name):
    f, a = CALLS[name]
    results = []
    for dev in ("cpu", "cuda"):
        x = tg.tensor(a, device=dev, requires_grad=True)
        y = f(x)
        (g,) = tg.autograd.grad(y.sum(), x, create_graph=True)
        (h,) = tg.autograd.grad(g.sum(), x)
        assert y.device == g.device == h.device == dev
        results.append([t.detach().cpu().numpy() for t in (y, g, h)])
    for cpu, cuda in zip(*results):
        np.testing.assert_allclose(cuda, cpu, rtol=1e-12, atol=1e-12)


TORCH_NAMES = {"i0": "i0", "i0e": "i0e", "i1": "i1", "i1e": "i1e", "ndtri": "ndtri",
               "erfcx": "erfcx", "digamma": "digamma", "gammaln": "gammaln",
               "erfinv": "erfinv", "logit": "logit", "sinc": "sinc"}


@pytest.mark.parametrize("name", sorted(TORCH_NAMES))
def test_values_match_torch(name):
    torch = pytest.importorskip("torch")
    f, a = CALLS[name]
    want = getattr(torch.special, TORCH_NAMES[name])(torch.tensor(a)).numpy()
    np.testing.assert_allclose(f(tg.tensor(a, device="cuda")).cpu().numpy(), want,
                               rtol=1e-10)


def test_zeta_refuses_mixed_devices():
    with pytest.raises(RuntimeError, match="same device"):
        tg.special.zeta(tg.tensor([2.0, 3.0], device="cuda"), tg.tensor([1.0, 2.0]))
