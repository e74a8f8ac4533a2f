"""Embedding's max_norm and scale_grad_by_freq, MultiheadAttention's add_bias_kv and
add_zero_attn, the lazy modules, func.stack_module_state, nn.RNNBase/RNNCellBase and nn.Buffer:
PyTorch's values, gradients, reprs, state_dict keys and errors, and properties that hold without
PyTorch (finite differences, norms, shapes)."""

import copy
import pickle
import warnings

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import check_op

R = np.random.default_rng(7)
W = R.standard_normal((7, 4)) * 2
IDX = np.array([[0, 2, 2], [5, 2, 1]])


def _np(t):
    return np.asarray(t.detach().numpy())


def _raises_like(f_ours, f_theirs):
    """Both raise the same exception type with the same message."""
    with pytest.raises(Exception) as theirs:
        f_theirs()
    with pytest.raises(type(theirs.value)) as ours:
        f_ours()
    assert str(ours.value) == str(theirs.value)


# ---- 1. Embedding: max_norm, norm_type, scale_grad_by_freq, sparse ---------------------------

@pytest.mark.parametrize("max_norm,norm_type,freq,pad", [
    (1.0, 2.0, False, None), (1.5, 1.0, True, 2), (0.7, float("inf"), True, None),
    (2.0, 3.0, False, -1), (None, 2.0, True, 1), (100.0, 2.0, True, None)])
def test_embedding_options_match_torch(max_norm, norm_type, freq, pad):
    torch = pytest.importorskip("torch")
    tw, gw = torch.tensor(W.copy(), requires_grad=True), tg.tensor(W.copy(), requires_grad=True)
    to = torch.nn.functional.embedding(torch.tensor(IDX), tw, pad, max_norm, norm_type, freq)
    go = tg.nn.functional.embedding(tg.tensor(IDX), gw, pad, max_norm, norm_type, freq)
    g = R.standard_normal(tuple(to.shape))
    (to * torch.tensor(g)).sum().backward()
    (go * tg.tensor(g)).sum().backward()
    np.testing.assert_allclose(_np(go), _np(to), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(_np(gw), _np(tw), rtol=1e-12, atol=1e-14)  # renormed in place
    np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_embedding_module_matches_torch():
    torch = pytest.importorskip("torch")
    kw = dict(padding_idx=2, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True)
    theirs = torch.nn.Embedding(7, 4, **kw).double()
    ours = tg.nn.Embedding(7, 4, **kw)
    assert repr(ours) == repr(theirs)
    for extra in ({"max_norm": 1}, {"norm_type": 3.0}, {}):
        assert repr(tg.nn.Embedding(5, 3, **extra)) == repr(torch.nn.Embedding(5, 3, **extra))
    assert repr(tg.nn.EmbeddingBag(5, 3, **kw)) == repr(torch.nn.EmbeddingBag(5, 3, **kw))
    ours.load_state_dict({"weight": tg.tensor(W * 3)})
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(W * 3))
    to, go = theirs(torch.tensor(IDX)), ours(tg.tensor(IDX))
    to.pow(2).sum().backward()
    go.pow(2).sum().backward()
    np.testing.assert_allclose(_np(go), _np(to), rtol=1e-12)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12)
    # from_pretrained keeps the options and shares the tensor's storage (renormed in place)
    te, ge = torch.tensor(W * 3), tg.tensor(W * 3)
    theirs = torch.nn.Embedding.from_pretrained(te, max_norm=1.0)
    ours = tg.nn.Embedding.from_pretrained(ge, max_norm=1.0)
    assert repr(ours) == repr(theirs) and not ours.weight.requires_grad
    theirs(torch.tensor([1, 3]))
    ours(tg.tensor([1, 3]))
    np.testing.assert_allclose(ge.numpy(), te.numpy(), rtol=1e-12)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("max_norm,freq", [(1.0, False), (1.0, True), (None, True)])
