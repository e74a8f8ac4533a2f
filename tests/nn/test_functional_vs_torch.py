"""tg.nn.functional against torch.nn.functional: values and gradients on the same inputs, and
finite differences (gradcheck, gradgradcheck for the smooth functions) in float64."""

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as F

RTOL, ATOL = 1e-10, 1e-12


def _pair(arr, grad=True):
    import torch

    return (tg.tensor(arr, requires_grad=grad),
            torch.tensor(arr, dtype=torch.float64, requires_grad=grad))


def _compare(torch, fn_tg, fn_torch, arrays, consts=()):
    """Run both with float inputs ``arrays`` (differentiated) and constants; compare."""
    tgs, ths = zip(*[_pair(a) for a in arrays])
    out_tg = fn_tg(*tgs, *[c[0] for c in consts])
    out_th = fn_torch(*ths, *[c[1] for c in consts])
    np.testing.assert_allclose(out_tg.detach().numpy(), out_th.detach().numpy(), rtol=RTOL, atol=ATOL)
    w = np.random.default_rng(1).standard_normal(out_th.shape)
    (out_tg * tg.tensor(w)).sum().backward()
    (out_th * torch.tensor(w)).sum().backward()
    for a, b in zip(tgs, ths):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=RTOL, atol=ATOL)


X = np.array([[-3.0, -1.2, -0.3, 0.0, 0.4, 1.5, 25.0], [2.0, -0.7, 0.9, -40.0, 0.05, 3.0, -2.5]])

ACTIVATIONS = [
    ("relu", {}), ("relu6", {}), ("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.2}),
    ("elu", {}), ("elu", {"alpha": 0.5}), ("gelu", {}), ("gelu", {"approximate": "tanh"}),
    ("silu", {}), ("softplus", {}), ("softplus", {"beta": 2.0, "threshold": 5.0}),
    ("sigmoid", {}), ("tanh", {}), ("logsigmoid", {}), ("softmax", {"dim": 1}),
    ("log_softmax", {"dim": 0}), ("logsumexp", {"dim": 1}), ("normalize", {}),
    ("normalize", {"p": 1.0, "dim": 0}),
]


@pytest.mark.parametrize("name,kw", ACTIVATIONS, ids=[f"{n}-{k}" for n, k in ACTIVATIONS])
def test_activation_matches_torch(torch, name, kw):
    tf = torch.nn.functional
    fn_torch = getattr(tf, name) if hasattr(tf, name) else getattr(torch, name)
    _compare(torch, lambda x: getattr(F, name)(x, **kw), lambda x: fn_torch(x, **kw), [X])


SMOOTH = ["gelu", "silu", "softplus", "sigmoid", "tanh", "logsigmoid", "softmax",
          "log_softmax", "logsumexp", "elu", "normalize"]


@pytest.mark.parametrize("name", SMOOTH)
def test_smooth_activation_gradcheck(name):
    x = tg.tensor(np.array([[-1.3, -0.2, 0.3], [0.7, 1.9, -2.4]]), requires_grad=True)
    kw = {"dim": 1} if name in ("softmax", "log_softmax", "logsumexp") else {}
    f = lambda t: getattr(F, name)(t, **kw)  # noqa: E731
    assert tg.autograd.gradcheck(f, (x,))
    assert tg.autograd.gradgradcheck(f, (x,))


def test_erf_values_and_derivatives(torch):
    x = np.linspace(-3, 3, 13)
    _compare(torch, F.erf, torch.erf, [x])
    xt = tg.tensor(x, requires_grad=True)
    assert tg.autograd.gradgradcheck(F.erf, (xt,))


def test_linear_layer_norm_embedding_pad(torch):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((5, 3)), rng.standard_normal(5)
    _compare(torch, F.linear, torch.nn.functional.linear, [x, w, b])
    _compare(torch, lambda a, c: F.linear(a, c), lambda a, c: torch.nn.functional.linear(a, c),
             [x, w])
    x3, g, bb = rng.standard_normal((2, 3, 4)), rng.standard_normal(4), rng.standard_normal(4)
    _compare(torch, lambda a, c, d: F.layer_norm(a, (4,), c, d),
             lambda a, c, d: torch.nn.functional.layer_norm(a, (4,), c, d), [x3, g, bb])
    _compare(torch, lambda a: F.layer_norm(a, (3, 4)),
             lambda a: torch.nn.functional.layer_norm(a, (3, 4)), [x3])
    idx = np.array([[0, 2, 4], [4, 1, 0]])
    for pad_idx in (None, 4):
        _compare(torch, lambda W, i: F.embedding(i, W, padding_idx=pad_idx),
                 lambda W, i: torch.nn.functional.embedding(i, W, padding_idx=pad_idx),
                 [rng.standard_normal((5, 3))], consts=[(tg.tensor(idx), torch.tensor(idx))])
    for pads in [(1, 2), (0, 1, 2, 0), (-1, 2, 1, -1)]:
        _compare(torch, lambda a: F.pad(a, pads, value=0.5),
                 lambda a: torch.nn.functional.pad(a, pads, value=0.5), [x3])
    xt = tg.tensor(x3, requires_grad=True)
    assert tg.autograd.gradgradcheck(lambda a: F.layer_norm(a, (4,)), (xt,))


REG_LOSSES = [("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {}),
              ("smooth_l1_loss", {"beta": 0.5}), ("huber_loss", {"delta": 0.7})]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,kw", REG_LOSSES, ids=[f"{n}-{k}" for n, k in REG_LOSSES])
def test_regression_losses(torch, name, kw, reduction):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    fn = getattr(torch.nn.functional, name)
    _compare(torch, lambda x, y: getattr(F, name)(x, y, reduction=reduction, **kw),
             lambda x, y: fn(x, y, reduction=reduction, **kw), [a, b])


CE_CASES = [
    dict(), dict(weight=True), dict(ignore_index=1), dict(weight=True, ignore_index=2),
    dict(label_smoothing=0.2), dict(label_smoothing=0.1, weight=True),
    dict(label_smoothing=0.3, weight=True, ignore_index=0),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 2, 3), (4,)], ids=["NC", "NCd1d2", "C"])
