"""nn modules on CUDA: ``Module.to``/``.cuda()``/``.cpu()``, layers built with
``device="cuda"``, and a model's forward and backward against the CPU, on numba-cuda's
simulator (see conftest.py)."""

import copy
import pickle

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F

RNG = np.random.default_rng(3)
X = RNG.standard_normal((5, 4))
Y = RNG.integers(0, 3, 5)


def mlp(seed=0):
    tg.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))


def assert_same(dev_tensor, cpu_tensor, tol=1e-12):
    assert dev_tensor.device == "cuda"
    np.testing.assert_allclose(dev_tensor.detach().cpu().numpy(), cpu_tensor.detach().numpy(),
                               rtol=tol, atol=tol)


def test_to_cuda_moves_parameters_grads_and_buffers_in_place():
    m = mlp()
    m.register_buffer("counts", tg.tensor([1, 2, 3]))
    m.register_buffer("scale", tg.tensor([0.5, 2.0]))
    (m(tg.tensor(X)) ** 2).sum().backward()
    params = list(m.parameters())
    values = [p.detach().numpy().copy() for p in params]
    grads = [p.grad.numpy().copy() for p in params]
    assert m.to("cuda") is m
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]  # the same Parameters
    for p, v, g in zip(params, values, grads):
        assert p.device == "cuda" and p.requires_grad and p.is_leaf
        assert p.grad.device == "cuda"
        np.testing.assert_array_equal(p.detach().cpu().numpy(), v)
        np.testing.assert_array_equal(p.grad.cpu().numpy(), g)
    assert m.counts.device == "cuda" and m.counts.dtype == np.int64  # moved, dtype kept
    assert m.scale.device == "cuda"
    m.cpu()
    assert all(p.device == "cpu" and p.grad.device == "cpu" for p in m.parameters())
    assert m.counts.device == "cpu"
    np.testing.assert_array_equal(params[0].detach().numpy(), values[0])


def test_to_forms():
    m = mlp().to(device="cuda", dtype=tg.float32)
    assert all(p.device == "cuda" and p.dtype == np.float32 for p in m.parameters())
    m.to(tg.float64)  # dtype only: stays on the device
    assert all(p.device == "cuda" and p.dtype == np.float64 for p in m.parameters())
    m.cpu().cuda()
    assert all(p.device == "cuda" for p in m.parameters())
    m.to(tg.zeros(1, dtype=tg.float32))  # a tensor: its dtype and device
    assert all(p.device == "cpu" and p.dtype == np.float32 for p in m.parameters())
    m.to(tg.device("cuda", 0))
    assert all(p.device == "cuda" for p in m.parameters())
    with pytest.raises(TypeError, match="only accepts floating point"):
        m.to("cuda", tg.int64)


def test_layers_built_on_cuda_match_the_cpu_initialisation():
    for make in (lambda d: nn.Linear(4, 3, device=d),
                 lambda d: nn.LayerNorm((2, 3), device=d),
                 lambda d: nn.Embedding(5, 3, padding_idx=2, device=d)):
        tg.manual_seed(7)
        cpu = make(None)
        tg.manual_seed(7)
        dev = make("cuda")
        for pc, pd in zip(cpu.parameters(), dev.parameters()):
            assert isinstance(pd, nn.Parameter) and pd.requires_grad
            assert_same(pd, pc, 0)


def test_nn_init_fills_cuda_parameters():
    w = nn.Parameter(tg.zeros(3, 4, device="cuda"))
    nn.init.xavier_uniform_(w)
    bound = (6 / 7) ** 0.5
    v = w.detach().cpu().numpy()
    assert w.device == "cuda" and np.all(np.abs(v) <= bound) and np.any(v != 0)
    nn.init.constant_(w, 0.25)
    np.testing.assert_array_equal(w.detach().cpu().numpy(), np.full((3, 4), 0.25))


