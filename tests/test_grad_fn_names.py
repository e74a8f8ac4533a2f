"""``grad_fn`` names as PyTorch's: an op is named as it was called (``x.sum()`` is
``SumBackward0``, ``x.sum(0)`` ``SumBackward1``; ``x.mean()`` is one ``MeanBackward0`` node
whose next function is ``x``'s, though the tape records a sum and a scale), and
``next_functions`` lists every input of the node, ``(None, 0)`` for one that requires no grad.
The names are written out, so the checks run without torch; one test compares each with live
PyTorch."""

import numpy as np
import pytest

import tapegrad as tg

from tests.op_checks import needs_torch, torch

F = lambda lib: lib.nn.functional  # noqa: E731  (the same calls run on tapegrad and torch)
ACC = "AccumulateGrad"

# (id, call of (library, x 4x4, w 4x4, v 4), node name, names of next_functions (None: none))
CASES = [
    ("sum", lambda m, x, w, v: x.sum(), "SumBackward0", (ACC,)),
    ("sum.dtype", lambda m, x, w, v: x.sum(dtype=m.float64), "SumBackward0", (ACC,)),
    ("sum.dim", lambda m, x, w, v: x.sum(0), "SumBackward1", (ACC,)),
    ("sum.dims_all", lambda m, x, w, v: x.sum((0, 1)), "SumBackward1", (ACC,)),
    ("sum.empty_dims", lambda m, x, w, v: x.sum(()), "SumBackward1", (ACC,)),
    ("sum.keepdim", lambda m, x, w, v: x.sum(dim=None, keepdim=True), "SumBackward1", (ACC,)),
    ("sum.vector", lambda m, x, w, v: v.sum(), "SumBackward0", (ACC,)),
    ("sum.vector_dim", lambda m, x, w, v: v.sum(0), "SumBackward1", (ACC,)),
    ("sum.function", lambda m, x, w, v: m.sum(x), "SumBackward0", (ACC,)),
    ("mean", lambda m, x, w, v: x.mean(), "MeanBackward0", (ACC,)),
    ("mean.function", lambda m, x, w, v: m.mean(x), "MeanBackward0", (ACC,)),
    ("mean.dim", lambda m, x, w, v: x.mean(0), "MeanBackward1", (ACC,)),
    ("mean.keepdim", lambda m, x, w, v: x.mean(1, keepdim=True), "MeanBackward1", (ACC,)),
    ("mean.empty_dims", lambda m, x, w, v: x.mean(()), "MeanBackward1", (ACC,)),
    ("mean.dims_all", lambda m, x, w, v: x.mean((0, 1)), "MeanBackward1", (ACC,)),
    ("mean.none_keepdim", lambda m, x, w, v: x.mean(None, True), "MeanBackward1", (ACC,)),
    ("mean.vector", lambda m, x, w, v: v.mean(), "MeanBackward0", (ACC,)),
    ("mean.of_product", lambda m, x, w, v: (x * w).mean(), "MeanBackward0", ("MulBackward0",)),
    ("prod", lambda m, x, w, v: x.prod(), "ProdBackward0", (ACC,)),
    ("prod.dim", lambda m, x, w, v: x.prod(0), "ProdBackward1", (ACC,)),
    ("max", lambda m, x, w, v: x.max(), "MaxBackward1", (ACC,)),
    ("max.function", lambda m, x, w, v: m.max(x), "MaxBackward1", (ACC,)),
    ("min", lambda m, x, w, v: x.min(), "MinBackward1", (ACC,)),
    ("max.dim", lambda m, x, w, v: x.max(0).values, "MaxBackward0", (ACC,)),
    ("max.dim_keepdim", lambda m, x, w, v: x.max(1, keepdim=True)[0], "MaxBackward0", (ACC,)),
    ("min.dim", lambda m, x, w, v: x.min(1)[0], "MinBackward0", (ACC,)),
    ("amax", lambda m, x, w, v: x.amax(0), "AmaxBackward0", (ACC,)),
    ("amin", lambda m, x, w, v: x.amin(1), "AminBackward0", (ACC,)),
    ("aminmax", lambda m, x, w, v: m.aminmax(x).max, "AminmaxBackward0", (ACC,)),
    ("median", lambda m, x, w, v: x.median(), "MedianBackward0", (ACC,)),
    ("median.dim", lambda m, x, w, v: x.median(0).values, "MedianBackward1", (ACC,)),
    ("nanmedian", lambda m, x, w, v: x.nanmedian(), "NanmedianBackward0", (ACC,)),
    ("sort", lambda m, x, w, v: x.sort(0).values, "SortBackward0", (ACC,)),
    ("topk", lambda m, x, w, v: x.topk(2).values, "TopkBackward0", (ACC,)),
    ("kthvalue", lambda m, x, w, v: x.kthvalue(2).values, "KthvalueBackward0", (ACC,)),
    ("cummax", lambda m, x, w, v: x.cummax(0).values, "CummaxBackward0", (ACC,)),
    ("cummin", lambda m, x, w, v: x.cummin(1).values, "CumminBackward0", (ACC,)),
    ("trace", lambda m, x, w, v: x.trace(), "TraceBackward0", (ACC,)),
    ("log1p", lambda m, x, w, v: x.abs().log1p(), "Log1PBackward0", ("AbsBackward0",)),
    # views, named as the view op called (the tape records reshapes and strided gathers)
    ("t", lambda m, x, w, v: x.t(), "TBackward0", (ACC,)),
    ("T", lambda m, x, w, v: x.T, "PermuteBackward0", (ACC,)),
    ("mT", lambda m, x, w, v: x.mT, "TransposeBackward0", (ACC,)),
    ("transpose", lambda m, x, w, v: x.transpose(0, 1), "TransposeBackward0", (ACC,)),
    ("swapaxes", lambda m, x, w, v: x.swapaxes(0, 1), "TransposeBackward0", (ACC,)),
    ("permute", lambda m, x, w, v: x.permute(1, 0), "PermuteBackward0", (ACC,)),
    ("movedim", lambda m, x, w, v: x.movedim(0, 1), "PermuteBackward0", (ACC,)),
    ("unsqueeze", lambda m, x, w, v: x.unsqueeze(0), "UnsqueezeBackward0", (ACC,)),
    ("squeeze", lambda m, x, w, v: x.unsqueeze(1).squeeze(), "SqueezeBackward0",
     ("UnsqueezeBackward0",)),
    ("squeeze.dim", lambda m, x, w, v: x.unsqueeze(1).squeeze(1), "SqueezeBackward1",
     ("UnsqueezeBackward0",)),
    ("squeeze.dims", lambda m, x, w, v: x.unsqueeze(1).squeeze((1,)), "SqueezeBackward2",
     ("UnsqueezeBackward0",)),
    ("expand", lambda m, x, w, v: v.expand(4, 4), "ExpandBackward0", (ACC,)),
    ("expand.operand", lambda m, x, w, v: x * v.expand(4, 4), "MulBackward0",
     (ACC, "ExpandBackward0")),
    ("broadcast.operand", lambda m, x, w, v: x * v, "MulBackward0", (ACC, ACC)),
    ("narrow", lambda m, x, w, v: x.narrow(0, 1, 2), "SliceBackward0", (ACC,)),
    ("select", lambda m, x, w, v: x.select(0, 1), "SelectBackward0", (ACC,)),
    ("diagonal", lambda m, x, w, v: x.diagonal(), "DiagonalBackward0", (ACC,)),
    ("flip", lambda m, x, w, v: x.flip(0), "FlipBackward0", (ACC,)),
    ("split", lambda m, x, w, v: x.split(2)[1], "SplitBackward0", (ACC,)),
    ("split.sizes", lambda m, x, w, v: x.split([1, 3])[0], "SplitWithSizesBackward0", (ACC,)),
    ("chunk", lambda m, x, w, v: x.chunk(2)[0], "SplitBackward0", (ACC,)),
    ("unbind", lambda m, x, w, v: x.unbind()[2], "UnbindBackward0", (ACC,)),
    ("contiguous", lambda m, x, w, v: x.t().contiguous(), "CloneBackward0", ("TBackward0",)),
    # selections and fills recorded as a gather or a where
    ("gather", lambda m, x, w, v: x.gather(0, m.tensor([[0, 1, 2, 3]])), "GatherBackward0",
     (ACC,)),
    ("index_select", lambda m, x, w, v: x.index_select(0, m.tensor([0, 2])),
     "IndexSelectBackward0", (ACC,)),
    ("repeat", lambda m, x, w, v: x.repeat(2, 1), "RepeatBackward0", (ACC,)),
    ("masked_fill", lambda m, x, w, v: x.masked_fill(x > 0, 0.0), "MaskedFillBackward0", (ACC,)),
    ("masked_fill.tensor", lambda m, x, w, v: x.masked_fill(x > 0, m.tensor(1.0, dtype=x.dtype)),
     "MaskedFillBackward1", (ACC, None)),
    ("masked_fill_", lambda m, x, w, v: x.clone().masked_fill_(x > 0, 0.0), "MaskedFillBackward0",
     ("CloneBackward0",)),
    ("tril", lambda m, x, w, v: x.tril(), "TrilBackward0", (ACC,)),
    ("triu", lambda m, x, w, v: m.triu(x, 1), "TriuBackward0", (ACC,)),
    ("zero_", lambda m, x, w, v: x.clone().zero_(), "ZeroBackward0", ("CloneBackward0",)),
    ("fill_", lambda m, x, w, v: x.clone().fill_(1.0), "FillBackward2", ("CloneBackward0",)),
    ("fill_.tensor", lambda m, x, w, v: x.clone().fill_(v.select(0, 0)), "FillBackward3",
     ("CloneBackward0", "SelectBackward0")),
    # matmul as PyTorch dispatches it
    ("dot", lambda m, x, w, v: v @ v, "DotBackward0", (ACC, ACC)),
    ("Tensor.dot", lambda m, x, w, v: v.dot(v), "DotBackward0", (ACC, ACC)),
    ("mv", lambda m, x, w, v: x @ v, "MvBackward0", (ACC, ACC)),
    ("Tensor.mv", lambda m, x, w, v: x.mv(v), "MvBackward0", (ACC, ACC)),
    ("mm", lambda m, x, w, v: x @ w, "MmBackward0", (ACC, ACC)),
    ("linear", lambda m, x, w, v: F(m).linear(x, w), "MmBackward0", (ACC, "TBackward0")),
    ("bmm", lambda m, x, w, v: m.bmm(x[None] * 1, w[None] * 1), "BmmBackward0",
     ("MulBackward0", "MulBackward0")),
    # losses recorded as one op per element: one node, its inputs the loss's
    ("mse_loss", lambda m, x, w, v: F(m).mse_loss(x, w), "MseLossBackward0", (ACC, ACC)),
    ("mse_loss.sum", lambda m, x, w, v: F(m).mse_loss(x, w.detach(), reduction="sum"),
     "MseLossBackward0", (ACC, None)),
    ("mse_loss.none", lambda m, x, w, v: F(m).mse_loss(x, w, reduction="none"),
     "MseLossBackward0", (ACC, ACC)),
    ("huber_loss", lambda m, x, w, v: F(m).huber_loss(x, w), "HuberLossBackward0", (ACC, ACC)),
    ("smooth_l1_loss", lambda m, x, w, v: F(m).smooth_l1_loss(x, w), "SmoothL1LossBackward0",
     (ACC, ACC)),
    # (operands that are views take the compositions: still PyTorch's one node)
    ("mse_loss.views", lambda m, x, w, v: F(m).mse_loss(x.view(16), w.view(16)),
     "MseLossBackward0", ("ViewBackward0", "ViewBackward0")),
    ("mse_loss.view_target", lambda m, x, w, v: F(m).mse_loss(x * 2, w.detach().view(4, 4),
                                                               reduction="sum"),
     "MseLossBackward0", ("MulBackward0", None)),
    ("smooth_l1_loss.views", lambda m, x, w, v: F(m).smooth_l1_loss(x.t(), w, reduction="none"),
     "SmoothL1LossBackward0", ("TBackward0", ACC)),
    ("huber_loss.views", lambda m, x, w, v: F(m).huber_loss(x.view(16), w.view(16)),
     "HuberLossBackward0", ("ViewBackward0", "ViewBackward0")),
    ("max_pool2d", lambda m, x, w, v: F(m).max_pool2d(x.relu().view(1, 1, 4, 4), 2),
     "MaxPool2DWithIndicesBackward0", ("ViewBackward0",)),
    ("max_pool2d.unbatched", lambda m, x, w, v: F(m).max_pool2d(x.relu().view(1, 4, 4), 2),
     "MaxPool2DWithIndicesBackward0", ("ViewBackward0",)),
    ("binary_cross_entropy", lambda m, x, w, v: F(m).binary_cross_entropy(
        x.sigmoid(), w.detach().sigmoid()), "BinaryCrossEntropyBackward0",
     ("SigmoidBackward0", None)),
    ("binary_cross_entropy_with_logits", lambda m, x, w, v: F(m).binary_cross_entropy_with_logits(
        x, w.detach().sigmoid()), "BinaryCrossEntropyWithLogitsBackward0", (ACC, None)),
    ("l1_loss", lambda m, x, w, v: F(m).l1_loss(x, w), "MeanBackward0", ("AbsBackward0",)),
    # inputs that require no grad, and wrapped numbers: None entries
    ("mul.number", lambda m, x, w, v: x * 2, "MulBackward0", (ACC, None)),
    ("add.number", lambda m, x, w, v: x + 1, "AddBackward0", (ACC, None)),
    ("mul.constant", lambda m, x, w, v: x * w.detach(), "MulBackward0", (ACC, None)),
    ("mul.constant_first", lambda m, x, w, v: w.detach() * x, "MulBackward0", (None, ACC)),
    ("where.number", lambda m, x, w, v: m.where(x > 0, x, 0.0), "WhereBackward0", (ACC, None)),
    ("add_.number", lambda m, x, w, v: x.clone().add_(1), "AddBackward0",
     ("CloneBackward0", None)),
    ("add.sum", lambda m, x, w, v: x.detach() + x.sum(), "AddBackward0", (None, "SumBackward0")),
]
IDS = [c[0] for c in CASES]
RNG = np.random.default_rng(0)
VALUES = (RNG.standard_normal((4, 4)), RNG.standard_normal((4, 4)), RNG.standard_normal(4))