@pytest.mark.parametrize("case", CE_CASES, ids=[str(c) for c in CE_CASES])
def test_cross_entropy_and_nll_indices(torch, case, shape, reduction):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape) * 2
    C = shape[0] if len(shape) == 1 else shape[1]
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    t = rng.integers(0, C, tshape)
    kw = {k: v for k, v in case.items() if k != "weight"}
    wts = rng.uniform(0.5, 2.0, C)
    tw = (tg.tensor(wts), torch.tensor(wts)) if case.get("weight") else (None, None)
    consts = [(tg.tensor(t), torch.tensor(t))]
    _compare(torch, lambda a, tt: F.cross_entropy(a, tt, weight=tw[0], reduction=reduction, **kw),
             lambda a, tt: torch.nn.functional.cross_entropy(a, tt, weight=tw[1],
                                                             reduction=reduction, **kw),
             [x], consts)
    if "label_smoothing" not in kw:
        _compare(torch, lambda a, tt: F.nll_loss(a.log_softmax(0 if a.ndim == 1 else 1), tt,
                                                 weight=tw[0], reduction=reduction, **kw),
                 lambda a, tt: torch.nn.functional.nll_loss(
                     a.log_softmax(0 if a.ndim == 1 else 1), tt, weight=tw[1],
                     reduction=reduction, **kw), [x], consts)


@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_probabilities(torch, reduction, smoothing):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4, 2))
    p = rng.uniform(size=(3, 4, 2))
    p /= p.sum(1, keepdims=True)
    wts = rng.uniform(0.5, 2, 4)
    for w in (None, wts):
        _compare(torch, lambda a, b: F.cross_entropy(a, b, None if w is None else tg.tensor(w),
                                                     reduction=reduction,
                                                     label_smoothing=smoothing),
                 lambda a, b: torch.nn.functional.cross_entropy(
                     a, b, None if w is None else torch.tensor(w), reduction=reduction,
                     label_smoothing=smoothing), [x, p])


def test_cross_entropy_gradcheck():
    rng = np.random.default_rng(5)
    x = tg.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    t = tg.tensor([0, 2, 1, 2])
    f = lambda a: F.cross_entropy(a, t, weight=tg.tensor([1.0, 2.0, 0.5]),  # noqa: E731
                                  label_smoothing=0.1)
    assert tg.autograd.gradcheck(f, (x,))
    assert tg.autograd.gradgradcheck(f, (x,))


def test_cross_entropy_errors_in_pytorch_words(torch):
    x = np.zeros((3, 4))
    for tgt in (np.array([0.0, 1.0, 2.0]), np.array([0, 1])):
        with pytest.raises(Exception) as e_torch:
            torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(tgt))
        with pytest.raises(type(e_torch.value)) as e_tg:
            F.cross_entropy(tg.tensor(x), tg.tensor(tgt))
        assert str(e_tg.value) == str(e_torch.value)
    with pytest.raises(IndexError, match="Target 7 is out of bounds."):
        F.cross_entropy(tg.tensor(x), tg.tensor([0, 7, 1]))
    with pytest.raises(ValueError, match="batch is not a valid value for reduction"):
        F.mse_loss(tg.tensor(x), tg.tensor(x), reduction="batch")



