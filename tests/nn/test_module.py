"""tg.nn.Module and layers: registration, traversal, state, printing and values/gradients
against torch.nn with the same weights."""

import math
from collections import OrderedDict

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.Tanh()
        self.blocks = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4)])
        self.out = nn.Sequential(nn.Linear(4, 2))
        self.register_buffer("scale", tg.tensor([2.0]))
        self.register_buffer("tmp", tg.tensor([1.0]), persistent=False)

    def forward(self, x):
        h = self.act(self.fc1(x))
        for b in self.blocks:
            h = F.relu(b(h))
        return self.out(h) * self.scale


NAMES = ["fc1.weight", "fc1.bias", "blocks.0.weight", "blocks.0.bias", "blocks.1.weight",
         "blocks.1.bias", "out.0.weight", "out.0.bias"]


def test_registration_and_traversal():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == NAMES
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    assert [type(m).__name__ for m in net.children()] == ["Linear", "Tanh", "ModuleList",
                                                          "Sequential"]
    assert len(list(net.modules())) == 8
    assert [n for n, _ in net.named_buffers()] == ["scale", "tmp"]
    # own parameters and buffers first, then each child's (PyTorch's order)
    assert list(net.state_dict()) == ["scale"] + NAMES
    net.fc1 = None
    assert "fc1.weight" not in dict(net.named_parameters())
    with pytest.raises(TypeError, match=r"cannot assign 'int' as child module 'out' "
                                        r"\(torch.nn.Module or None expected\)"):
        net.out = 3
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"cannot assign 'torch.DoubleTensor' as parameter 'weight' "
                                        r"\(torch.nn.Parameter or None expected\)"):
        lin.weight = tg.zeros(2, 2)
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'nope'"):
        lin.nope
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, shared)
    assert len(list(seq.parameters())) == 2


def test_state_dict_order_and_load(torch):
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert "tmp" not in sd
    assert not sd["fc1.weight"].requires_grad
    net2 = Net()
    result = net2.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = tg.randn(5, 3)
    np.testing.assert_array_equal(net(x).detach().numpy(), net2(x).detach().numpy())
    bad = OrderedDict(sd)
    del bad["fc1.bias"]
    bad["extra"] = tg.zeros(1)
    with pytest.raises(RuntimeError) as e:
        net2.load_state_dict(bad)
    # the same message PyTorch gives for the same keys
    tl = torch.nn.Linear(3, 4)
    tsd = OrderedDict(weight=torch.zeros(3, 4), extra=torch.zeros(1))
    with pytest.raises(RuntimeError) as te:
        tl.load_state_dict(tsd)
    assert "Unexpected key(s) in state_dict: \"extra\". " in str(te.value)
    assert str(e.value).startswith("Error(s) in loading state_dict for Net:\n\t"
                                   "Missing key(s) in state_dict: \"fc1.bias\". \n\t"
                                   "Unexpected key(s) in state_dict: \"extra\". ")
    mine = nn.Linear(3, 4)
    with pytest.raises(RuntimeError) as e2:
        mine.load_state_dict(OrderedDict(weight=tg.zeros(3, 4), extra=tg.zeros(1)))
    assert str(e2.value).replace("torch.Size", "") == str(te.value).replace("torch.Size", "")
    res = net2.load_state_dict(bad, strict=False)
    assert res.missing_keys == ["fc1.bias"] and res.unexpected_keys == ["extra"]


def test_repr_matches_torch(torch):
    def build(mod):
        return mod.Sequential(mod.Linear(3, 4), mod.ReLU(), mod.Dropout(0.1),
                              mod.ModuleList([mod.Linear(4, 4) for _ in range(3)]),
                              mod.LayerNorm(4), mod.Embedding(10, 3, padding_idx=0),
                              mod.GELU(approximate="tanh"), mod.LeakyReLU(0.2), mod.ELU(),
                              mod.Softplus(), mod.Softmax(dim=1), mod.LogSoftmax(dim=-1),
                              mod.SiLU(), mod.Sigmoid(), mod.Tanh(), mod.Linear(4, 2, bias=False))

    assert repr(build(nn)) == repr(build(torch.nn))
    p = nn.Parameter(tg.tensor([1.0, 2.5]))
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.5], dtype=torch.float64)))\
        .replace(", dtype=torch.float64", "")


