"""In-place writes through views of an expanded tensor, compared with PyTorch: a view that
repeats no element writes through to the expanded tensor's storage; a write that would
store to one element from two places raises PyTorch's internal-overlap error (fill_ and
zero_ excepted: one value for all)."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

WRITES = {
    "row_add": lambda w, m: w[0].add_(1),
    "row_iadd": lambda w, m: w[1].__iadd__(2),
    "row_mul_chain": lambda w, m: w[1].add_(1).mul_(3),
    "row_fill": lambda w, m: w[0].fill_(3),
    "row_zero": lambda w, m: w[0].zero_(),
    "row_copy": lambda w, m: w[0].copy_(m.arange(3.0)),
    "row_exp": lambda w, m: w[0].exp_(),
    "row_clamp": lambda w, m: w[0].clamp_(min=1.5),
    "element_add": lambda w, m: w[0][1].add_(1),
    "setitem_row": lambda w, m: w.__setitem__(0, m.tensor([4.0, 5.0, 6.0])),
    "setitem_element": lambda w, m: w.__setitem__((1, 2), 7.0),
    "column_fill": lambda w, m: w[:, 1].fill_(5),
    "whole_fill": lambda w, m: w.fill_(2),
    "whole_zero": lambda w, m: w.zero_(),
    "transposed_column": lambda w, m: w.t()[:, 0].add_(1),
    "view_row": lambda w, m: w.view(2, 3)[0].add_(1),
    "unsqueezed_row": lambda w, m: w.unsqueeze(0)[0, 1].mul_(4),
    "row_index_fill": lambda w, m: w[0].index_fill_(0, m.tensor([1]), 4.0),
    # refused by both: the written elements repeat
    "whole_add": lambda w, m: w.add_(1),
    "whole_mul": lambda w, m: w.mul_(2),
    "whole_copy": lambda w, m: w.copy_(m.ones(2, 3)),
    "column_mul": lambda w, m: w[:, 1].mul_(2),
    "transposed_row": lambda w, m: w.t()[0].add_(1),
    "setitem_all": lambda w, m: w.__setitem__(slice(None), 5.0),
    "setitem_column": lambda w, m: w.__setitem__((slice(None), 1), 5.0),
}


def _run(m, name):
    b = m.tensor([1.0, 2.0, 3.0])
    w = b.expand(2, 3)
    try:
        WRITES[name](w, m)
    except RuntimeError as e:
        return "error", str(e)
    return np.asarray(b.tolist()), np.asarray(w.tolist()), b._version


@pytest.mark.parametrize("name", sorted(WRITES))
def test_expanded_view_write_matches_torch(name):
    got, want = _run(tg, name), _run(torch, name)
    if isinstance(want[0], str):  # PyTorch refuses: the same error
        assert got == want
        return
    assert not isinstance(got[0], str), got
    np.testing.assert_allclose(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1])
    assert got[2] == want[2]


def _grads(m):
    a = m.tensor([1.0, 2.0, 3.0], dtype=m.float64, requires_grad=True)
    b = a * 2
    c = b.exp()  # (saves its result, not b: b may change)
    w = b.expand(2, 3)
    w[1].mul_(a)
    w[0][2].add_(1)
    ((b * m.arange(3.0, dtype=m.float64)).sum() + c.sum() + (w * w).sum()).backward()
    return b.tolist(), a.grad.tolist(), b._version


def test_expanded_view_write_gradient_matches_torch():
    got, want = _grads(tg), _grads(torch)
    np.testing.assert_allclose(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1])
    assert got[2] == want[2]


def test_expanded_view_write_gradcheck():
    def f(a, s):
        b = a * 1.0
        b.expand(3, 4)[1].mul_(s)
        return b * b

    a = tg.randn(4, dtype=tg.float64, requires_grad=True)
    s = tg.randn(4, dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(f, (a, s))


def test_expanded_view_of_leaf_requiring_grad_refused_as_torch():
    for m in (tg, torch):
        b = m.zeros(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            b.expand(2, 3)[0].add_(1)


def test_saved_expanded_source_modified_through_view_raises():
    for m in (tg, torch):
        a = m.ones(3, requires_grad=True)
        b = a * 1
        y = b * b  # saves b
        b.expand(2, 3)[0].add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


@pytest.mark.parametrize("write", ["row", "column", "fill"])
def test_view_of_overlapping_unfold_writes_through_as_torch(write):
    def run(m):
        x = m.arange(6.0)
        w = x.unfold(0, 3, 1)
        {"row": lambda: w[1].mul_(2), "column": lambda: w[:, 0].add_(1),
         "fill": lambda: w.fill_(7)}[write]()
        return x.tolist()

    assert run(tg) == run(torch)


@pytest.mark.parametrize("value_requires_grad", [False, True])
@pytest.mark.parametrize("which", ["whole", "column", "row"])
def test_fill_with_a_tensor_over_repeated_elements_raises_as_torch(which, value_requires_grad):
    # fill_(number) writes one value for all repeated elements; fill_(0-d tensor) is refused by
    # PyTorch there (it wrote, and a value requiring grad got every repeat's gradient)
    def run(m):
        a = m.tensor([1.0, 2.0, 3.0], dtype=m.float64, requires_grad=True)
        b = a * 1
        w = b.expand(2, 3)
        v = {"whole": w, "column": w[:, 1], "row": w[0]}[which]
        s = a.sum() if value_requires_grad else m.tensor(6.0, dtype=m.float64)
        try:
            v.fill_(s)
        except RuntimeError as e:
            return str(e)
        return b.tolist(), m.autograd.grad((b * b).sum(), a)[0].tolist()

    got, want = run(tg), run(torch)
    assert got == want
    assert isinstance(want, tuple) == (which == "row")


BACKWARD_WRITES = {  # (a view of b = x.clone(), written in place, then b used)
    "fill": lambda b, m: b.expand(2, 3).fill_(5.0),
    "zero": lambda b, m: b.expand(2, 3).zero_(),
    "fill_unsqueezed": lambda b, m: b.unsqueeze(0).expand(4, 3).fill_(-1.0),
    "fill_as_strided": lambda b, m: b.as_strided((2, 3), (0, 1)).fill_(2.0),
    "fill_column_of_unsqueezed": lambda b, m: b.unsqueeze(1).expand(3, 2)[:, 1].fill_(2.0),
    "index_rows": lambda b, m: b.expand(2, 3).__setitem__(m.tensor([0]), 5.0),
    "mask_rows": lambda b, m: b.expand(2, 3).__setitem__(m.tensor([True, False]), 5.0),
    "index_in_a_row": lambda b, m: b.expand(2, 3).__setitem__((0, m.tensor([1])), 5.0),
    "basic_row": lambda b, m: b.expand(2, 3).__setitem__(0, 5.0),
    "row_fill": lambda b, m: b.expand(2, 3)[1].fill_(4.0),
    "unfold_fill": lambda b, m: b.unfold(0, 2, 1).fill_(5.0),  # (no stride 0: PyTorch writes)
}


def _leaf_clone_expanded(m):
    """A leaf x requiring grad, b = x.clone() and v = b.expand(2, 3) (repeating b's elements)."""
    x = m.tensor([1.0, 2.0, 3.0], dtype=m.float64, requires_grad=True)
    b = x.clone()
    return x, b, b.expand(2, 3)


@pytest.mark.parametrize("use", ["base", "view", "grad", "unreached"])
@pytest.mark.parametrize("write", sorted(BACKWARD_WRITES))
def test_backward_through_a_write_into_repeated_elements_raises_as_torch(write, use):
    # fill_/zero_ of a number and index_put_ write into a view whose stride is 0: PyTorch
    # writes, then raises its overlap error when a backward reaches the write (CopySlices)
    def run(m):
        x, b, v = _leaf_clone_expanded(m)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                BACKWARD_WRITES[write](b, m)
            if use == "base":
                (b * x).sum().backward()
                return b.tolist(), x.grad.tolist()
            if use == "view":
                (v * x).sum().backward()
                return b.tolist(), x.grad.tolist()
            if use == "grad":
                return b.tolist(), m.autograd.grad((b * b).sum(), x)[0].tolist()
            (x * x).sum().backward()  # (the write not on the way: no error)
            return b.tolist(), x.grad.tolist()
        except RuntimeError as e:
            return str(e)

    got, want = run(tg), run(torch)
    assert got == want
    assert isinstance(want, str) == (use != "unreached" and write not in (
        "index_in_a_row", "basic_row", "row_fill", "unfold_fill", "fill_column_of_unsqueezed"))


FILLS = {
    "masked_fill": lambda v, m: v.masked_fill_(m.tensor([[True, False, False],
                                                         [False, True, False]]), 5.0),
    "masked_fill_tensor": lambda v, m: v.masked_fill_(m.tensor([True, False, True]),
                                                      m.tensor(-2.0, dtype=m.float64)),
    "index_fill": lambda v, m: v.index_fill_(1, m.tensor([1]), 5.0),
    "index_put": lambda v, m: v.index_put_((m.tensor([0]),), m.tensor(7.0, dtype=m.float64)),
    "index_put_accumulate": lambda v, m: v.index_put_(
        (m.tensor([0, 1]), m.tensor([2, 2])), m.tensor([1.0, 3.0], dtype=m.float64),
        accumulate=True),
}


@pytest.mark.parametrize("use", ["base", "view", "unreached"])
@pytest.mark.parametrize("fill", sorted(FILLS))
def test_expanded_fill_of_a_view_requiring_grad_writes_then_backward_raises_as_torch(fill, use):
    # PyTorch writes (with its deprecation warning), records CopySlices and raises its overlap
    # error when a backward reaches it; tapegrad raised at the write
    def run(m):
        x, b, v = _leaf_clone_expanded(m)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            FILLS[fill](v, m)
        out = [b.tolist(), b._version, type(b.grad_fn).__name__, b.requires_grad,
               len(seen) > 0]
        try:
            {"base": lambda: (b * x).sum(), "view": lambda: (v * 2).sum(),
             "unreached": lambda: (x * x).sum()}[use]().backward()
            out.append(x.grad.tolist())
        except RuntimeError as e:
            out.append(str(e))
        return out

    got, want = run(tg), run(torch)
    assert got == want
    assert ("unsupported operation" in want[-1]) == (use != "unreached")