def _node(lib, call):
    x, w, v = (lib.tensor(a, requires_grad=True) for a in VALUES)
    node = call(lib, x, w, v).grad_fn
    return (type(node).__name__, node.name(), tuple(
        None if f is None else type(f).__name__ for f, _ in node.next_functions))


@pytest.mark.parametrize("name,call,node,inputs", CASES, ids=IDS)
def test_node_is_named_as_pytorchs(name, call, node, inputs):
    assert _node(tg, call) == (node, node, inputs)


@needs_torch
@pytest.mark.parametrize("name,call,node,inputs", CASES, ids=IDS)
def test_node_names_match_live_pytorch(name, call, node, inputs):
    assert _node(tg, call) == _node(torch, call)


def test_accumulate_grad_name_is_pytorchs_qualified_name():
    x = tg.ones(2, requires_grad=True)
    acc = (x * x).grad_fn.next_functions[0][0]
    assert (type(acc).__name__, acc.name()) == (ACC, "torch::autograd::AccumulateGrad")
    assert repr(acc).startswith("<AccumulateGrad object at ")
    assert acc.next_functions == ()


def test_copy_node_is_pytorchs_copy_backwards():
    for lib in (tg, torch) if torch is not None else (tg,):
        x, w = (lib.tensor(a, requires_grad=True) for a in VALUES[:2])
        node = x.clone().copy_(w).grad_fn
        assert (type(node).__name__, node.name()) == ("CopyBackwards",
                                                      "torch::autograd::CopyBackwards")
        assert [type(f).__name__ for f, _ in node.next_functions] == ["CloneBackward0", ACC]