def _check_model(make, inputs, loss_fn):
    """Forward and backward of ``make()`` on the CPU and moved to cuda: same loss, grads."""
    cpu, dev = make(), make().cuda()
    lc = loss_fn(cpu(*[tg.tensor(a) for a in inputs]))
    ld = loss_fn(dev(*[tg.tensor(a, device="cuda") for a in inputs]))
    assert_same(ld, lc)
    lc.backward()
    ld.backward()
    for (name, pc), pd in zip(cpu.named_parameters(), dev.parameters()):
        assert pd.grad is not None, name
        assert_same(pd.grad, pc.grad)


def test_mlp_cross_entropy_matches_cpu(reduction="sum"):
    y = {"cpu": tg.tensor(Y), "cuda": tg.tensor(Y, device="cuda")}

    def loss(out):
        return F.cross_entropy(out, y[str(out.device)[:4]], reduction=reduction)

    _check_model(mlp, [X], loss)


def test_cross_entropy_options_on_cuda():
    t = np.array([0, 2, -100, 1, 2])
    w = np.array([0.5, 1.0, 2.0])

    def loss(x, t, w):
        return F.cross_entropy(x, t, weight=w, ignore_index=-100, label_smoothing=0.1)

    xc = tg.tensor(X[:, :3], requires_grad=True)
    xd = tg.tensor(X[:, :3], device="cuda", requires_grad=True)
    lc = loss(xc, tg.tensor(t), tg.tensor(w))
    ld = loss(xd, tg.tensor(t, device="cuda"), tg.tensor(w, device="cuda"))
    assert_same(ld, lc)
    lc.backward()
    ld.backward()
    assert_same(xd.grad, xc.grad)


class _Tagger(nn.Module):
    """Embedding + LayerNorm + Linear: the layers with parameters."""

    def __init__(self):
        super().__init__()
        tg.manual_seed(1)
        self.emb = nn.Embedding(6, 4, padding_idx=0)
        self.norm = nn.LayerNorm(4)
        self.out = nn.Linear(4, 3)

    def forward(self, idx):
        return self.out(F.relu(self.norm(self.emb(idx))))


def test_embedding_layernorm_model_matches_cpu():
    idx = np.array([[1, 0, 5], [2, 2, 3]])
    y = {"cpu": tg.tensor(Y[:3]), "cuda": tg.tensor(Y[:3], device="cuda")}
    _check_model(_Tagger, [idx], lambda out: F.cross_entropy(out[0], y[str(out.device)[:4]]))


def test_deepcopy_and_pickle_keep_cuda_parameters():
    m = mlp().cuda()
    for clone in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        for p, q in zip(m.parameters(), clone.parameters()):
            assert isinstance(q, nn.Parameter) and q is not p
            assert_same(q, p.cpu(), 0)
    sd = m.state_dict()
    other = mlp(seed=5).cuda()
    other.load_state_dict(sd)
    for p, q in zip(m.parameters(), other.parameters()):
        assert q.device == "cuda"
        assert_same(q, p.cpu(), 0)


def test_losses_reading_values_on_the_host():
    """binary_cross_entropy checks its input's range and nll_loss its targets on the host."""
    p = RNG.uniform(0.1, 0.9, (3, 4))
    t = (RNG.uniform(size=(3, 4)) > 0.5).astype(float)
    for loss in (lambda x, d: F.binary_cross_entropy(x, tg.tensor(t, device=d)),
                 lambda x, d: F.nll_loss(x.log(), tg.tensor([0, 3, 1], device=d),
                                         weight=tg.tensor([1.0, 2.0, 0.5, 1.0], device=d))):
        xc = tg.tensor(p, requires_grad=True)
        xd = tg.tensor(p, device="cuda", requires_grad=True)
        lc, ld = loss(xc, "cpu"), loss(xd, "cuda")
        assert_same(ld, lc)
        lc.backward()
        ld.backward()
        assert_same(xd.grad, xc.grad)
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(tg.tensor(p + 1.0, device="cuda"), tg.tensor(t, device="cuda"))
