"""CUDA tensors against the CPU path, on numba-cuda's simulator (see conftest.py).

Every check runs the same function on CPU tensors and on ``device="cuda"`` copies and
compares values and gradients (float64 and float32). Sizes are small: the simulator runs each
GPU thread as a Python thread.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg

RNG = np.random.default_rng(0)


def _tol(dtype):
    return dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)


def check(fn, *arrays, dtype=np.float64, grad=True, seed=None):
    """fn on CPU and CUDA leaves: same value, same gradients (an upstream weight w); with
    ``seed``, each run from it (fn draws random numbers)."""
    cpu = [tg.tensor(a.astype(dtype), requires_grad=grad) for a in arrays]
    dev = [tg.tensor(a.astype(dtype), device="cuda", requires_grad=grad) for a in arrays]
    ys = []
    for xs in (cpu, dev):
        if seed is not None:
            tg.manual_seed(seed)
        ys.append(fn(*xs))
    yc, yd = ys
    assert yd.device == "cuda" and yc.device == "cpu"
    assert yd.shape == yc.shape and yd.dtype == yc.dtype, (yd.shape, yc.shape, yd.dtype)
    np.testing.assert_allclose(yd.cpu().detach().numpy(), yc.detach().numpy(), **_tol(dtype))
    if not grad:
        return
    w = RNG.standard_normal(yc.shape)
    (yc * tg.tensor(w.astype(yc.dtype))).sum().backward()
    (yd * tg.tensor(w.astype(yd.dtype), device="cuda")).sum().backward()
    for c, d in zip(cpu, dev):
        assert d.grad.device == "cuda" and d.grad.dtype == c.grad.dtype
        np.testing.assert_allclose(d.grad.cpu().numpy(), c.grad.numpy(), **_tol(dtype))


def check_exact(fn):
    """``fn(t)``, t making CPU tensors, then CUDA ones: the result on the device, with the
    CPU's dtype, shape and values, exactly (masks, counts, indices, constructors)."""
    yc = fn(lambda a: tg.tensor(a))
    yd = fn(lambda a: tg.tensor(a, device="cuda"))
    assert yd.device == "cuda" and yc.device == "cpu"
    assert yd.dtype == yc.dtype and yd.shape == yc.shape, (yd.dtype, yc.dtype, yd.shape)
    np.testing.assert_array_equal(yd.cpu().numpy(), yc.numpy())


POS = RNG.uniform(0.5, 1.5, (3, 4))
ANY = RNG.uniform(-1.0, 1.0, (3, 4))
ANY2 = RNG.uniform(-1.0, 1.0, (3, 4))

UNARY = {
    "neg": (tg.neg, ANY), "exp": (tg.exp, ANY), "log": (tg.log, POS),
    "log1p": (tg.log1p, POS), "expm1": (tg.expm1, ANY), "sin": (tg.sin, ANY),
    "cos": (tg.cos, ANY), "tan": (tg.tan, ANY), "tanh": (tg.tanh, ANY),
    "sigmoid": (tg.sigmoid, ANY), "relu": (tg.relu, ANY), "sqrt": (tg.sqrt, POS),
    "abs": (tg.abs, ANY), "clone": (lambda x: x.clone(), ANY),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name, dtype):
    fn, a = UNARY[name]
    check(fn, a, dtype=dtype)


