"""tg.nn.utils.prune against torch.nn.utils.prune: masks, the reparametrization (name_orig,
name_mask, state_dict keys), iterative pruning, global pruning, remove, gradients through the
mask and PyTorch's errors; properties that hold without PyTorch (counts, zero gradients)."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.nn.utils import prune

W = np.random.default_rng(3).standard_normal((5, 4, 3))  # distinct magnitudes: no ties
W2 = np.random.default_rng(4).standard_normal((5, 4))


def _pair(torch, shape=(5, 4)):
    """A conv-like and a linear layer, with the same weights, in both libraries."""
    if len(shape) == 3:
        a, b = tg.nn.Conv1d(4, 5, 3), torch.nn.Conv1d(4, 5, 3).double()
        w = W
    else:
        a, b = tg.nn.Linear(4, 5), torch.nn.Linear(4, 5).double()
        w = W2
    with tg.no_grad():
        a.weight.copy_(tg.tensor(w))
        a.bias.copy_(tg.tensor(w[:, 0, ...].reshape(-1)[:5]))
    with torch.no_grad():
        b.weight.copy_(torch.tensor(w))
        b.bias.copy_(torch.tensor(w[:, 0, ...].reshape(-1)[:5]))
    return a, b


def _same(a, b):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=0)


def test_l1_unstructured_matches_torch():
    torch = pytest.importorskip("torch")
    tprune = pytest.importorskip("torch.nn.utils.prune")
    a, b = _pair(torch)
    prune.l1_unstructured(a, "weight", amount=0.35)
    tprune.l1_unstructured(b, "weight", amount=0.35)
    assert [n for n, _ in a.named_parameters()] == [n for n, _ in b.named_parameters()]
    assert [n for n, _ in a.named_buffers()] == [n for n, _ in b.named_buffers()]
    assert list(a.state_dict()) == list(b.state_dict())
    _same(a.weight_mask, b.weight_mask)
    _same(a.weight, b.weight)
    x = np.linspace(-1, 1, 12).reshape(3, 4)
    a(tg.tensor(x)).pow(2).sum().backward()
    b(torch.tensor(x)).pow(2).sum().backward()
    _same(a.weight_orig.grad, b.weight_orig.grad)
    assert not a.weight_orig.grad.numpy()[a.weight_mask.numpy() == 0].any()


def test_iterative_pruning_combines_masks_as_torch():
    torch = pytest.importorskip("torch")
    tprune = pytest.importorskip("torch.nn.utils.prune")
    a, b = _pair(torch, (5, 4, 3))
    for lib, m in ((prune, a), (tprune, b)):
        lib.l1_unstructured(m, "weight", amount=7)
        lib.ln_structured(m, "weight", amount=0.4, n=2, dim=0)
        lib.ln_structured(m, "weight", amount=1, n=float("inf"), dim=-1)
        lib.l1_unstructured(m, "bias", amount=2)
    _same(a.weight_mask, b.weight_mask)
    _same(a.bias_mask, b.bias_mask)
    hooks = [h for h in a._forward_pre_hooks.values()]
    assert isinstance(hooks[0], prune.PruningContainer) and len(hooks[0]) == 3
    for lib, m in ((prune, a), (tprune, b)):
        lib.remove(m, "weight")
    assert [n for n, _ in a.named_parameters()] == [n for n, _ in b.named_parameters()]
    _same(a.weight, b.weight)
    assert type(a.weight) is tg.nn.Parameter and prune.is_pruned(a)
    prune.remove(a, "bias")
    assert not prune.is_pruned(a)


def test_global_and_custom_masks_match_torch():
    torch = pytest.importorskip("torch")
    tprune = pytest.importorskip("torch.nn.utils.prune")
    a1, b1 = _pair(torch)
    a2, b2 = _pair(torch, (5, 4, 3))
    prune.global_unstructured([(a1, "weight"), (a2, "weight")],
                              pruning_method=prune.L1Unstructured, amount=0.5)
    tprune.global_unstructured([(b1, "weight"), (b2, "weight")],
                                             pruning_method=tprune.L1Unstructured,
                                             amount=0.5)
    _same(a1.weight_mask, b1.weight_mask)
    _same(a2.weight_mask, b2.weight_mask)
    mask = (np.arange(5) % 2).astype(float)
    prune.custom_from_mask(a1, "bias", tg.tensor(mask))
    tprune.custom_from_mask(b1, "bias", torch.tensor(mask))
    _same(a1.bias, b1.bias)


@pytest.mark.parametrize("call", [
    lambda lib, m: lib.l1_unstructured(m, "weight", amount=1.5),
    lambda lib, m: lib.l1_unstructured(m, "weight", amount=-1),
    lambda lib, m: lib.l1_unstructured(m, "weight", amount="a"),
    lambda lib, m: lib.l1_unstructured(m, "weight", amount=21),
    lambda lib, m: lib.ln_structured(m, "bias", amount=1, n=2, dim=0),
    lambda lib, m: lib.ln_structured(m, "weight", amount=1, n=2, dim=2),
    lambda lib, m: lib.remove(m, "weight"),
    lambda lib, m: lib.global_unstructured([(m, "weight")], pruning_method=lib.LnStructured,
                                           amount=1, n=2, dim=0),
])
def test_errors_match_torch(call):
    torch = pytest.importorskip("torch")
    tprune = pytest.importorskip("torch.nn.utils.prune")
    a, b = _pair(torch)
    with pytest.raises(Exception) as theirs:
        call(tprune, b)
    with pytest.raises(type(theirs.value)) as ours:
        call(prune, a)
    assert str(ours.value).replace("tapegrad.", "torch.") == str(theirs.value)
    assert [n for n, _ in a.named_parameters()] == [n for n, _ in b.named_parameters()]
    assert not prune.is_pruned(a)  # (a failed pruning leaves the module unpruned)


def test_random_pruning_counts_and_prune_method():
    tg.manual_seed(0)
    m = tg.nn.Conv1d(4, 6, 3)
    prune.random_unstructured(m, "weight", amount=0.25)
    assert int((m.weight_mask == 0).sum()) == 18
    prune.random_structured(m, "weight", amount=2, dim=0)
    kept = m.weight_mask.sum((1, 2))
    assert int((kept == 0).sum()) == 2
    prune.identity(m, "bias")
    assert m.bias_mask.tolist() == [1.0] * 6
    t = tg.tensor([3.0, -1.0, 2.0, 0.5])
    assert prune.L1Unstructured(amount=2).prune(t).tolist() == [3.0, 0.0, 2.0, 0.0]