def test_modes_zero_grad_apply_to():
    net = Net()
    assert net.training and all(m.training for m in net.modules())
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net(tg.randn(2, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and len(seen) == 8
    net.to(tg.float32)
    assert all(p.dtype == np.float32 for p in net.parameters())
    assert net.scale.dtype == np.float32
    assert net(tg.randn(2, 3, dtype=tg.float32)).dtype == np.float32
    net(tg.randn(2, 3, dtype=tg.float32)).sum().backward()
    grads = [p.grad for p in net.parameters()]
    net.double()
    assert all(p.dtype == np.float64 for p in net.parameters())
    # the same .grad objects, converted (PyTorch's), so references held to them stay current
    assert all(p.grad is g and g.dtype == np.float64 for p, g in zip(net.parameters(), grads))
    assert net.to("cpu") is net
    if tg.cuda.is_available():  # moved there and back (tests/cuda/test_cuda_nn.py: more)
        assert net.to("cuda") is net and all(p.device == "cuda" for p in net.parameters())
        assert net.cpu() is net and all(p.device == "cpu" for p in net.parameters())
    else:
        with pytest.raises(RuntimeError, match="CUDA"):
            net.to("cuda")
    with pytest.raises(NotImplementedError, match=r'Module \[Module\] is missing the required '
                                                  r'"forward" function'):
        nn.Module()(1)


def test_init_distributions_and_seed():
    tg.manual_seed(3)
    a = nn.Linear(50, 40)
    tg.manual_seed(3)
    b = nn.Linear(50, 40)
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    bound = 1 / math.sqrt(50)
    w = a.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01
    assert np.abs(a.bias.detach().numpy()).max() <= bound
    e = nn.Embedding(1000, 20, padding_idx=3).weight.detach().numpy()
    assert abs(e.std() - 1) < 0.03 and not e[3].any()
    ln = nn.LayerNorm(5)
    assert (ln.weight.detach().numpy() == 1).all() and (ln.bias.detach().numpy() == 0).all()
    t = tg.empty(200, 300)
    for fn, std in [(nn.init.xavier_uniform_, math.sqrt(2 / 500)),
                    (nn.init.xavier_normal_, math.sqrt(2 / 500)),
                    (nn.init.kaiming_uniform_, math.sqrt(2 / 300)),
                    (nn.init.kaiming_normal_, math.sqrt(2 / 300)),
                    (lambda x: nn.init.normal_(x, 1.0, 0.5), 0.5),
                    (lambda x: nn.init.uniform_(x, -1, 1), 1 / math.sqrt(3))]:
        fn(t)
        assert abs(t.numpy().std() / std - 1) < 0.03
    nn.init.constant_(t, 0.25)
    assert (t.numpy() == 0.25).all()
    nn.init.zeros_(t)
    assert not t.numpy().any()
    nn.init.ones_(t)
    assert (t.numpy() == 1).all()
    p = nn.Parameter(tg.zeros(3, 3))
    nn.init.uniform_(p)
    assert p.is_leaf and p.grad_fn is None and p.requires_grad


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_layers_match_torch_with_same_weights(torch, dtype):
    tdt = getattr(torch, dtype)
    tg.manual_seed(0)
    torch.manual_seed(0)

    def pair(mod_tg, mod_th):
        mod_tg.to(getattr(tg, dtype))
        mod_th.to(tdt)
        mod_tg.load_state_dict(OrderedDict((k, tg.tensor(v.detach().numpy()))
                                           for k, v in mod_th.state_dict().items()))
        return mod_tg, mod_th

    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 5)).astype(dtype)
    t = rng.integers(0, 3, 6)
    models = [
        pair(nn.Sequential(nn.Linear(5, 8), nn.GELU(), nn.LayerNorm(8), nn.SiLU(),
                           nn.Linear(8, 3)),
             torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.GELU(), torch.nn.LayerNorm(8),
                                 torch.nn.SiLU(), torch.nn.Linear(8, 3))),
    ]
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=1e-4, atol=1e-5)
    for (mt, mth) in models:
        for loss_tg, loss_th in [(nn.CrossEntropyLoss(label_smoothing=0.1),
                                  torch.nn.CrossEntropyLoss(label_smoothing=0.1)),
                                 (nn.NLLLoss(), torch.nn.NLLLoss())]:
            mt.zero_grad()
            mth.zero_grad()
            xt = tg.tensor(x)
            xth = torch.tensor(x)
            out_tg, out_th = mt(xt), mth(xth)
            if isinstance(loss_tg, nn.NLLLoss):
                out_tg, out_th = out_tg.log_softmax(1), out_th.log_softmax(1)
            lt, lth = loss_tg(out_tg, tg.tensor(t)), loss_th(out_th, torch.tensor(t))
            lt.backward()
            lth.backward()
            np.testing.assert_allclose(lt.item(), lth.item(), **tol)
            for (n1, p1), (n2, p2) in zip(mt.named_parameters(), mth.named_parameters()):
                assert n1 == n2
                np.testing.assert_allclose(p1.grad.numpy(), p2.grad.numpy(), **tol)
    emb, temb = pair(nn.Embedding(7, 4, padding_idx=2), torch.nn.Embedding(7, 4, padding_idx=2))
    idx = np.array([[1, 2, 6], [2, 0, 1]])
    (emb(tg.tensor(idx)) ** 2).sum().backward()
    (temb(torch.tensor(idx)) ** 2).sum().backward()
    np.testing.assert_allclose(emb.weight.grad.numpy(), temb.weight.grad.numpy(), **tol)