BINARY = {
    "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y, "pow": lambda x, y: x ** y, "maximum": tg.maximum,
    "minimum": tg.minimum,
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_same_shape(name):
    check(BINARY[name], POS, POS[::-1].copy())


@pytest.mark.parametrize("shapes", [((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1))])
def test_binary_broadcasting(shapes):
    a = RNG.uniform(0.5, 1.5, shapes[0])
    b = RNG.uniform(0.5, 1.5, shapes[1])
    check(lambda x, y: x * y + x / y - y, a, b)
    check(lambda x, y: x ** y, a, b, dtype=np.float32)


CONST = {
    "add": lambda x: x + 2.0, "radd": lambda x: 2.0 + x, "sub": lambda x: x - 2.0,
    "rsub": lambda x: 2.0 - x, "mul": lambda x: x * 3.0, "div": lambda x: x / 4.0,
    "rdiv": lambda x: 2.0 / x, "pow": lambda x: x ** 3, "sqrtpow": lambda x: x ** 0.5,
    "rpow": lambda x: 2.0 ** x, "clamp": lambda x: tg.clamp(x, 0.7, 1.2),
    "clamp_min": lambda x: x.clamp(min=0.8), "maxnum": lambda x: tg.maximum(x, 1.0),
    "mean": lambda x: x.mean(),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(CONST))
def test_constant_variants(name, dtype):
    check(CONST[name], POS, dtype=dtype)


def test_where():
    cond = ANY > 0
    check(lambda x, y: tg.where(tg.tensor(cond, device="cuda") if x.is_cuda else
                                tg.tensor(cond), x, y), ANY, ANY2)
    check(lambda x: tg.where(tg.tensor(cond, device="cuda") if x.is_cuda else tg.tensor(cond),
                             x, 0.0), ANY)


REDUCE = {
    "sum": lambda x: x.sum(), "sum0": lambda x: x.sum(0), "sum1": lambda x: x.sum(1),
    "sum02": lambda x: x.sum((0, 2)), "sum_keep": lambda x: x.sum(-1, keepdim=True),
    "mean": lambda x: x.mean(), "mean1": lambda x: x.mean(1),
    "mean_keep": lambda x: x.mean((0, 1), keepdim=True),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(REDUCE))
def test_reductions(name, dtype):
    check(REDUCE[name], RNG.standard_normal((2, 3, 5)), dtype=dtype)


def test_sum_of_a_larger_vector_is_a_parallel_reduction():
    a = RNG.standard_normal(300)
    check(lambda x: x.sum(), a)
    check(lambda x: (x * x).sum(), a, dtype=np.float32)


MOVE = {
    "reshape": lambda x: x.reshape(6, 5), "view": lambda x: x.view(-1),
    "transpose": lambda x: x.transpose(0, 2), "permute": lambda x: x.permute(2, 0, 1),
    "T": lambda x: x.reshape(6, 5).T, "slice": lambda x: x[1:, ::2],
    "int_index": lambda x: x[0, 1], "neg_step": lambda x: x[:, ::-1],
    "expand": lambda x: x[:, :1].expand(2, 4, 5), "broadcast_to": lambda x: tg.broadcast_to(
        x[0], (4, 3, 5)), "unsqueeze": lambda x: x.unsqueeze(1), "flatten": lambda x: x.flatten(),
    "squeeze": lambda x: x[:, :1].squeeze(1), "chain": lambda x: x.permute(1, 0, 2)[1:].sum(0),
}


@pytest.mark.parametrize("name", sorted(MOVE))
def test_movement(name):
    check(MOVE[name], RNG.standard_normal((2, 3, 5)))


@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)),
                                    ((2, 3, 4), (4, 5)), ((3, 4), (4,)), ((4,), (4, 5)),
                                    ((4,), (4,)), ((5, 9), (9, 6))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matmul(shapes, dtype):
    a = RNG.standard_normal(shapes[0])
    b = RNG.standard_normal(shapes[1])
    check(lambda x, y: x @ y, a, b, dtype=dtype)


def test_matmul_with_one_constant_operand():
    a, b = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2))
    for wx in (True, False):
        xc = tg.tensor(a, requires_grad=wx)
        yc = tg.tensor(b, requires_grad=not wx)
        xd, yd = xc.detach().cuda().requires_grad_(wx), yc.detach().cuda().requires_grad_(not wx)
        (xc @ yc).sum().backward()
        (xd @ yd).sum().backward()
        leaf_c, leaf_d = (xc, xd) if wx else (yc, yd)
        np.testing.assert_allclose(leaf_d.grad.cpu().numpy(), leaf_c.grad.numpy())


def test_mlp_step_matches_cpu():
    x, w1, w2 = (RNG.standard_normal(s) for s in ((4, 3), (3, 5), (5, 2)))
    check(lambda x, w1, w2: tg.tanh(tg.relu(x @ w1) @ w2).mean(), x, w1, w2)
    check(lambda x, w1: tg.sigmoid(x @ w1).sum(1) + 1.0, x, w1, dtype=np.float32)


