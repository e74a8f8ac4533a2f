"""More functions without a device kernel that CUDA tensors take through the host (copysign,
fmax/fmin, nansum/nanmean, take, index_put(_), index_copy(_), masked_scatter(_), bernoulli,
poisson, gcd/lcm, div with a rounding mode): PyTorch's values and gradients, results on the
device; on numba-cuda's simulator (see conftest.py)."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg

A = np.array([[1.5, -2.5, 0.25, 3.0], [2.0, -0.5, 1.75, -1.25]])
B = np.array([[-1.0, 2.0, 0.5, -3.5], [0.75, 1.0, -2.0, 4.0]])


def _cases(lib, i):
    return {
        "copysign": lambda x, y: lib.copysign(x, y),
        "fmax": lambda x, y: lib.fmax(x, y),
        "fmin": lambda x, y: lib.fmin(x, y),
        "nansum": lambda x, y: lib.nansum(x.log() * y, 1),  # (NaN where x < 0)
        "nanmean": lambda x, y: (x.sqrt() * y).nanmean(),
        "take": lambda x, y: lib.take(y, i([0, 5, 7, 5])),
        "index_put": lambda x, y: lib.index_put(y, (i([0, 1]), i([3, 0])), x[0, :2] * 0 + 9.0),
        "index_put_acc": lambda x, y: (y * 1).index_put_((i([1, 1]), i([2, 2])), y[0, :2],
                                                        accumulate=True),
        "index_copy": lambda x, y: (y * 1).index_copy_(1, i([3, 0]), y[:, :2] * 2),
        "masked_scatter": lambda x, y: (y * 1).masked_scatter_(y > 0, y * 10),
        "div_floor": lambda x, y: lib.div(y * 3, y + 4, rounding_mode="floor") + y,
        "div_trunc": lambda x, y: y.div(0.7, rounding_mode="trunc") * y,
    }


@pytest.mark.parametrize("name", sorted(_cases(tg, None)))
def test_values_and_gradients(name, torch):
    def run(lib, dev):
        i = (lambda v: torch.tensor(v)) if lib is torch else \
            (lambda v: tg.tensor(v, device=dev))
        x = lib.tensor(A, requires_grad=True) if lib is torch else \
            tg.tensor(A, device=dev, requires_grad=True)
        y = lib.tensor(B, requires_grad=True) if lib is torch else \
            tg.tensor(B, device=dev, requires_grad=True)
        out = _cases(lib, i)[name](x, y)
        w = np.linspace(-1.0, 1.0, out.numel()).reshape(tuple(out.shape))
        loss = lib.nansum(out * (lib.tensor(w) if lib is torch else tg.tensor(w, device=dev)))
        grads = lib.autograd.grad(loss, (x, y), allow_unused=True)
        return out, grads

    out_t, grads_t = run(torch, None)
    out, grads = run(tg, "cuda")
    assert out.device == "cuda"
    np.testing.assert_allclose(out.detach().cpu().numpy(), out_t.detach().numpy())
    for g, gt in zip(grads, grads_t):
        if gt is None:
            assert g is None or not g.cpu().numpy().any()
            continue
        assert g.device == "cuda"
        np.testing.assert_allclose(g.cpu().numpy(), gt.numpy())


def test_integer_and_random_functions():
    i = tg.tensor([12, -18, 7], device="cuda")
    j = tg.tensor([8, 12, 0], device="cuda")
    for f in (tg.gcd, tg.lcm):
        got = f(i, j)
        assert got.device == "cuda" and got.dtype == tg.int64
        np.testing.assert_array_equal(got.cpu().numpy(), f(i.cpu(), j.cpu()).numpy())
    p = tg.tensor([0.0, 1.0, 0.5, 0.5], device="cuda")
    for f in (tg.bernoulli, tg.poisson):
        tg.manual_seed(3)
        got = f(p)
        tg.manual_seed(3)
        expected = f(p.cpu())  # the CPU's draws for one seed
        assert got.device == "cuda"
        np.testing.assert_array_equal(got.cpu().numpy(), expected.numpy())
    assert tg.bernoulli(p)[:2].cpu().tolist() == [0.0, 1.0]


@pytest.mark.parametrize("increasing", [False, True])
def test_vander_and_logdet_of_cuda_tensors(increasing, torch):
    v = np.array([0.0, 1.5, -2.0])
    expected = torch.vander(torch.tensor(v), 4, increasing=increasing)
    x = tg.tensor(v, device="cuda", requires_grad=True)
    got = tg.vander(x, 4, increasing=increasing)  # (its ones column was made on the CPU)
    assert got.device == "cuda"
    np.testing.assert_allclose(got.detach().cpu().numpy(), expected.numpy())
    g, = tg.autograd.grad((got ** 2).sum(), x)
    xc = tg.tensor(v, requires_grad=True)
    gc, = tg.autograd.grad((tg.vander(xc, 4, increasing=increasing) ** 2).sum(), xc)
    np.testing.assert_allclose(g.cpu().numpy(), gc.numpy())
    m = np.array([[2.0, 0.5, 0.1], [0.5, 1.5, 0.2], [0.1, 0.2, 1.0]])
    mt = torch.tensor(m, requires_grad=True)
    torch.logdet(mt).backward()
    mg = tg.tensor(m, device="cuda", requires_grad=True)
    ld = tg.logdet(mg)
    ld.backward()
    assert ld.device == "cuda" and mg.grad.device == "cuda"
    np.testing.assert_allclose(ld.item(), torch.logdet(mt).item())
    np.testing.assert_allclose(mg.grad.cpu().numpy(), mt.grad.numpy())


def test_keyword_tensors_go_through_the_host_too(torch):
    idx, w = [0, 2, 2, 3], [0.5, 1.0, 2.0, -1.0]
    expected = torch.bincount(torch.tensor(idx), weights=torch.tensor(w, dtype=torch.float64),
                              minlength=6)
    got = tg.bincount(tg.tensor(idx, device="cuda"), weights=tg.tensor(w, device="cuda"),
                      minlength=6)
    assert got.device == "cuda" and str(got.dtype) == str(expected.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.cpu().numpy(), expected.numpy())
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        tg.bincount(tg.tensor(idx, device="cuda"), weights=tg.tensor(w))


def test_normal_of_cuda_means_and_stds():
    m = tg.tensor([0.0, 10.0, 100.0], device="cuda", requires_grad=True)
    s = tg.tensor([1.0, 2.0, 3.0], device="cuda")
    for args in ((m, s), (m, 1.0), (0.5, s)):
        tg.manual_seed(1)
        got = tg.normal(*args)
        tg.manual_seed(1)
        expected = tg.normal(*[a.detach().cpu() if isinstance(a, tg.Tensor) else a
                               for a in args])  # the CPU generator's draws
        assert got.device == "cuda"
        np.testing.assert_array_equal(got.detach().cpu().numpy(), expected.numpy())
    tg.normal(m, s).sum().backward()  # no gradient flows to the mean, as in PyTorch
    assert m.grad.device == "cuda" and not m.grad.cpu().numpy().any()


@pytest.mark.parametrize("name", ["fmod", "remainder", "copysign", "fmax", "fmin", "logaddexp",
                                  "heaviside", "nextafter", "logical_xor", "igamma", "gcd"])
@pytest.mark.parametrize("scalar_first", [False, True])
def test_binary_host_functions_take_a_cpu_scalar_tensor(name, scalar_first, torch):
    # PyTorch's binary ops take a 0-d CPU tensor with CUDA ones (its meta device stands in)
    ints = name == "gcd"
    a, s = (np.array([[4, 6], [9, 0]]), np.array(6)) if ints else (np.abs(A) + 0.5, np.array(1.5))
    tf = getattr(torch, name)
    pair = (lambda x, y: (y, x)) if scalar_first else (lambda x, y: (x, y))
    if name != "copysign":  # (its meta reference, not its CUDA kernel, refuses the CPU scalar)
        assert tf(*pair(torch.tensor(a, device="meta"), torch.tensor(s))).device.type == "meta"
    got = getattr(tg, name)(*pair(tg.tensor(a, device="cuda"), tg.tensor(s)))
    assert got.device == "cuda"
    np.testing.assert_allclose(got.cpu().numpy(), tf(*pair(torch.tensor(a), torch.tensor(s))).numpy())


def test_a_cuda_scalar_tensor_with_a_cpu_tensor_is_refused():
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        tg.fmod(tg.tensor(A), tg.tensor(2.0, device="cuda"))


def test_div_with_rounding_takes_a_cpu_scalar_tensor(torch):
    got = tg.div(tg.tensor(A, device="cuda"), tg.tensor(-0.75), rounding_mode="floor")
    expected = torch.div(torch.tensor(A), torch.tensor(-0.75), rounding_mode="floor")
    assert got.device == "cuda"
    np.testing.assert_array_equal(got.cpu().numpy(), expected.numpy())