def test_embedding_bag_options_match_torch(mode, max_norm, freq):
    torch = pytest.importorskip("torch")
    # every index occurs twice: where PyTorch's CPU kernel scales by the right count (#190063)
    i, o = np.array([0, 2, 2, 5, 0, 5, 1, 1]), np.array([0, 2, 5])
    args = (max_norm, 2.0, freq, mode)
    tw, gw = torch.tensor(W.copy(), requires_grad=True), tg.tensor(W.copy(), requires_grad=True)
    if mode == "max" and freq:
        _raises_like(lambda: tg.nn.functional.embedding_bag(tg.tensor(i), gw, tg.tensor(o), *args),
                     lambda: torch.nn.functional.embedding_bag(torch.tensor(i), tw,
                                                               torch.tensor(o), *args))
        return
    to = torch.nn.functional.embedding_bag(torch.tensor(i), tw, torch.tensor(o), *args,
                                           padding_idx=1)
    go = tg.nn.functional.embedding_bag(tg.tensor(i), gw, tg.tensor(o), *args, padding_idx=1)
    g = R.standard_normal(tuple(to.shape))
    (to * torch.tensor(g)).sum().backward()
    (go * tg.tensor(g)).sum().backward()
    np.testing.assert_allclose(_np(go), _np(to), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(_np(gw), _np(tw), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_embedding_renorm_and_frequency_properties():
    """Without PyTorch: the looked-up rows over max_norm end at norm max_norm (the others,
    looked up or not, are untouched); scale_grad_by_freq divides each row's gradient by its
    index's count, for embedding and embedding_bag (whose count is the documented one)."""
    w = tg.tensor(W * 3)
    before = w.numpy().copy()
    tg.nn.functional.embedding(tg.tensor(IDX), w, max_norm=1.0)
    norms = np.linalg.norm(before, axis=1)
    used = np.zeros(7, bool)
    used[np.unique(IDX)] = True
    after = np.linalg.norm(w.numpy(), axis=1)
    np.testing.assert_allclose(after[used & (norms > 1)], 1.0, rtol=1e-6)
    np.testing.assert_array_equal(w.numpy()[~used | (norms <= 1)], before[~used | (norms <= 1)])
    counts = np.bincount(IDX.ravel(), minlength=7)[:, None]
    grads = []
    for freq in (False, True):
        w = tg.tensor(W, requires_grad=True)
        tg.nn.functional.embedding(tg.tensor(IDX), w, scale_grad_by_freq=freq).sum().backward()
        grads.append(w.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0] / np.maximum(counts, 1), rtol=1e-15)
    w = tg.tensor(np.ones((4, 3)), requires_grad=True)  # PyTorch's CPU gives row 3 0.5
    tg.nn.functional.embedding_bag(tg.tensor([1, 1, 3]), w, tg.tensor([0]), mode="sum",
                                   scale_grad_by_freq=True).sum().backward()
    np.testing.assert_allclose(w.grad.numpy()[:, 0], [0.0, 1.0, 0.0, 1.0])


def test_embedding_max_norm_gradient_by_finite_differences():
    """The renorm is not differentiated: with the rows already within max_norm (so that the
    finite differences' steps do not cross it) the lookup's gradients to second order are
    the plain lookup's."""
    w = tg.tensor(W * 3)
    tg.nn.functional.embedding(tg.tensor(IDX), w, max_norm=1.5)
    check_op(lambda w: tg.nn.functional.embedding(tg.tensor(IDX), w, max_norm=1.6) ** 2,
             [w.numpy().copy()])


def test_sparse_is_refused_when_the_layer_is_made():
    for make in (lambda: tg.nn.Embedding(5, 3, sparse=True),
                 lambda: tg.nn.EmbeddingBag(5, 3, sparse=True),
                 lambda: tg.nn.Embedding.from_pretrained(tg.randn(5, 3), sparse=True),
                 lambda: tg.nn.functional.embedding(tg.tensor([1]), tg.randn(3, 2), sparse=True)):
        with pytest.raises(NotImplementedError, match="sparse=True"):
            make()
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        tg.nn.functional.embedding(tg.tensor([1]), tg.randn(3, 2), padding_idx=3)


# ---- 2. MultiheadAttention: add_bias_kv, add_zero_attn -------------------------------------

MHA = [(True, False, None, False), (False, True, None, True), (True, True, (3, 5), False),
       (True, True, None, True)]


@pytest.mark.parametrize("bias_kv,zero_attn,kv,batch_first", MHA)
def test_multihead_bias_kv_zero_attn_match_torch(bias_kv, zero_attn, kv, batch_first):
    torch = pytest.importorskip("torch")
    E, h, N, L, S = 6, 2, 3, 4, 5
    kdim, vdim = kv or (E, E)
    kw = dict(add_bias_kv=bias_kv, add_zero_attn=zero_attn, kdim=kdim, vdim=vdim,
              batch_first=batch_first)
    theirs = torch.nn.MultiheadAttention(E, h, **kw).double()
    ours = tg.nn.MultiheadAttention(E, h, **kw)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: tg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    shape = (lambda n, e: (N, n, e)) if batch_first else (lambda n, e: (n, N, e))
    q, k, v = (R.standard_normal(shape(n, e)) for n, e in ((L, E), (S, kdim), (S, vdim)))
    pad = R.random((N, S)) > 0.5
    for opts in ({}, {"key_padding_mask": pad}, {"attn_mask": np.triu(np.ones((L, S), bool), 1)},
                 {"attn_mask": R.standard_normal((N * h, L, S)), "average_attn_weights": False},
                 {"key_padding_mask": np.ones((N, S), bool), "need_weights": False}):
        tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
        gq, gk, gv = (tg.tensor(a, requires_grad=True) for a in (q, k, v))
        to, tw = theirs(tq, tk, tv, **{a: torch.tensor(b) if isinstance(b, np.ndarray) else b
                                       for a, b in opts.items()})
        go, gw = ours(gq, gk, gv, **{a: tg.tensor(b) if isinstance(b, np.ndarray) else b
                                     for a, b in opts.items()})
        g = R.standard_normal(tuple(to.shape))
        (to * torch.tensor(g)).sum().backward()
        (go * tg.tensor(g)).sum().backward()
        np.testing.assert_allclose(_np(go), _np(to), rtol=1e-10, atol=1e-12)
        assert (gw is None) == (tw is None)
        if tw is not None:
            np.testing.assert_allclose(_np(gw), _np(tw), rtol=1e-10, atol=1e-12)
        for a, b in ((gq, tq), (gk, tk), (gv, tv)):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)
        theirs_p = dict(theirs.named_parameters())
        for name, p in ours.named_parameters():
            np.testing.assert_allclose(p.grad.numpy(), theirs_p[name].grad.numpy(), rtol=1e-9,
                                       atol=1e-12, err_msg=name)
        ours.zero_grad()
        theirs.zero_grad()