def test_no_grad_forward_records_nothing():
    x = tg.tensor(ANY, device="cuda", requires_grad=True)
    with tg.no_grad():
        y = (x * 2).exp().sum()
    assert not y.requires_grad and y.device == "cuda"
    np.testing.assert_allclose(y.item(), np.exp(ANY * 2).sum())


# ---- devices, transfers, messages ------------------------------------------------------

def test_device_object_and_printing():
    x = tg.tensor([1.0, 2.0], device="cuda")
    assert x.device == "cuda" and x.device == "cuda:0" and x.device != "cpu"
    assert x.is_cuda and not tg.ones(1).is_cuda
    assert repr(x.device) == "device(type='cuda', index=0)"
    assert str(x.device) == "cuda:0"
    assert repr(tg.ones(1).device) == "device(type='cpu')" and tg.ones(1).device == "cpu"
    assert x.device == tg.device("cuda") and hash(x.device) == hash(tg.device("cuda:0"))
    assert repr(x) == "tensor([1., 2.], device='cuda:0')"
    assert "device='cuda:0'" in repr(x.requires_grad_())
    assert x.tolist() == [1.0, 2.0] and x.sum().item() == 3.0


def test_numpy_refuses_a_device_tensor():
    x = tg.ones(3, device="cuda")
    msg = ("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the "
           "tensor to host memory first.")
    with pytest.raises(TypeError) as e:
        x.numpy()
    assert str(e.value) == msg
    with pytest.raises(TypeError, match="can't convert cuda:0"):
        np.asarray(x)


def test_transfers_round_trip():
    a = RNG.standard_normal((2, 3))
    x = tg.tensor(a)
    y = x.to("cuda")
    assert y.device == "cuda" and y.dtype == np.float64
    assert x.cuda().device == "cuda" and y.cpu().device == "cpu"
    np.testing.assert_array_equal(y.cpu().numpy(), a)
    np.testing.assert_array_equal(y.to("cpu").numpy(), a)
    np.testing.assert_array_equal(y.to(tg.device("cpu")).numpy(), a)
    z = y.to(tg.float32)
    assert z.device == "cuda" and z.dtype == np.float32
    np.testing.assert_allclose(z.cpu().numpy(), a.astype(np.float32))
    assert y.to("cuda") is y and x.cpu() is x
    assert x.to(y.device).device == "cuda"


@pytest.mark.parametrize("make", [
    lambda: tg.zeros(2, 3, device="cuda"), lambda: tg.ones((2, 3), device="cuda"),
    lambda: tg.full((2, 3), 7.0, device="cuda"), lambda: tg.empty(2, 3, device="cuda"),
    lambda: tg.arange(6, device="cuda"), lambda: tg.linspace(0, 1, 5, device="cuda"),
    lambda: tg.eye(3, device="cuda"), lambda: tg.rand(2, 3, device="cuda"),
    lambda: tg.randn(2, 3, device="cuda:0"), lambda: tg.zeros_like(tg.ones(2, device="cuda")),
    lambda: tg.ones_like(tg.ones(2), device="cuda"),
    lambda: tg.full_like(tg.ones(2, device="cuda"), 3.0),
    lambda: tg.rand_like(tg.ones(2, device="cuda")),
    lambda: tg.randn_like(tg.ones(2, device="cuda")),
    lambda: tg.empty_like(tg.ones(2, device="cuda")),
])
def test_factories_on_the_device(make):
    t = make()
    assert t.device == "cuda"
    host = t.cpu().numpy()
    assert host.shape == t.shape and np.all(np.isfinite(host))


def test_factory_values_match_cpu():
    np.testing.assert_array_equal(tg.arange(1, 7, 2, device="cuda").cpu().numpy(), [1, 3, 5])
    np.testing.assert_array_equal(tg.eye(2, device="cuda").cpu().numpy(), np.eye(2))
    tg.manual_seed(3)
    a = tg.randn(4, device="cuda").cpu().numpy()
    tg.manual_seed(3)
    np.testing.assert_array_equal(a, tg.randn(4).numpy())
    r = tg.ones(3, device="cuda", requires_grad=True)
    assert r.requires_grad and r.is_leaf


