"""gaussian_nll_loss, poisson_nll_loss, margin_ranking_loss, hinge_embedding_loss,
soft_margin_loss, multilabel_soft_margin_loss, cosine_embedding_loss and triplet_margin_loss
(functions and modules, every reduction): values and gradients against PyTorch, finite
differences in float64; ctc_loss against PyTorch (its gradient with respect to log_probs
too) and by finite differences through a log_softmax."""

import numpy as np
import pytest

import tapegrad as tg

_rng = np.random.default_rng(7)
X, Y, Z = (_rng.standard_normal((5, 4)) for _ in range(3))
V = np.abs(_rng.standard_normal((5, 4)))
V[0, 0] = 1e-9  # below eps: clamped in value only
SIGNS = np.array([1.0, -1.0, 1.0, -1.0, -1.0])
LABELS = (_rng.random((5, 4)) > 0.5).astype(float)
COUNTS = _rng.poisson(3.0, (5, 4)).astype(float) + 1.0


def _f(T):
    return T.nn.functional


LOSSES = {
    "gaussian_nll": (lambda T, x, y, v, r: _f(T).gaussian_nll_loss(x, y, v, reduction=r), (X, Y, V)),
    "gaussian_nll full": (lambda T, x, y, v, r: _f(T).gaussian_nll_loss(
        x, y, v, full=True, reduction=r), (X, Y, V)),
    "gaussian_nll var per row": (lambda T, x, y, v, r: _f(T).gaussian_nll_loss(
        x, y, v, reduction=r), (X, Y, V[:, 0] + 0.1)),
    "poisson_nll": (lambda T, x, r: _f(T).poisson_nll_loss(
        x, T.tensor(COUNTS, dtype=T.float64), reduction=r), (X,)),
    "poisson_nll rates full": (lambda T, x, r: _f(T).poisson_nll_loss(
        x, T.tensor(COUNTS, dtype=T.float64), log_input=False, full=True, reduction=r), (V,)),
    "margin_ranking": (lambda T, a, b, r: _f(T).margin_ranking_loss(
        a, b, T.tensor(SIGNS, dtype=T.float64), margin=0.3, reduction=r), (X[:, 0], Y[:, 0])),
    "hinge_embedding": (lambda T, a, r: _f(T).hinge_embedding_loss(
        a, T.tensor(np.sign(Y), dtype=T.float64), margin=0.5, reduction=r), (X,)),
    "soft_margin": (lambda T, a, r: _f(T).soft_margin_loss(
        a, T.tensor(np.sign(Y), dtype=T.float64), reduction=r), (X,)),
    "multilabel_soft_margin": (lambda T, a, r: _f(T).multilabel_soft_margin_loss(
        a, T.tensor(LABELS, dtype=T.float64), weight=T.tensor([1.0, 2, 3, 4], dtype=T.float64),
        reduction=r), (X,)),
    "cosine_embedding": (lambda T, a, b, r: _f(T).cosine_embedding_loss(
        a, b, T.tensor(SIGNS, dtype=T.float64), margin=0.1, reduction=r), (X, Y)),
    "triplet_margin": (lambda T, a, p, n, r: _f(T).triplet_margin_loss(a, p, n, reduction=r),
                       (X, Y, Z)),
    "triplet_margin swap p=1": (lambda T, a, p, n, r: _f(T).triplet_margin_loss(
        a, p, n, margin=2.0, p=1, swap=True, reduction=r), (X, Y, Z)),
}
MODULES = {
    "GaussianNLLLoss": (lambda T: T.nn.GaussianNLLLoss(full=True), (X, Y, V)),
    "PoissonNLLLoss": (lambda T: (lambda x: T.nn.PoissonNLLLoss(log_input=False)(
        x, T.tensor(COUNTS, dtype=T.float64))), (V,)),
    "MarginRankingLoss": (lambda T: (lambda a, b: T.nn.MarginRankingLoss(0.2)(
        a, b, T.tensor(SIGNS, dtype=T.float64))), (X[:, 0], Y[:, 0])),
    "CosineEmbeddingLoss": (lambda T: (lambda a, b: T.nn.CosineEmbeddingLoss(
        0.1, reduction="sum")(a, b, T.tensor(SIGNS, dtype=T.float64))), (X, Y)),
    "HingeEmbeddingLoss": (lambda T: (lambda a: T.nn.HingeEmbeddingLoss()(
        a, T.tensor(np.sign(Y), dtype=T.float64))), (X,)),
    "SoftMarginLoss": (lambda T: (lambda a: T.nn.SoftMarginLoss()(
        a, T.tensor(np.sign(Y), dtype=T.float64))), (X,)),
    "MultiLabelSoftMarginLoss": (lambda T: (lambda a: T.nn.MultiLabelSoftMarginLoss()(
        a, T.tensor(LABELS, dtype=T.float64))), (X,)),
    "TripletMarginLoss": (lambda T: T.nn.TripletMarginLoss(margin=0.5, swap=True), (X, Y, Z)),
}