def test_a_mean_node_takes_prehooks_and_refuses_posthooks():
    x = tg.tensor(VALUES[0], requires_grad=True)
    m = x.mean()
    seen = []
    m.grad_fn.register_prehook(lambda go: seen.append(go[0].shape) or (go[0] * 2,))
    with pytest.raises(NotImplementedError, match="register_hook on MeanBackward0"):
        m.grad_fn.register_hook(lambda gi, go: None)
    m.backward()
    assert seen == [()]
    np.testing.assert_allclose(x.grad.numpy(), np.full((4, 4), 2 / 16))


def test_named_nodes_keep_their_gradients():
    x = tg.tensor(VALUES[0], requires_grad=True)
    (x.mean() + x.max(0).values.sum() + x.trace() + x.sort(1).values[:, 0].sum()).backward()
    a = VALUES[0]
    expected = np.full((4, 4), 1 / 16) + np.eye(4)
    expected[a.argmax(0), np.arange(4)] += 1
    expected[np.arange(4), a.argmin(1)] += 1
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-14)


def test_a_named_sum_under_no_grad_records_nothing():
    x = tg.tensor(VALUES[0], requires_grad=True)
    with tg.no_grad():
        assert x.mean().grad_fn is None and x.sum(0).grad_fn is None
    assert tg.tensor(VALUES[0]).mean().grad_fn is None