def test_cuda_module():
    assert tg.cuda.is_available() is True
    assert tg.cuda.device_count() == 1
    tg.cuda.synchronize()
    assert tg.cuda.current_device() == 0


def test_mixed_devices_raise_pytorchs_error():
    msg = ("Expected all tensors to be on the same device, but found at least two devices, "
           "cuda:0 and cpu!")
    x, y = tg.ones(3, device="cuda"), tg.ones(3)
    for f in (lambda: x + y, lambda: y * x, lambda: tg.maximum(x, y),
              lambda: tg.ones((3, 3), device="cuda") @ tg.ones(3)):
        with pytest.raises(RuntimeError) as e:
            f()
        assert str(e.value) == msg


def test_unsupported_ops_say_so():
    x = tg.ones(3, 3, device="cuda", requires_grad=True)
    with pytest.raises(NotImplementedError, match="cuda"):
        tg.complex(x, x)


# ---- autograd across devices -----------------------------------------------------------

def test_gradient_across_cpu_and_cuda_segments():
    a = RNG.standard_normal(5)
    x = tg.tensor(a, requires_grad=True)
    y = (x * 2.0).cuda()  # CPU segment -> device segment
    z = tg.exp(y).cpu() * 3.0  # device segment -> CPU segment
    z.sum().backward()
    assert x.grad.device == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), 6.0 * np.exp(2 * a))
    xd = tg.tensor(a, device="cuda", requires_grad=True)
    (xd.cpu() ** 2).sum().backward()
    assert xd.grad.device == "cuda"
    np.testing.assert_allclose(xd.grad.cpu().numpy(), 2 * a)


def test_gradients_accumulate_and_graph_is_freed():
    x = tg.tensor(POS, device="cuda", requires_grad=True)
    y = (x.log() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), 2 * (np.log(POS) + 1))
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_autograd_grad_and_seeds():
    x = tg.tensor(ANY, device="cuda", requires_grad=True)
    y = x.sin()
    (g,) = tg.autograd.grad(y, x, grad_outputs=tg.ones_like(y) * 2.0)
    assert g.device == "cuda"
    np.testing.assert_allclose(g.cpu().numpy(), 2 * np.cos(ANY))
    x2 = tg.tensor(ANY, device="cuda", requires_grad=True)
    h = x2 * 3.0
    (gh,) = tg.autograd.grad(h.sum(), h)  # a non-leaf input
    np.testing.assert_allclose(gh.cpu().numpy(), np.ones_like(ANY))


def test_hooks_and_retain_grad_on_device():
    x = tg.tensor(ANY, device="cuda", requires_grad=True)
    y = x * 2.0
    y.retain_grad()
    y.register_hook(lambda g: g * 10.0)  # the result goes back to the device adjoint
    x.register_hook(lambda g: g + 1.0)
    y.sum().backward()
    assert y.grad.device == "cuda"
    np.testing.assert_allclose(y.grad.cpu().numpy(), 10.0 * np.ones_like(ANY))
    np.testing.assert_allclose(x.grad.cpu().numpy(), 21.0 * np.ones_like(ANY))