LOSS_MODULES = ["MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss"]


@pytest.mark.parametrize("name", LOSS_MODULES)
def test_loss_modules(torch, name):
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0.05, 0.95, (4, 3)), rng.uniform(size=(4, 3))
    for red in ("mean", "sum", "none"):
        xa, ta = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        lt = getattr(nn, name)(reduction=red)(xa, tg.tensor(b))
        lth = getattr(torch.nn, name)(reduction=red)(ta, torch.tensor(b))
        np.testing.assert_allclose(lt.detach().numpy(), lth.detach().numpy(), rtol=1e-12)
        lt.sum().backward()
        lth.sum().backward()
        np.testing.assert_allclose(xa.grad.numpy(), ta.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_activation_modules_match_functional():
    x = tg.randn(3, 4)
    for mod, fn in [(nn.ReLU(), F.relu), (nn.Tanh(), F.tanh), (nn.Sigmoid(), F.sigmoid),
                    (nn.GELU(), F.gelu), (nn.SiLU(), F.silu), (nn.LeakyReLU(0.3),
                                                               lambda v: F.leaky_relu(v, 0.3)),
                    (nn.ELU(), F.elu), (nn.Softplus(), F.softplus),
                    (nn.Softmax(1), lambda v: F.softmax(v, 1)),
                    (nn.LogSoftmax(1), lambda v: F.log_softmax(v, 1))]:
        np.testing.assert_array_equal(mod(x).numpy(), fn(x).numpy())
    d = nn.Dropout(0.5)
    d.eval()
    assert d(x) is x


def test_clip_grad_matches_torch(torch):
    rng = np.random.default_rng(2)
    arrs = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    for norm_type in (2.0, 1.0, math.inf):
        for max_norm in (0.5, 100.0):
            ps = [tg.tensor(a, requires_grad=True) for a in arrs]
            tps = [torch.tensor(a, requires_grad=True) for a in arrs]
            sum((p ** 3).sum() for p in ps).backward()
            sum((p ** 3).sum() for p in tps).backward()
            n1 = nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
            n2 = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type)
            np.testing.assert_allclose(float(n1), float(n2), rtol=1e-13)
            for p, q in zip(ps, tps):
                np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-13)
    ps = [tg.tensor(a, requires_grad=True) for a in arrs]
    tps = [torch.tensor(a, requires_grad=True) for a in arrs]
    sum((p ** 3).sum() for p in ps).backward()
    sum((p ** 3).sum() for p in tps).backward()
    nn.utils.clip_grad_value_(ps, 0.7)
    torch.nn.utils.clip_grad_value_(tps, 0.7)
    for p, q in zip(ps, tps):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_batchnorm_checkpoint_without_its_batch_counter_loads():
    """Checkpoints from before BatchNorm counted its batches load, as in PyTorch."""
    norm = tg.nn.BatchNorm2d(3)
    old = {k: v for k, v in norm.state_dict().items() if k != "num_batches_tracked"}
    result = norm.load_state_dict(old)
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    with pytest.raises(RuntimeError, match="Missing key"):
        norm.load_state_dict({k: v for k, v in old.items() if k != "running_mean"})