def _run(lib, f, arrays):
    xs = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    out = f(lib, *xs)
    (out.sum() if out.ndim else out).backward()
    return np.asarray(out.tolist()), [np.asarray(x.grad.tolist()) for x in xs]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_match_torch(torch, name, reduction):
    f, arrays = LOSSES[name]
    (out, grads), (t_out, t_grads) = (
        _run(lib, lambda T, *xs: f(T, *xs, reduction), arrays) for lib in (tg, torch))
    np.testing.assert_allclose(out, t_out, rtol=1e-12, atol=1e-14)
    for a, b in zip(grads, t_grads):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_loss_modules_match_torch(torch, name):
    make, arrays = MODULES[name]
    (out, grads), (t_out, t_grads) = (
        _run(lib, lambda T, *xs: make(T)(*xs), arrays) for lib in (tg, torch))
    np.testing.assert_allclose(out, t_out, rtol=1e-12)
    for a, b in zip(grads, t_grads):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-14)


def test_errors_match_torch(torch):
    for lib in (tg, torch):
        F = lib.nn.functional
        with pytest.raises(ValueError, match="var has negative entry"):
            F.gaussian_nll_loss(lib.tensor(X), lib.tensor(Y), lib.tensor(-V))
        with pytest.raises(ValueError, match="var is of incorrect size"):
            F.gaussian_nll_loss(lib.tensor(X), lib.tensor(Y), lib.tensor(V[:2]))
        with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
            F.soft_margin_loss(lib.tensor(X), lib.tensor(Y), reduction="avg")
        with pytest.raises(RuntimeError, match="All input tensors should have same dimension"):
            F.margin_ranking_loss(lib.tensor(X), lib.tensor(X[:, 0]), lib.tensor(SIGNS))


def test_finite_differences_and_values():
    F = tg.nn.functional
    t = tg.tensor(np.sign(Y[0]))
    cases = [
        (lambda a, b, v: F.gaussian_nll_loss(a, b, v, full=True), (X[:2], Y[:2], V[1:3] + 0.1)),
        (lambda a: F.poisson_nll_loss(a, tg.tensor(COUNTS[:2])), (X[:2],)),
        (lambda a: F.soft_margin_loss(a, t), (X[0],)),
        (lambda a: F.multilabel_soft_margin_loss(a, tg.tensor(LABELS[:2])), (X[:2],)),
        (lambda a, b: F.cosine_embedding_loss(a, b, tg.tensor(SIGNS[:2])), (X[:2], Y[:2])),
        (lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=5.0), (X[:2], Y[:2], Z[:2])),
    ]
    for f, arrays in cases:
        inputs = tuple(tg.tensor(a, dtype=tg.float64, requires_grad=True) for a in arrays)
        assert tg.autograd.gradgradcheck(f, inputs)
    # the variance is clamped to eps in value, its gradient is the unclamped one
    v = tg.tensor([1e-9], dtype=tg.float64, requires_grad=True)
    F.gaussian_nll_loss(tg.tensor([1.0]), tg.tensor([0.0]), v).backward()
    assert v.grad.item() == pytest.approx(0.5 * (1 / 1e-6 - 1 / 1e-12))
    assert F.margin_ranking_loss(tg.tensor([1.0]), tg.tensor([2.0]), tg.tensor([1.0])).item() == 1.0


