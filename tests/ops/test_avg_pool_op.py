"""Average pooling of CPU float tensors is one record (``ops/avg_pool.py``), as PyTorch's
``AvgPool2DBackward0`` and ``AdaptiveAvgPool2DBackward0``: PyTorch's values, first and second
derivatives with padding, ``ceil_mode``, ``count_include_pad``, ``divisor_override``, 1-D and 2-D,
batched or not, both float dtypes; finite differences, forward mode, vmap and the tracer's
composition with the same numbers."""

import numpy as np
import pytest

import tapegrad as tg

F = tg.nn.functional
CASES = [
    ("avg_pool2d", (2, 3, 8, 9), dict(kernel_size=2)),
    ("avg_pool2d", (2, 3, 8, 9), dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool2d", (2, 3, 8, 9), dict(kernel_size=3, stride=2, padding=1,
                                      count_include_pad=False)),
    ("avg_pool2d", (2, 3, 8, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", (2, 3, 8, 9), dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0),
                                      ceil_mode=True, count_include_pad=False)),
    ("avg_pool2d", (3, 8, 9), dict(kernel_size=2, divisor_override=3)),
    ("avg_pool1d", (2, 3, 11), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool1d", (3, 11), dict(kernel_size=4)),
    ("adaptive_avg_pool2d", (2, 3, 10, 7), dict(output_size=(3, 4))),
    ("adaptive_avg_pool2d", (3, 10, 7), dict(output_size=(4, None))),
    ("adaptive_avg_pool1d", (2, 3, 10), dict(output_size=4)),
]
IDS = [f"{n}-{len(s)}d-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for n, s, kw in CASES]


def _first_and_second(L, name, x0, kw, g0):
    x = L.tensor(x0, requires_grad=True)
    y = getattr(L.nn.functional, name)(x, **kw)
    gx, = L.autograd.grad((y * L.tensor(g0.reshape(tuple(y.shape)))).sum(), x,
                          create_graph=True)
    hx, = L.autograd.grad((gx * gx * x).sum(), x)
    return y, [t.detach().numpy() for t in (y, gx, hx)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,shape,kw", CASES, ids=IDS)
def test_one_record_with_pytorchs_values_and_derivatives(name, shape, kw, dtype):
    r = np.random.default_rng(len(shape))
    x0 = r.standard_normal(shape).astype(dtype)
    y = getattr(F, name)(tg.tensor(x0, requires_grad=True), **kw)
    node = y.grad_fn
    while type(node).__name__ in ("ViewBackward0", "SqueezeBackward1"):
        node = node.next_functions[0][0]  # (unbatched input: an unsqueeze and a squeeze)
    want = "Adaptive" if name.startswith("adaptive") else ""
    assert type(node).__name__ == f"{want}AvgPool2DBackward0"
    g0 = r.standard_normal(y.numel()).astype(dtype)
    _, ours = _first_and_second(tg, name, x0, kw, g0)
    assert all(a.dtype == dtype for a in ours)
    torch = pytest.importorskip("torch")
    _, theirs = _first_and_second(torch, name, x0, kw, g0)
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-5)
    for a, c in zip(ours, theirs):
        assert a.shape == c.shape
        np.testing.assert_allclose(a, c, **tol)


def test_finite_differences_forward_mode_vmap_and_the_tracer():
    r = np.random.default_rng(3)
    x0 = r.standard_normal((2, 2, 5, 4))
    pools = [lambda a: F.avg_pool2d(a, 3, 2, 1, ceil_mode=True, count_include_pad=False),
             lambda a: F.adaptive_avg_pool2d(a, (3, 2))]
    for f in pools:
        x = tg.tensor(x0, requires_grad=True)
        assert tg.autograd.gradcheck(f, (x,)) and tg.autograd.gradgradcheck(f, (x,))
        np.testing.assert_allclose(tg.func.jacfwd(f)(tg.tensor(x0)).numpy(),
                                   tg.func.jacrev(f)(tg.tensor(x0)).numpy(), rtol=1e-14)
        per_example = tg.func.vmap(f)(tg.tensor(x0[:, None]))
        np.testing.assert_allclose(per_example.numpy()[:, 0], f(tg.tensor(x0)).numpy(),
                                   rtol=1e-14)
        step = tg.compile(lambda a: (f(a) ** 2).sum())
        grads = []
        for run in (step, step, lambda a: (f(a) ** 2).sum()):
            x = tg.tensor(x0, requires_grad=True)
            run(x).backward()
            grads.append(x.grad.numpy())
        np.testing.assert_allclose(grads[0], grads[2], rtol=1e-13)
        np.testing.assert_allclose(grads[1], grads[2], rtol=1e-13)


def test_global_average_pooling_stays_one_mean_and_bad_sizes_raise():
    x = tg.tensor(np.ones((2, 3, 4, 4)), requires_grad=True)
    assert "AvgPool" not in type(F.adaptive_avg_pool2d(x, 1).grad_fn).__name__
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.avg_pool2d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match=r"Given input size: \(3x4x4\). Calculated output "
                                           r"size: \(3x0x0\). Output size is too small"):
        F.avg_pool2d(x, 5)