def test_custom_function_on_device():
    class Cube(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors  # a CUDA tensor, as g is
            return g * 3.0 * x * x

    x = tg.tensor(ANY, device="cuda", requires_grad=True)
    Cube.apply(x).sum().backward()
    assert x.grad.device == "cuda"
    np.testing.assert_allclose(x.grad.cpu().numpy(), 3 * ANY ** 2)


def test_hooks_and_backward_receive_cuda_gradients():
    """As in PyTorch, the gradient a hook or a custom backward gets is on the tensor's device,
    so it combines with the CUDA tensors it closes over or saved."""
    mask = tg.tensor(ANY > 0, device="cuda").double()
    seen = []

    class MaskedSquare(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            seen.append(g.device)
            return 2.0 * x * g * mask

    x = tg.tensor(ANY, device="cuda", requires_grad=True)
    y = MaskedSquare.apply(x)
    y.register_hook(lambda g: seen.append(g.device) or g * mask + 1.0)
    x.register_hook(lambda g: seen.append(g.device))
    y.sum().backward()
    assert seen == ["cuda", "cuda", "cuda"] and x.grad.device == "cuda"
    m = (ANY > 0).astype(float)
    np.testing.assert_allclose(x.grad.cpu().numpy(), 2.0 * ANY * (m + 1.0) * m)


def test_a_hook_may_not_move_the_gradient_to_the_cpu():
    x = tg.tensor(ANY, device="cuda", requires_grad=True)
    y = x * 2.0
    y.register_hook(lambda g: g.cpu())
    with pytest.raises(RuntimeError, match=r"has changed the type of value \(was "
                       r"torch.cuda.DoubleTensor got torch.DoubleTensor\)"):
        y.sum().backward()


def test_generated_kernels_cover_every_elementwise_op():
    from tapegrad.engine.cuda import _gen_kernels
    from tapegrad.registry import REGISTRY

    src = _gen_kernels.render()
    for code, d in REGISTRY.items():
        if d.kind in ("unary", "binary"):
            assert f"if op == {code}:" in src, d.name


# ---- import hygiene and the errors without CUDA (fresh processes) ----------------------

def _run(code, **env):
    e = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    e.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=e, timeout=120)


def test_import_tapegrad_does_not_import_numba_cuda():
    p = _run("import sys, tapegrad as tg; x = tg.ones(2, requires_grad=True); "
             "(x * x).sum().backward(); print('numba.cuda' in sys.modules, "
             "'numba_cuda' in sys.modules)")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["False", "False"]


def test_without_numba_cuda_cuda_raises_a_clear_error():
    p = _run("import sys; sys.modules['numba.cuda'] = None; sys.modules['numba_cuda'] = None\n"
             "import tapegrad as tg\n"
             "assert tg.cuda.is_available() is False and tg.cuda.device_count() == 0\n"
             "try:\n    tg.ones(2, device='cuda')\n"
             "except RuntimeError as e:\n    print(e)\n")
    assert p.returncode == 0, p.stderr
    assert "numba-cuda" in p.stdout and "pip install" in p.stdout


def test_without_a_gpu_cuda_raises_a_clear_error():
    p = _run("import tapegrad as tg\nfrom numba import cuda\n"
             "print('gpu' if cuda.is_available() else 'none')\n"
             "try:\n    tg.ones(2, device='cuda')\n"
             "except RuntimeError as e:\n    print(e)\n", NUMBA_ENABLE_CUDASIM="0")
    assert p.returncode == 0, p.stderr
    if p.stdout.startswith("gpu"):  # a machine with a GPU: nothing to refuse
        assert len(p.stdout.splitlines()) == 1
    else:
        assert "NUMBA_ENABLE_CUDASIM=1" in p.stdout and "GPU" in p.stdout


def test_simulator_arithmetic_after_numba_reloads_its_config():
    # A harness that switches the simulator on and then removes NUMBA_ENABLE_CUDASIM from the
    # environment (this suite's conftest, to keep it from subprocesses): Numba's next compile
    # reloads its config, which then says "no simulator" while numba.cuda stays the simulator.
    # The kernels loaded after that must still give inf/nan, not Python's "math domain error".
    p = _run("import os, math\n"
             "os.environ['NUMBA_ENABLE_CUDASIM'] = '1'\n"
             "import numba.cuda\n"
             "del os.environ['NUMBA_ENABLE_CUDASIM']\n"
             "from numba import njit\n"
             "njit(lambda v: v + 1)(1)  # a compile: Numba reloads its config\n"
             "import tapegrad as tg\n"
             "x = tg.tensor([2.0, 0.5], device='cuda')\n"
             "y = tg.acos(x).cpu().numpy()\n"
             "print(math.isnan(y[0]), abs(y[1] - math.acos(0.5)) < 1e-15)\n")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["True", "True"]