@pytest.mark.parametrize("xshape,tshape", [
    ((2, 3), (2, 1)), ((2, 3), (2, 3)), ((3,), (2,)), ((3,), (1,)), ((2, 3, 4, 5), (2, 4)),
    ((2, 3, 4, 5), (2, 4, 5, 1)), ((2, 3, 4, 5), (2, 4, 6)), ((2, 3, 4), (2, 3, 4)),
    ((2, 3, 4), (2, 5))])
@pytest.mark.parametrize("fname", ["nll_loss", "cross_entropy"])
def test_class_index_target_shapes_as_pytorch(torch, fname, xshape, tshape):
    """Target shapes a tutorial gets wrong (a column of labels, one-hot integers) raise
    PyTorch's error; a 1-D input takes a one-element target, as PyTorch's."""
    x = np.linspace(-1.0, 1.0, int(np.prod(xshape))).reshape(xshape)
    tgt = np.zeros(tshape, dtype=np.int64)
    try:
        want = getattr(torch.nn.functional, fname)(torch.tensor(x), torch.tensor(tgt),
                                                   reduction="none")
    except Exception as e:
        with pytest.raises(type(e)) as e_tg:
            getattr(F, fname)(tg.tensor(x), tg.tensor(tgt), reduction="none")
        assert str(e_tg.value) == str(e)
        return
    got = getattr(F, fname)(tg.tensor(x), tg.tensor(tgt), reduction="none")
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    assert tuple(got.shape) == tuple(want.shape)

@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy(torch, reduction):
    rng = np.random.default_rng(6)
    p, t = rng.uniform(0.02, 0.98, (3, 4)), rng.uniform(size=(3, 4))
    w = rng.uniform(0.5, 2, (3, 4))
    _compare(torch, lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction),
             lambda a, b: torch.nn.functional.binary_cross_entropy(a, b, reduction=reduction),
             [p, t])
    _compare(torch, lambda a, b, c: F.binary_cross_entropy(a, b, c, reduction=reduction),
             lambda a, b, c: torch.nn.functional.binary_cross_entropy(a, b, c,
                                                                      reduction=reduction),
             [p, t], consts=[(tg.tensor(w), torch.tensor(w))])
    logits = np.array([[-50.0, -2.0, 0.0, 0.3], [1.0, 3.0, 60.0, -0.1], [0.0, 0.0, -5, 5]])
    pw = rng.uniform(0.5, 3, 4)
    _compare(torch, lambda a, b, c, d: F.binary_cross_entropy_with_logits(
        a, b, c, reduction=reduction, pos_weight=d),
        lambda a, b, c, d: torch.nn.functional.binary_cross_entropy_with_logits(
            a, b, c, reduction=reduction, pos_weight=d), [logits, t],
        consts=[(tg.tensor(w), torch.tensor(w)), (tg.tensor(pw), torch.tensor(pw))])
    _compare(torch, lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction),
             lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(
                 a, b, reduction=reduction), [logits, t])
    x = tg.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    y = tg.tensor(rng.uniform(size=(2, 3)))
    f = lambda a: F.binary_cross_entropy_with_logits(a, y, pos_weight=tg.tensor(pw[:3]))  # noqa
    assert tg.autograd.gradcheck(f, (x,)) and tg.autograd.gradgradcheck(f, (x,))


@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none"])
def test_kl_div(torch, reduction, log_target):
    rng = np.random.default_rng(7)
    inp = np.log(rng.dirichlet(np.ones(4), 3))
    tgt = rng.dirichlet(np.ones(4), 3)
    tgt[0, 1] = 0.0
    if log_target:
        tgt = np.log(rng.dirichlet(np.ones(4), 3))
    # a zero target (PyTorch's target gradient there is nan): target held constant
    _compare(torch, lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
             lambda a, b: torch.nn.functional.kl_div(a, b, reduction=reduction,
                                                     log_target=log_target), [inp],
             consts=[(tg.tensor(tgt), torch.tensor(tgt))])
    tgt2 = np.abs(tgt) + 0.1
    _compare(torch, lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
             lambda a, b: torch.nn.functional.kl_div(a, b, reduction=reduction,
                                                     log_target=log_target), [inp, tgt2])


def test_dropout_and_one_hot(torch):
    tg.manual_seed(0)
    x = tg.ones(1000, requires_grad=True)
    y = F.dropout(x, 0.3)
    vals = set(np.round(y.detach().numpy(), 12))
    assert vals <= {0.0, round(1 / 0.7, 12)}
    assert 0.2 < float((y == 0).sum()) / 1000 < 0.4
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy() == 0, y.detach().numpy() == 0)
    assert F.dropout(x, 0.3, training=False) is x
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but "
                                         "got 1.5"):
        F.dropout(x, 1.5)
    idx = np.array([[0, 3], [2, 1]])
    np.testing.assert_array_equal(F.one_hot(tg.tensor(idx)).numpy(),
                                  torch.nn.functional.one_hot(torch.tensor(idx)).numpy())
    np.testing.assert_array_equal(F.one_hot(tg.tensor(idx), 6).numpy(),
                                  torch.nn.functional.one_hot(torch.tensor(idx), 6).numpy())


