"""tg.func transforms of functions of CUDA tensors against the CPU path, on numba-cuda's
simulator (see conftest.py): forward mode (jvp, jacfwd, linearize, forward-over-reverse)
takes the re-taping path on the device, and its results stay on the device."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg

RNG = np.random.default_rng(6)
X = RNG.uniform(-1.0, 1.0, 3)
A = RNG.uniform(-1.0, 1.0, (2, 3))


def f(x):
    return tg.sin(x) * x.sum() + x.exp()


def energy(x):
    return (x.exp() * x).sum()


PROGRAMS = {
    "jvp": lambda t: tg.func.jvp(f, (t(X),), (t(np.ones(3)),)),
    "jvp_aux": lambda t: tg.func.jvp(lambda x: (f(x), x * 2), (t(X),), (t(X),), has_aux=True),
    "jvp_two_args": lambda t: tg.func.jvp(lambda a, b: a @ b, (t(A), t(X)),
                                          (t(np.ones((2, 3))), t(np.ones(3)))),
    "jacfwd": lambda t: tg.func.jacfwd(f)(t(X)),
    "jacrev": lambda t: tg.func.jacrev(f)(t(X)),
    "hessian": lambda t: tg.func.hessian(energy)(t(X)),
    "forward_over_reverse": lambda t: tg.func.jacfwd(tg.func.jacrev(energy))(t(X)),
    "linearize": lambda t: (lambda r: (r[0], r[1](t(np.ones(3)))))(tg.func.linearize(f, t(X))),
    "vmap_of_jvp": lambda t: tg.func.vmap(lambda v: tg.func.jvp(f, (t(X),), (v,))[1])(
        t(np.eye(3))),
}


def _leaves(r):
    return [r] if isinstance(r, tg.Tensor) else [x for item in r for x in _leaves(item)]


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_forward_mode_transforms(name):
    cpu = _leaves(PROGRAMS[name](lambda a: tg.tensor(a)))
    dev = _leaves(PROGRAMS[name](lambda a: tg.tensor(a, device="cuda")))
    assert len(cpu) == len(dev)
    for c, d in zip(cpu, dev):
        assert d.device == "cuda" and d.shape == c.shape and d.dtype == c.dtype
        np.testing.assert_allclose(d.cpu().detach().numpy(), c.detach().numpy(),
                                   rtol=1e-10, atol=1e-12)