@pytest.mark.parametrize("bias_kv,zero_attn", [(True, False), (False, True), (True, True)])
def test_multihead_bias_kv_zero_attn_finite_differences(bias_kv, zero_attn):
    E, h = 4, 2
    mha = tg.nn.MultiheadAttention(E, h, add_bias_kv=bias_kv, add_zero_attn=zero_attn,
                                   batch_first=True)
    names = [n for n, _ in mha.named_parameters()]
    pad = tg.tensor(np.array([[False, True, False], [False, False, True]]))

    def f(q, k, v, *params):
        return tg.func.functional_call(mha, dict(zip(names, params)), (q, k, v),
                                       {"key_padding_mask": pad})[0]

    arrays = [R.standard_normal(s) for s in ((2, 2, E), (2, 3, E), (2, 3, E))]
    check_op(f, arrays + [_np(p).copy() for _, p in mha.named_parameters()], order=2)


def test_multihead_bias_kv_init_and_zero_attn_property():
    tg.manual_seed(0)
    mha = tg.nn.MultiheadAttention(400, 4, add_bias_kv=True)
    assert [n for n, _ in mha.named_parameters()][:4] == ["in_proj_weight", "in_proj_bias",
                                                          "bias_k", "bias_v"]
    assert mha.bias_k.shape == mha.bias_v.shape == (1, 1, 400)
    for b in (mha.bias_k, mha.bias_v):  # xavier_normal_: std sqrt(2 / (400 + 400))
        assert abs(_np(b).std() / np.sqrt(2 / 800) - 1) < 0.15
    assert tg.nn.MultiheadAttention(4, 2).bias_k is None
    # every key masked out: the zero key alone is attended to, so the output is out_proj's bias
    mha = tg.nn.MultiheadAttention(4, 2, add_zero_attn=True)
    with tg.no_grad():
        mha.out_proj.bias.copy_(tg.tensor([1.0, 2.0, 3.0, 4.0]))
    x = tg.randn(3, 2, 4)
    out, w = mha(x, x, x, key_padding_mask=tg.ones(2, 3, dtype=tg.bool))
    np.testing.assert_allclose(_np(out), np.broadcast_to([1.0, 2.0, 3.0, 4.0], (3, 2, 4)))
    np.testing.assert_allclose(_np(w)[..., -1], 1.0)