def _masked_attention_script(torch, scores_np, keep_np, pick_np):
    """A PyTorch user's masking code, run as written with ``torch`` bound to either library:
    masked_fill with -inf, softmax, gather of chosen entries, take_along_dim, backward."""
    scores = torch.tensor(scores_np, requires_grad=True)
    keep = torch.tensor(keep_np)
    pick = torch.tensor(pick_np)
    attn = torch.softmax(scores.masked_fill(~keep, float("-inf")), dim=-1)
    picked = attn.gather(1, pick)
    loss = (picked ** 2).sum() + torch.take_along_dim(scores, pick, dim=1).mean()
    loss.backward()
    return attn.detach().numpy(), picked.detach().numpy(), loss.item(), scores.grad.numpy()


_SCORES = np.random.default_rng(3).standard_normal((4, 6))
_KEEP = np.random.default_rng(4).uniform(size=(4, 6)) > 0.3
_KEEP[:, 0] = True  # every row keeps something
_PICK = np.array([[0, 2], [5, 1], [3, 3], [0, 4]])


def test_masked_fill_gather_script():
    attn, picked, _, grad = _masked_attention_script(tg, _SCORES, _KEEP, _PICK)
    e = np.where(_KEEP, np.exp(_SCORES - _SCORES.max(1, keepdims=True)), 0.0)
    want = e / e.sum(1, keepdims=True)
    np.testing.assert_allclose(attn, want, rtol=1e-14)
    np.testing.assert_allclose(picked, np.take_along_axis(want, _PICK, 1), rtol=1e-14)
    direct = np.zeros_like(_SCORES)  # take_along_dim's part: 1/8 per pick
    np.add.at(direct, (np.arange(4)[:, None].repeat(2, 1), _PICK), 1 / _PICK.size)
    np.testing.assert_array_equal(grad[~_KEEP], direct[~_KEEP])  # nothing through the mask

    def f(s):
        a = tg.softmax(s.masked_fill(~tg.tensor(_KEEP), float("-inf")), dim=-1)
        return (a.gather(1, tg.tensor(_PICK)) ** 2).sum() + \
            tg.take_along_dim(s, tg.tensor(_PICK), dim=1).mean()

    assert tg.autograd.gradcheck(f, (tg.tensor(_SCORES, requires_grad=True),))


def test_masked_fill_gather_script_matches_torch(torch):
    ours = _masked_attention_script(tg, _SCORES, _KEEP, _PICK)
    theirs = _masked_attention_script(torch, _SCORES, _KEEP, _PICK)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-16)


_EDGES = [float("nan"), 1.0, 0.0, -3.0, 25.0, -800.0, 800.0, float("inf"), float("-inf")]


@pytest.mark.parametrize("name", ["softplus", "logsigmoid"])
def test_softplus_logsigmoid_at_nan_inf_and_overflow(name):
    """A nan input has a nan gradient (a clamp inside would give 0), the overflowing sides
    their limits."""
    x = tg.tensor(_EDGES, requires_grad=True)
    y = getattr(tg.nn.functional, name)(x)
    y.sum().backward()
    with np.errstate(over="ignore"):
        e = np.array(_EDGES)
        if name == "softplus":  # x itself above the threshold (20)
            want = np.where(e > 20, e, np.logaddexp(0.0, e))
            dwant = np.where(e > 20, 1.0, 1 / (1 + np.exp(-e)))
        else:
            want, dwant = -np.logaddexp(0.0, -e), 1 / (1 + np.exp(e))
    np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-15)
    np.testing.assert_allclose(x.grad.numpy(), dwant, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("name", ["softplus", "logsigmoid"])
def test_softplus_logsigmoid_edges_match_torch(torch, name):
    x = tg.tensor(_EDGES, requires_grad=True)
    xt = torch.tensor(_EDGES, dtype=torch.float64, requires_grad=True)
    y, yt = (getattr(m.nn.functional, name)(v) for m, v in ((tg, x), (torch, xt)))
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
    num = ~np.isnan(np.array(_EDGES))  # (the sign of a zero; nan's sign bit means nothing)
    assert np.array_equal(np.signbit(y.detach().numpy()[num]),
                          np.signbit(yt.detach().numpy()[num]))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-15)