CTC_CASES = [  # (padded or concatenated targets, input lengths, target lengths, keywords)
    (np.array([[1, 2, 2], [3, 3, 0], [4, 1, 0]]), [6, 5, 3], [3, 2, 1], {}),
    (np.array([1, 2, 2, 3, 3, 4]), [6, 6, 4], [3, 2, 1], {"reduction": "sum"}),
    (np.array([[1, 2, 2], [3, 3, 3], [4, 1, 0]]), [6, 4, 3], [3, 3, 0],
     {"reduction": "none", "zero_infinity": True}),  # (the middle one is impossible)
    (np.array([[1, 2, 2], [3, 3, 3], [2, 1, 0]]), [6, 5, 3], [3, 3, 2], {"blank": 4}),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", range(len(CTC_CASES)))
def test_ctc_loss_matches_torch(torch, dtype, case):
    targets, in_lens, tgt_lens, kw = CTC_CASES[case]
    x = np.random.default_rng(case).standard_normal((6, 3, 5)).astype(dtype)
    results = []
    for L in (torch, tg):
        xl = L.tensor(x, requires_grad=True)
        lp = L.nn.functional.log_softmax(xl, 2)
        leaf = lp.detach().requires_grad_(True)  # (PyTorch's gradient for log_probs itself)
        args = (L.tensor(targets), L.tensor(in_lens), L.tensor(tgt_lens))
        loss = L.nn.functional.ctc_loss(leaf, *args, **kw)
        w = L.tensor(np.arange(1.0, loss.numel() + 1).reshape(tuple(loss.shape)).astype(dtype))
        (loss * w).sum().backward()
        (L.nn.CTCLoss(**kw)(lp, *args) * w).sum().backward()
        results.append([loss.detach().numpy(), leaf.grad.numpy(), xl.grad.numpy()])
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == "float64" else dict(rtol=1e-5, atol=1e-6)
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, **tol)


def test_ctc_loss_finite_differences_and_errors():
    targets, in_lens, tgt_lens, _ = CTC_CASES[0]
    x = tg.tensor(np.random.default_rng(0).standard_normal((6, 3, 5)), requires_grad=True)
    for reduction in ("mean", "none"):
        assert tg.autograd.gradcheck(lambda x: tg.nn.functional.ctc_loss(
            tg.nn.functional.log_softmax(x, 2), tg.tensor(targets), in_lens, tgt_lens,
            reduction=reduction), (x,))
    lp = tg.nn.functional.log_softmax(x, 2)
    with pytest.raises(RuntimeError, match="Expected input_lengths to have value at most 6"):
        tg.nn.functional.ctc_loss(lp, tg.tensor(targets), [7, 5, 3], tgt_lens)
    with pytest.raises(RuntimeError, match="Expected tensor to have size at least 4 at dim"):
        tg.nn.functional.ctc_loss(lp, tg.tensor(targets), in_lens, [4, 2, 1])
    one = tg.nn.functional.ctc_loss(lp[:, 0], tg.tensor([1, 2, 2]), [6], [3])  # unbatched
    assert one.shape == () and np.isclose(one.item(), tg.nn.functional.ctc_loss(
        lp, tg.tensor(targets), in_lens, tgt_lens, reduction="none")[0].item() / 3)


def test_triplet_margin_loss_checks_dims_as_torch():
    """Inputs of different ranks are refused with PyTorch's words (they broadcast before, to
    an error about sizes or, for a 1-d negative of the batch's length, to a wrong value)."""
    torch = pytest.importorskip("torch")
    a, n = X[:3, :3], Z[:3, 0]  # (a 1-d negative as long as the rows)
    messages = []
    for lib in (torch, tg):
        with pytest.raises(RuntimeError) as info:
            lib.nn.functional.triplet_margin_loss(lib.tensor(a), lib.tensor(a), lib.tensor(n))
        messages.append(str(info.value))
    assert messages[1] == messages[0]
    assert "anchor 2D, positive 2D, and negative 1D inputs" in messages[1]