def test_load_takes_a_map_location_callable(tmp_path):
    layer = tg.nn.Linear(2, 2)
    tg.save(layer.state_dict(), tmp_path / "w.pt")
    state = tg.load(tmp_path / "w.pt", map_location=lambda storage, location: storage)
    assert list(state) == ["weight", "bias"]


def _same_weights(ours, theirs):
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})


@pytest.mark.parametrize("layer,kw", [("Linear", {}), ("Linear", {"dim": None}),
                                      ("Linear", {"dim": 1}), ("Conv1d", {"dim": -1})])
def test_weight_norm_matches_torch(torch, layer, kw):
    """parametrizations.weight_norm: PyTorch's names, g's shape (dim=-1 is "all dims", as
    PyTorch reads it), values and first and second-order gradients; finite differences."""
    args = (3, 4) if layer == "Linear" else (3, 4, 2)
    ours = nn.utils.parametrizations.weight_norm(getattr(nn, layer)(*args), **kw)
    theirs = torch.nn.utils.parametrizations.weight_norm(
        getattr(torch.nn, layer)(*args).double(), **kw)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    _same_weights(ours, theirs)
    x = np.random.default_rng(0).standard_normal((2, 3) if layer == "Linear" else (2, 3, 5))
    xt, xg = torch.tensor(x, requires_grad=True), tg.tensor(x, requires_grad=True)
    for m, xx, L in ((theirs, xt, torch), (ours, xg, tg)):
        gx, = L.autograd.grad(m(xx).tanh().sum(), xx, create_graph=True)
        (gx ** 2).sum().backward()
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(),
                               rtol=1e-12)
    for n, p in theirs.named_parameters():
        np.testing.assert_allclose(ours.get_parameter(n).grad.numpy(), p.grad.numpy(),
                                   rtol=1e-9, atol=1e-12, err_msg=n)
    chain = ours.parametrizations.weight
    g, v = chain.original0.detach().numpy(), chain.original1.detach().numpy()
    assert tg.autograd.gradcheck(lambda g, v: chain[0](g, v), (
        tg.tensor(g, requires_grad=True), tg.tensor(v, requires_grad=True)))