# ---- 3. Lazy modules ---------------------------------------------------------------------

LAZY = [("LazyLinear", (3,), {}, (2, 5)), ("LazyLinear", (3,), {"bias": False}, (5,)),
        ("LazyConv1d", (4, 3), {}, (2, 4, 7)),
        ("LazyConv2d", (4, 3), dict(stride=2, padding=1, bias=False, groups=2), (2, 4, 6, 6)),
        ("LazyConv3d", (2, 1), {}, (1, 2, 3, 3, 3)), ("LazyConvTranspose1d", (4, 3), {}, (4, 5)),
        ("LazyConvTranspose2d", (4, 3), dict(output_padding=1, stride=2), (2, 4, 5, 5)),
        ("LazyConvTranspose3d", (2, 1), {}, (1, 2, 2, 2, 2)), ("LazyBatchNorm1d", (), {}, (3, 4)),
        ("LazyBatchNorm2d", (), dict(affine=False), (2, 3, 4, 4)),
        ("LazyBatchNorm3d", (), dict(track_running_stats=False), (2, 3, 2, 2, 2)),
        ("LazyInstanceNorm1d", (), {}, (2, 3, 5)),
        ("LazyInstanceNorm2d", (), dict(affine=True), (2, 3, 4, 4)),
        ("LazyInstanceNorm3d", (), dict(track_running_stats=True), (2, 3, 2, 2, 2))]


@pytest.mark.parametrize("name,args,kw,shape", LAZY, ids=[f"{c[0]}-{i}" for i, c in
                                                          enumerate(LAZY)])
def test_lazy_modules_match_torch(name, args, kw, shape):
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.nn, name)(*args, **kw).double()
    ours = getattr(tg.nn, name)(*args, **kw)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [repr(v) for v in ours.state_dict().values()] == \
        [repr(v) for v in theirs.state_dict().values()]
    x = R.standard_normal(shape)
    theirs(torch.tensor(x))
    ours(tg.tensor(x))
    assert type(ours).__name__ == type(theirs).__name__
    assert type(ours) is getattr(tg.nn, name).cls_to_become
    assert repr(ours) == repr(theirs)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert all(type(p) is tg.nn.Parameter for p in ours.parameters())
    assert all(type(b) is tg.Tensor for b in ours.buffers())
    ours.load_state_dict({k: tg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    np.testing.assert_allclose(_np(ours(tg.tensor(x))), _np(theirs(torch.tensor(x))),
                               rtol=1e-10, atol=1e-12)


def test_lazy_errors_match_torch():
    torch = pytest.importorskip("torch")
    for attr in (lambda m: m.weight.shape, lambda m: m.weight + 1, lambda m: m.weight.numel(),
                 lambda m: 2 * m.weight, lambda m: m.weight[0], lambda m: m.weight.sum()):
        _raises_like(lambda: attr(tg.nn.LazyLinear(3)), lambda: attr(torch.nn.LazyLinear(3)))
    _raises_like(lambda: tg.nn.LazyConv2d(4, 3)(tg.randn(3, 5)),
                 lambda: torch.nn.LazyConv2d(4, 3)(torch.randn(3, 5)))
    _raises_like(lambda: tg.nn.LazyConv2d(4, 3, groups=3)(tg.randn(1, 4, 5, 5)),
                 lambda: torch.nn.LazyConv2d(4, 3, groups=3)(torch.randn(1, 4, 5, 5)))
    _raises_like(lambda: tg.nn.Linear(4, 3).load_state_dict(tg.nn.LazyLinear(3).state_dict()),
                 lambda: torch.nn.Linear(4, 3).load_state_dict(
                     torch.nn.LazyLinear(3).state_dict()))
    assert repr(tg.nn.UninitializedParameter()) == repr(torch.nn.UninitializedParameter())
    assert repr(tg.nn.UninitializedBuffer()) == repr(torch.nn.UninitializedBuffer())


def test_lazy_linear_without_torch():
    """In features inferred, PyTorch's Linear initialisation (bounds 1/sqrt(in)), gradients by
    finite differences, and a Sequential of lazy layers trains."""
    tg.manual_seed(0)
    m = tg.nn.LazyLinear(300)
    assert m.has_uninitialized_params() and isinstance(m.weight, tg.nn.UninitializedParameter)
    assert isinstance(m.weight, tg.nn.Parameter) and m.weight.requires_grad
    y = m(tg.randn(2, 50))
    assert type(m) is tg.nn.Linear and m.in_features == 50 and y.shape == (2, 300)
    assert not m._forward_pre_hooks and "_initialize_hook" not in m.__dict__
    bound = 1 / np.sqrt(50)
    w = _np(m.weight)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert np.abs(_np(m.bias)).max() <= bound
    net = tg.nn.Sequential(tg.nn.LazyLinear(5), tg.nn.Tanh(), tg.nn.LazyLinear(1))
    net(tg.randn(4, 3)).sum().backward()
    assert net[0].weight.grad.shape == (5, 3) and net[2].weight.grad.shape == (1, 5)
    names = [n for n, _ in net.named_parameters()]
    check_op(lambda x, *ps: tg.func.functional_call(net, dict(zip(names, ps)), (x,)),
             [R.standard_normal((4, 3))] + [_np(p).copy() for p in net.parameters()])


def test_lazy_state_copies_and_dtype():
    full = tg.nn.Linear(4, 3)
    m = tg.nn.LazyLinear(3)
    m.load_state_dict(full.state_dict())  # values materialize the placeholders
    assert type(m) is tg.nn.LazyLinear and not m.has_uninitialized_params()
    np.testing.assert_array_equal(_np(m.weight), _np(full.weight))
    m(tg.randn(2, 4))
    assert type(m) is tg.nn.Linear and m.in_features == 4
    m = tg.nn.LazyLinear(3)
    m.load_state_dict(tg.nn.LazyLinear(3).state_dict())  # placeholders stay placeholders
    assert m.has_uninitialized_params()
    for twin in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert type(twin.weight) is tg.nn.UninitializedParameter
        twin(tg.randn(2, 6))
        assert type(twin) is tg.nn.Linear and twin.weight.shape == (3, 6)
        assert type(m) is tg.nn.LazyLinear and m.has_uninitialized_params()
    bn = tg.nn.LazyBatchNorm1d().float()  # converted before the dry run: float32 placeholders
    assert type(bn.running_mean) is tg.nn.UninitializedBuffer
    assert bn.running_mean.dtype == np.float32 and bn.weight.dtype == np.float32
    assert type(bn.state_dict()["running_var"]) is tg.nn.UninitializedBuffer
    x = tg.randn(8, 3).float() * 3 + 1
    y = bn(x)
    assert type(bn) is tg.nn.BatchNorm1d and bn.num_features == 3
    assert bn.running_mean.dtype == np.float32 and bn.num_batches_tracked.item() == 1
    np.testing.assert_allclose(_np(y).mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(_np(y).var(0), 1, atol=1e-3)
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * x.numpy().mean(0), rtol=1e-5)


# ---- 4. stack_module_state -----------------------------------------------------------------

class _MLP(tg.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = tg.nn.Linear(6, 5), tg.nn.Linear(5, 3)
        self.bn = tg.nn.BatchNorm1d(5)

    def forward(self, x):
        return self.fc2(tg.nn.functional.relu(self.bn(self.fc1(x.flatten(1)))))


def test_stack_module_state_ensemble():
    """The model-ensembling tutorial: vmap over functional_call gives each model's output,
    for a minibatch each and for one shared minibatch; the stacked parameters are new leaves
    whose gradients are the models'."""
    tg.manual_seed(0)
    models = [_MLP().eval() for _ in range(4)]
    data = tg.randn(4, 8, 2, 3)
    params, buffers = tg.func.stack_module_state(models)
    assert list(params) == [n for n, _ in models[0].named_parameters()]
    assert list(buffers) == [n for n, _ in models[0].named_buffers()]
    assert all(p.is_leaf and p.requires_grad and p.shape[0] == 4 for p in params.values())
    assert not any(b.requires_grad for b in buffers.values())
    base = copy.deepcopy(models[0])

    def fmodel(params, buffers, x):
        return tg.func.functional_call(base, (params, buffers), (x,))

    out = tg.func.vmap(fmodel)(params, buffers, data)
    np.testing.assert_allclose(out.detach().numpy(),
                               np.stack([_np(m(x)) for m, x in zip(models, data)]), rtol=1e-12)
    shared = tg.func.vmap(fmodel, in_dims=(0, 0, None))(params, buffers, data[0])
    np.testing.assert_allclose(shared.detach().numpy(),
                               np.stack([_np(m(data[0])) for m in models]), rtol=1e-12)
    (shared ** 2).sum().backward()
    for i, m in enumerate(models):
        (m(data[0]) ** 2).sum().backward()
        for name, p in m.named_parameters():
            np.testing.assert_allclose(params[name].grad.numpy()[i], p.grad.numpy(),
                                       rtol=1e-10, atol=1e-12)
    params["fc1.weight"].detach().zero_()  # (the stack shares no storage with the models)
    assert np.abs(_np(models[0].fc1.weight)).sum() > 0



def test_ensemble_of_linear_layers_batches_without_a_loop():
    """vmap over stacked Linear weights uses the batching rules (no per-example loop and its
    performance warning): linear transposes a batched weight through the dispatched method."""
    tg.manual_seed(1)
    models = [tg.nn.Sequential(tg.nn.Linear(6, 5), tg.nn.ReLU(), tg.nn.Linear(5, 3))
              for _ in range(3)]
    params, buffers = tg.func.stack_module_state(models)
    base = copy.deepcopy(models[0])
    data = tg.randn(3, 4, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = tg.func.vmap(lambda p, b, x: tg.func.functional_call(base, (p, b), (x,)))(
            params, buffers, data)
    np.testing.assert_allclose(out.detach().numpy(),
                               np.stack([_np(m(x)) for m, x in zip(models, data)]), rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int16", "uint8", "bool"])
def test_embedding_index_dtype_errors_match_torch(dtype):
    """Float (and, for embedding, short or byte) indices raise PyTorch's error, which names
    the tensor type (torch.FloatTensor)."""
    torch = pytest.importorskip("torch")
    idx = np.zeros(2, dtype=dtype)
    _raises_like(lambda: tg.nn.functional.embedding(tg.tensor(idx), tg.zeros(3, 2)),
                 lambda: torch.nn.functional.embedding(torch.tensor(idx), torch.zeros(3, 2)))
    if dtype.startswith("float"):
        _raises_like(lambda: tg.nn.functional.embedding_bag(tg.tensor(idx), tg.zeros(3, 2),
                                                            tg.tensor([0])),
                     lambda: torch.nn.functional.embedding_bag(torch.tensor(idx),
                                                               torch.zeros(3, 2),
                                                               torch.tensor([0])))

def test_stack_module_state_errors_match_torch():
    torch = pytest.importorskip("torch")
    _raises_like(lambda: tg.func.stack_module_state([]),
                 lambda: torch.func.stack_module_state([]))
    _raises_like(lambda: tg.func.stack_module_state([tg.nn.Linear(2, 2),
                                                     tg.nn.Linear(2, 2).eval()]),
                 lambda: torch.func.stack_module_state([torch.nn.Linear(2, 2),
                                                        torch.nn.Linear(2, 2).eval()]))
    _raises_like(lambda: tg.func.stack_module_state([tg.nn.Linear(2, 2), tg.nn.Tanh()]),
                 lambda: torch.func.stack_module_state([torch.nn.Linear(2, 2),
                                                        torch.nn.Tanh()]))
    a, b = tg.nn.Linear(2, 2), tg.nn.Linear(2, 2)
    ta, tb = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    b.bias.requires_grad_(False)
    tb.bias.requires_grad_(False)
    _raises_like(lambda: tg.func.stack_module_state([a, b]),
                 lambda: torch.func.stack_module_state([ta, tb]))
    a.bias.requires_grad_(False)
    ta.bias.requires_grad_(False)
    ours, theirs = tg.func.stack_module_state([a, b])[0], torch.func.stack_module_state([ta, tb])[0]
    assert [(k, v.requires_grad, v.is_leaf) for k, v in ours.items()] == \
        [(k, v.requires_grad, v.is_leaf) for k, v in theirs.items()]


# ---- 5. RNNBase, RNNCellBase, Buffer -------------------------------------------------------

def test_rnn_bases():
    nn = tg.nn
    assert isinstance(nn.LSTM(2, 3), nn.RNNBase) and isinstance(nn.GRU(2, 3), nn.RNNBase)
    assert isinstance(nn.GRUCell(2, 3), nn.RNNCellBase) and nn.RNN(2, 3).mode == "RNN_TANH"
    base = nn.RNNBase("LSTM", 3, 4, 2)  # PyTorch's form: mode first
    lstm = nn.LSTM(3, 4, 2)
    assert base.mode == "LSTM" and repr(base) == "RNNBase(3, 4, num_layers=2)"
    assert list(base.state_dict()) == list(lstm.state_dict())
    lstm.load_state_dict(base.state_dict())
    x = tg.randn(5, 2, 3)
    np.testing.assert_array_equal(_np(base(x)[0]), _np(lstm(x)[0]))
    with pytest.raises(ValueError, match="Unrecognized RNN mode: FOO"):
        nn.RNNBase("FOO", 3, 4)

    class MyCell(nn.RNNCellBase):  # a cell of one's own over PyTorch's base
        def __init__(self):
            super().__init__(3, 4, bias=True, num_chunks=2)

        def forward(self, x, h):
            a, b = tg.nn.functional.linear(x, self.weight_ih, self.bias_ih).chunk(2, -1)
            return tg.tanh(a) * h + tg.sigmoid(b)

    cell = MyCell()
    assert cell.weight_ih.shape == (8, 3) and cell.weight_hh.shape == (8, 4)
    assert cell(tg.randn(2, 3), tg.randn(2, 4)).shape == (2, 4)
    with pytest.raises(NotImplementedError, match="missing the required"):
        nn.RNNCellBase(3, 4, True, 4)(tg.randn(2, 3))


def test_rnn_bases_match_torch():
    torch = pytest.importorskip("torch")
    for args in (("GRU", 3, 4), ("RNN_RELU", 3, 4, 2, False, True)):
        ours, theirs = tg.nn.RNNBase(*args), torch.nn.RNNBase(*args)
        assert repr(ours) == repr(theirs) and ours.mode == theirs.mode
        assert list(ours.state_dict()) == list(theirs.state_dict())
    ours, theirs = tg.nn.RNNCellBase(3, 4, False, 3), torch.nn.RNNCellBase(3, 4, False, 3)
    assert repr(ours) == repr(theirs)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    _raises_like(lambda: tg.nn.RNNBase("FOO", 3, 4), lambda: torch.nn.RNNBase("FOO", 3, 4))


def _buffered(nn, ones, zeros):
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Buffer(ones(2))
            self.b = nn.Buffer(zeros(1), persistent=False)
            self.c = ones(1)

    return M()


def test_buffer_registers_on_assignment():
    m = _buffered(tg.nn, tg.ones, tg.zeros)
    assert list(m.state_dict()) == ["a"] and [n for n, _ in m.named_buffers()] == ["a", "b"]
    assert "c" in m.__dict__ and isinstance(m.a, tg.nn.Buffer)
    assert type(m.a) is tg.Tensor and not isinstance(tg.ones(1), tg.nn.Buffer)
    m.a = tg.zeros(3)  # a plain tensor assigned to a buffer stays the buffer
    assert m.state_dict()["a"].shape == (3,)
    m.b = tg.nn.Buffer(tg.zeros(2))  # now persistent
    assert list(m.state_dict()) == ["a", "b"]
    t = tg.ones(2, requires_grad=True)
    b = tg.nn.Buffer(t)
    assert b.requires_grad and b.is_leaf and b.persistent
    b.detach().mul_(3)
    np.testing.assert_array_equal(t.detach().numpy(), [3.0, 3.0])  # shares storage
    m2 = copy.deepcopy(m)
    assert list(m2.state_dict()) == ["a", "b"]


def test_buffer_matches_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = _buffered(tg.nn, tg.ones, tg.zeros), _buffered(torch.nn, torch.ones,
                                                                  torch.zeros)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]

    def assign(m, name, value):
        setattr(m, name, value)

    _raises_like(lambda: assign(ours, "c", tg.nn.Buffer(tg.zeros(2))),
                 lambda: assign(theirs, "c", torch.nn.Buffer(torch.zeros(2))))
    _raises_like(lambda: assign(ours, "a", 3), lambda: assign(theirs, "a", 3))