def test_spectral_norm_matches_torch(torch):
    ours = nn.utils.parametrizations.spectral_norm(nn.Linear(4, 3), n_power_iterations=2)
    theirs = torch.nn.utils.parametrizations.spectral_norm(torch.nn.Linear(4, 3).double(),
                                                           n_power_iterations=2)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _same_weights(ours, theirs)  # (_u and _v too: the power iteration starts alike)
    x = np.random.default_rng(1).standard_normal((2, 4))
    for train in (True, False):
        ours.train(train)
        theirs.train(train)
        xt, xg = torch.tensor(x, requires_grad=True), tg.tensor(x, requires_grad=True)
        yt, yg = theirs(xt), ours(xg)
        np.testing.assert_allclose(yg.detach().numpy(), yt.detach().numpy(), rtol=1e-10)
        (yt ** 2).sum().backward()
        (yg ** 2).sum().backward()
        np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-9)
        np.testing.assert_allclose(ours.parametrizations.weight[0]._u.numpy(),
                                   theirs.parametrizations.weight[0]._u.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.parametrizations.weight.original.grad.numpy(),
                               theirs.parametrizations.weight.original.grad.numpy(), rtol=1e-9)
    conv = nn.utils.parametrizations.spectral_norm(nn.ConvTranspose2d(2, 3, 2))
    assert conv.parametrizations.weight[0].dim == 1


class _Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)

    def right_inverse(self, A):
        return A.triu()


def test_register_parametrization_assign_cache_and_remove():
    P = nn.utils.parametrize
    m = nn.Linear(3, 3)
    weight = m.weight
    P.register_parametrization(m, "weight", _Symmetric())
    assert type(m).__name__ == "ParametrizedLinear" and P.type_before_parametrizations(m) is \
        nn.Linear
    assert P.is_parametrized(m) and P.is_parametrized(m, "weight")
    assert not P.is_parametrized(m, "bias")
    assert m.parametrizations.weight.original is weight  # (an optimizer's reference holds)
    assert [n for n, _ in m.named_parameters()] == ["bias", "parametrizations.weight.original"]
    a = tg.tensor(np.arange(9.0).reshape(3, 3))
    m.weight = a + a.T
    np.testing.assert_array_equal(m.weight.detach().numpy(), (a + a.T).numpy())
    calls = []
    m.parametrizations.weight[0].register_forward_hook(lambda *args: calls.append(1))
    with P.cached():
        y = m(tg.ones(2, 3)) + m(tg.ones(2, 3))
    assert len(calls) == 1
    y.sum().backward()
    np.testing.assert_array_equal(weight.grad.numpy(), np.triu(np.full((3, 3), 8.0)) -
                                  4 * np.eye(3))  # (the diagonal is used once)
    P.remove_parametrizations(m, "weight")
    assert type(m) is nn.Linear and m.weight is weight and not P.is_parametrized(m)
    np.testing.assert_array_equal(m.weight.detach().numpy(), (a + a.T).numpy())
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        P.remove_parametrizations(m, "weight")
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a"):
        P.register_parametrization(m, "nothing", _Symmetric())

    class Row(nn.Module):
        def forward(self, X):
            return X[0]

    with pytest.raises(ValueError, match="may not change the shape of the tensor, unless"):
        P.register_parametrization(nn.Linear(3, 3), "weight", Row())
    w = nn.utils.parametrizations.weight_norm(nn.Linear(3, 2))
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        P.remove_parametrizations(w, "weight", leave_parametrized=False)
    before = w.weight.detach().numpy()
    P.remove_parametrizations(w, "weight")
    assert isinstance(w.weight, nn.Parameter) and [n for n, _ in w.named_parameters()] == \
        ["bias", "weight"]
    np.testing.assert_allclose(w.weight.detach().numpy(), before, rtol=1e-15)


def test_older_weight_norm_hook_and_its_checkpoints(torch):
    """nn.utils.weight_norm (weight_g, weight_v and a pre-hook), remove_weight_norm, and its
    state_dict loaded by parametrizations.weight_norm, as in PyTorch."""
    with pytest.warns(FutureWarning, match="weight_norm` is deprecated"):
        ours = nn.utils.weight_norm(nn.Conv1d(2, 3, 2), dim=None)
        theirs = torch.nn.utils.weight_norm(torch.nn.Conv1d(2, 3, 2).double(), dim=None)
    assert [n for n, _ in ours.named_parameters()] == ["bias", "weight_g", "weight_v"]
    _same_weights(ours, theirs)
    x = np.random.default_rng(2).standard_normal((2, 2, 4))
    for m, L in ((ours, tg), (theirs, torch)):
        (m(L.tensor(x)) ** 2).sum().backward()
    for n, p in theirs.named_parameters():
        np.testing.assert_allclose(ours.get_parameter(n).grad.numpy(), p.grad.numpy(),
                                   rtol=1e-12, err_msg=n)
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"), \
            pytest.warns(FutureWarning):
        nn.utils.weight_norm(ours, dim=None)
    newer = nn.utils.parametrizations.weight_norm(nn.Conv1d(2, 3, 2), dim=None)
    newer.load_state_dict(ours.state_dict())
    y = ours(tg.tensor(x)).detach().numpy()
    np.testing.assert_allclose(newer(tg.tensor(x)).detach().numpy(), y, rtol=1e-14)
    nn.utils.remove_weight_norm(ours)
    assert [n for n, _ in ours.named_parameters()] == ["bias", "weight"]
    np.testing.assert_allclose(ours(tg.tensor(x)).detach().numpy(), y, rtol=1e-14)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found in"):
        nn.utils.remove_weight_norm(ours)


def test_older_spectral_norm_hook_matches_torch(torch):
    """nn.utils.spectral_norm (weight_orig, buffers weight_u/weight_v, power iteration in
    training mode only) and remove_spectral_norm, with PyTorch's names, values and gradients."""
    results = []
    for L in (torch, tg):
        m = L.nn.utils.spectral_norm(L.nn.Conv2d(2, 3, 2).double(), n_power_iterations=2)
        with L.no_grad():  # (u and v too: the same start)
            for k, (_, p) in enumerate(list(m.named_parameters()) + list(m.named_buffers())):
                p.copy_(L.tensor(np.random.default_rng(k).standard_normal(tuple(p.shape))))
        names = [[n for n, _ in m.named_parameters()], list(m.state_dict())]
        x = L.tensor(np.random.default_rng(9).standard_normal((2, 2, 4, 4)), requires_grad=True)
        y = m(x)
        ((y ** 2).sum() + m(x).sum()).backward()
        m.eval()
        values = [y.detach().numpy(), m(x).detach().numpy(), x.grad.numpy(),
                  m.weight_orig.grad.numpy(), m.weight_u.numpy().copy()]
        L.nn.utils.remove_spectral_norm(m)
        names.append([n for n, _ in m.named_parameters()])
        results.append((names, values + [m.weight.detach().numpy()]))
    (names_t, values_t), (names_g, values_g) = results
    assert names_g == names_t == [["bias", "weight_orig"],
                                  ["bias", "weight_orig", "weight_u", "weight_v"],
                                  ["bias", "weight"]]
    for a, b in zip(values_g, values_t):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        nn.utils.remove_spectral_norm(nn.Linear(2, 2))


def test_spectral_norm_of_transposed_convolutions_takes_their_output_dim(torch):
    """Both forms default to dim 1 for ConvTranspose (its output channels), as PyTorch's: the
    power iteration's u has the output channels' size, v the rest."""
    shapes = []
    for L in (torch, tg):
        hook = L.nn.utils.spectral_norm(L.nn.ConvTranspose2d(2, 5, 3))
        param = L.nn.utils.parametrizations.spectral_norm(L.nn.ConvTranspose1d(2, 5, 3))
        chain = param.parametrizations.weight[0]
        shapes.append([tuple(t.shape) for t in (hook.weight_u, hook.weight_v, chain._u,
                                                chain._v)])
    assert shapes[1] == shapes[0] == [(5,), (18,), (5,), (6,)]
