"""In-place ops, version counters and the saved-value check, as in PyTorch."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd import gradcheck, gradgradcheck

VERSION_KEY = ("one of the variables needed for gradient computation has been modified by an "
               "inplace operation")
LEAF = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_LEAF = "a view of a leaf Variable that requires grad is being used in an in-place operation."


def leaf(values):
    return tg.tensor(np.array(values, dtype=np.float64), requires_grad=True)


# ---- version counter, leaves, no_grad ---------------------------------------------------------

def test_version_counter():
    t = tg.zeros(2)
    assert t._version == 0
    t.add_(1)
    assert t._version == 1
    t[0] = 3
    assert t._version == 2
    assert t.tolist() == [3.0, 1.0]


def test_views_share_version_and_storage():
    t = tg.zeros(4)
    v = t[1:3]
    v.add_(2)
    assert t.tolist() == [0.0, 2.0, 2.0, 0.0]
    assert t._version == v._version == 1
    d = t.detach()
    d[0] = 100.0  # writing through detach() changes the original
    assert t.tolist()[0] == 100.0 and t._version == 2


def test_data_does_not_bump_version():
    x = leaf([1.0, 2.0])
    dat = x.data
    dat[0] = 50.0
    assert x.tolist() == [50.0, 2.0]
    assert x._version == 0 and dat._version == 1


@pytest.mark.parametrize("op", [lambda l: l.add_(1), lambda l: l.zero_(),
                                lambda l: l.__iadd__(1), lambda l: l.mul_(2),
                                lambda l: l.copy_(tg.ones(2)), lambda l: l.exp_()])
def test_leaf_requiring_grad_raises_and_is_unchanged(op):
    l = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError) as e:
        op(l)
    assert str(e.value) == LEAF
    assert l.tolist() == [1.0, 2.0] and l._version == 0


def test_iadd_statement_raises():
    l = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        l += 1
    assert l.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("op", [lambda l: l.__setitem__(0, 5.0), lambda l: l[0:1].mul_(2),
                                lambda l: l.view(2).add_(1)])
def test_view_of_leaf_raises(op):
    l = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError) as e:
        op(l)
    assert str(e.value) == VIEW_LEAF
    assert l.tolist() == [1.0, 2.0]


def test_no_grad_inplace_on_leaf():
    l = leaf([1.0, 2.0])
    with tg.no_grad():
        l.add_(1)
        l[0] = 7.0
    assert l.tolist() == [7.0, 3.0]
    assert l.requires_grad and l.is_leaf and l.grad_fn is None
    w = leaf([5.0, 6.0])
    with tg.no_grad():
        w.fill_(1.0)
    (w * w).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0]


# ---- recorded in-place ops -----------------------------------------------------------------

def test_inplace_on_nonleaf_is_recorded():
    l = leaf([1.0, 2.0])
    m = l * 1
    m.add_(1)
    assert type(m.grad_fn).__name__ == "AddBackward0"
    assert m._version == 1
    m.sum().backward()
    assert l.grad.tolist() == [1.0, 1.0]


def test_inplace_into_constant_with_rg_operand():
    l = leaf([1.0, 2.0])
    n = tg.zeros(2)
    n.add_(l)
    assert n.requires_grad and not n.is_leaf
    (n * 3).sum().backward()
    assert l.grad.tolist() == [3.0, 3.0]
    base = leaf([1.0, 2.0, 3.0])
    c = tg.zeros(3)
    c[0:2] = base[0:2] * 2
    assert c.requires_grad and not c.is_leaf and c.grad_fn.name() == "torch::autograd::CopySlices"
    c.sum().backward()
    assert base.grad.tolist() == [2.0, 2.0, 0.0]


def test_inplace_on_view_of_nonleaf():
    base = leaf([1.0, 2.0, 3.0])
    y = base * 1
    y[0:2].mul_(10)
    assert y.tolist() == [10.0, 20.0, 3.0]
    y.sum().backward()
    assert base.grad.tolist() == [10.0, 10.0, 1.0]


def test_view_kept_and_modified_updates_base_and_view():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x * 1
    v = y.t()[1]  # elements y[0, 1], y[1, 1]
    v.mul_(3)
    assert y.tolist() == [[1.0, 6.0], [3.0, 12.0]]
    ((v * v).sum() + y.sum()).backward()
    # d/dx of sum(9 x[:,1]^2) + x00 + x10 + 3 x01 + 3 x11
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, 18 * 2 + 3], [1.0, 18 * 4 + 3]])


def test_overwritten_elements_get_zero_gradient():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 1
    y[0] = 10.0
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0]


@pytest.mark.parametrize("key", [0, slice(1, 3), (slice(None), 1), [0, 2],
                                 np.array([True, False, True])])
def test_setitem_gradients(key):
    x = leaf(np.arange(1.0, 10.0).reshape(3, 3))
    v = leaf(np.full(np.shape(np.empty((3, 3))[key]), 0.5))

    def f(x, v):
        y = x * 2
        y[key] = v * v
        return y * y

    assert gradcheck(f, (x, v))
    assert gradgradcheck(f, (x, v))


def test_setitem_matches_torch(torch):
    xv, vv = np.arange(1.0, 7.0).reshape(2, 3), np.array([0.5, -1.0, 2.0])
    x, v = leaf(xv), leaf(vv)
    tx = torch.tensor(xv, requires_grad=True)
    tv = torch.tensor(vv, requires_grad=True)
    y = x.sin()  # saves x, which is not modified
    y[1] = v * 3
    y[:, 0] += 1
    ty = tx.sin()
    ty[1] = tv * 3
    ty[:, 0] += 1
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy())
    w = np.arange(6.0).reshape(2, 3)
    (y * tg.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_allclose(v.grad.numpy(), tv.grad.numpy())


INPLACE = [
    ("add_", lambda y, o: y.add_(o), True),
    ("add_alpha", lambda y, o: y.add_(o, alpha=2.5), True),
    ("sub_", lambda y, o: y.sub_(o), True),
    ("mul_", lambda y, o: y.mul_(o), True),
    ("div_", lambda y, o: y.div_(o), True),
    ("pow_", lambda y, o: y.pow_(o), True),
    ("iadd", lambda y, o: y.__iadd__(o), True),
    ("isub", lambda y, o: y.__isub__(o), True),
    ("imul", lambda y, o: y.__imul__(o), True),
    ("itruediv", lambda y, o: y.__itruediv__(o), True),
    ("copy_", lambda y, o: y.copy_(o), True),
    ("clamp_", lambda y, o: y.clamp_(0.8, 2.5), False),
    ("exp_", lambda y, o: y.exp_(), False),
    ("neg_", lambda y, o: y.neg_(), False),
    ("log_", lambda y, o: y.log_(), False),
    ("sqrt_", lambda y, o: y.sqrt_(), False),
    ("tanh_", lambda y, o: y.tanh_(), False),
    ("sigmoid_", lambda y, o: y.sigmoid_(), False),
    ("sin_", lambda y, o: y.sin_(), False),
    ("fill_", lambda y, o: y.fill_(2.0), False),
    ("zero_", lambda y, o: y.zero_(), False),
    ("mul_number", lambda y, o: y.mul_(3.0), False),
    ("pow_number", lambda y, o: y.pow_(2), False),
]


@pytest.mark.parametrize("name,op,uses_other", INPLACE, ids=[c[0] for c in INPLACE])
def test_inplace_ops_gradcheck(name, op, uses_other):
    x = leaf([[0.7, 1.3, 2.1], [1.1, 0.9, 1.7]])
    o = leaf([0.6, 1.4, 0.8])  # broadcast over rows

    def f(x, o):
        y = x * 1.5
        r = op(y, o)
        assert r is y
        return y * x

    assert gradcheck(f, (x, o))
    assert gradgradcheck(f, (x, o))


@pytest.mark.parametrize("name,op,uses_other", INPLACE, ids=[c[0] for c in INPLACE])
def test_inplace_ops_match_torch(torch, name, op, uses_other):
    xv, ov = np.array([[0.7, 1.3, 2.1], [1.1, 0.9, 1.7]]), np.array([0.6, 1.4, 0.8])
    x, o = leaf(xv), leaf(ov)
    tx, to = torch.tensor(xv, requires_grad=True), torch.tensor(ov, requires_grad=True)
    y = x * 1.5
    op(y, o)
    ty = tx * 1.5
    op(ty, to)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    (y * x).sum().backward()
    (ty * tx).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    if uses_other:
        np.testing.assert_allclose(o.grad.numpy(), to.grad.numpy(), rtol=1e-12)
    assert y._version == ty._version


def test_operand_sharing_storage():
    x = leaf([1.0, 2.0, 3.0])

    def f(x):
        y = x * 1
        y.mul_(y)  # y * y with the old value of both
        z = x * 1
        z[1:].add_(z[:-1])  # reads a view of what it overwrites
        return y + z

    assert gradcheck(f, (x,))
    y = x * 1
    y.mul_(y)
    assert y.tolist() == [1.0, 4.0, 9.0]
    z = x * 1
    z[1:].add_(z[:-1])
    assert z.tolist() == [1.0, 3.0, 5.0]


def test_float32_inplace_keeps_dtype():
    x = tg.tensor([1.0, 2.0], dtype=tg.float32, requires_grad=True)
    y = x * 1
    y.add_(tg.tensor([0.5, 0.5]))  # float64 operand
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [1.0, 1.0]


def test_create_graph_through_inplace():
    x = leaf([0.5, 1.5])
    y = x * 1
    y.mul_(x)
    y[0] = y[0] * x[1]
    g, = tg.autograd.grad(y.sum(), x, create_graph=True)
    # y = [x0^2 x1, x1^2] -> grad [2 x0 x1, x0^2 + 2 x1]
    np.testing.assert_allclose(g.detach().numpy(), [2 * 0.5 * 1.5, 0.25 + 3.0])
    h, = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), [2 * 1.5 + 2 * 0.5, 2 * 0.5 + 2])


# ---- errors at the op --------------------------------------------------------------------

def test_inplace_shape_and_dtype_errors():
    t = tg.zeros(2)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        t.add_(tg.ones(2, 2))
    i = tg.tensor([1, 2])
    with pytest.raises(RuntimeError, match="result type Double can't be cast to the desired "
                                           "output type Long"):
        i.mul_(1.5)
    i.add_(1)
    assert i.tolist() == [2, 3]
    with pytest.raises(RuntimeError, match=r"expanded size of the tensor \(2\) must match the "
                                           r"existing size \(3\)"):
        t[0:2] = tg.ones(3)  # a slice: PyTorch's expand error
    with pytest.raises(RuntimeError, match="shape mismatch"):
        t[[0, 1]] = tg.ones(3)  # integer indices: index_put's message
    e = tg.tensor(1.0).expand(3)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        e.add_(1)


def test_fill_with_tensor_value_gets_gradient():
    v = leaf(2.0)
    y = tg.zeros(3)
    y.fill_(v)
    (y * tg.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert v.grad.item() == 6.0
    with pytest.raises(RuntimeError, match="fill_ only supports 0-dimension value tensor"):
        y.fill_(tg.ones(2))


def test_data_setter_other_shape():
    x = leaf([1.0, 2.0])
    x.data = tg.tensor([5.0, 6.0, 7.0])
    assert x.requires_grad and x.tolist() == [5.0, 6.0, 7.0]


def test_data_setter_refuses_integers_for_a_tensor_that_requires_grad():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="^data set to a tensor that requires gradients must "
                                           "be floating point or complex dtype$"):
        x.data = tg.tensor([1, 2])
    assert x.dtype == tg.float64 and x.tolist() == [1.0, 2.0]
    y = tg.tensor([1.0, 2.0])  # no grad: any dtype
    y.data = tg.tensor([1, 2])
    assert y.dtype == tg.int64


# ---- saved values modified in place: the error at backward ---------------------------------

def test_saved_output_modified():
    a = leaf([1.0, 2.0])
    b = a.exp()
    b.add_(1)
    with pytest.raises(RuntimeError) as e:
        b.sum().backward()
    msg = str(e.value)
    assert msg.startswith(VERSION_KEY)
    assert "[tapegrad.DoubleTensor [2]], which is output 0 of Exp, is at version 1; expected " \
           "version 0 instead. Hint:" in msg
    s = a.sigmoid()
    s.mul_(2)
    with pytest.raises(RuntimeError, match="which is output 0 of Sigmoid"):
        s.sum().backward()


def test_saved_output_modified_torch(torch):
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = a.exp()
    b.add_(1)
    with pytest.raises(RuntimeError) as e:
        b.sum().backward()
    assert str(e.value).startswith(VERSION_KEY)


def test_saved_input_modified_and_retape():
    a = leaf([1.0, 2.0])
    c = a * 1.0
    e = c * c
    c.add_(1)
    with pytest.raises(RuntimeError, match=VERSION_KEY):
        e.sum().backward()
    with pytest.raises(RuntimeError, match=VERSION_KEY):
        tg.autograd.grad(e.sum(), a, create_graph=True)


def test_saved_leaf_modified_under_no_grad():
    l = leaf([1.0, 2.0])
    y = (l * l).sum()
    with tg.no_grad():
        l.mul_(2)
    with pytest.raises(RuntimeError) as e:
        y.backward()
    assert str(e.value).startswith(VERSION_KEY + ": [tapegrad.DoubleTensor [2]] is at version "
                                   "1; expected version 0 instead.")


def test_unsaved_input_modified_is_fine():
    a = leaf([1.0, 2.0])
    c = a * 1.0
    e = c + 2
    c.add_(1)
    e.sum().backward()
    assert a.grad.tolist() == [1.0, 1.0]


def test_modified_through_detach_is_caught_but_not_through_data():
    a = leaf([1.0, 2.0])
    b = a.exp()
    b.detach().zero_()
    with pytest.raises(RuntimeError, match=VERSION_KEY):
        b.sum().backward()
    a2 = leaf([1.0, 2.0])
    b2 = a2.exp()
    b2.data.zero_()
    b2.sum().backward()
    assert a2.grad.tolist() == [0.0, 0.0]  # PyTorch gives the same silently wrong gradient


def test_python_op_saved_input_modified():
    a = leaf([[1.0, 2.0], [3.0, 4.0]])
    m = a * 1
    p = m @ m
    m.add_(1)
    with pytest.raises(RuntimeError, match=VERSION_KEY):
        p.sum().backward()
    with pytest.raises(RuntimeError, match=VERSION_KEY):
        tg.autograd.grad(p.sum(), a, create_graph=True)


def test_unrelated_graph_unaffected_by_modification():
    a = leaf([1.0, 2.0])
    b = a.exp()
    ok = (a * a).sum()
    b.add_(1)  # only b's graph is invalid
    ok.backward()
    assert a.grad.tolist() == [2.0, 4.0]


def test_view_made_before_inplace_change_of_its_base_is_regathered():
    # PyTorch regenerates such a view; keeping the old history would be a silent wrong gradient.
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    v = y[0:2]
    y.mul_(x)  # y = 2 x^2
    (v * 3).sum().backward()
    assert x.grad.tolist() == [12.0, 24.0, 0.0]


class _SaveFor(tg.autograd.Function):
    """Saves its input, or its output when ``which == "out"``."""

    @staticmethod
    def forward(ctx, x, which):
        out = x * 2
        ctx.save_for_backward(out if which == "out" else x)
        return out

    @staticmethod
    def backward(ctx, g):
        (s,) = ctx.saved_tensors
        return g * s, None


@pytest.mark.parametrize("which, clause", [
    ("leaf", ""),  # a leaf: no "which is output" clause
    ("input", ", which is output 0 of Exp,"),  # the op that produced the input saved
    ("out", ", which is output 0 of _SaveFor,"),  # the Function's own output
])
def test_custom_function_saved_tensor_modified_names_its_producer(which, clause):
    x = leaf([1.0, 2.0])
    inp = x if which == "leaf" else x.exp()
    y = _SaveFor.apply(inp, which)
    with tg.no_grad():
        (y if which == "out" else inp).add_(1)
    message = ("one of the variables needed for gradient computation has been modified by an "
               f"inplace operation: [tapegrad.DoubleTensor [2]]{clause} is at version 1; "
               "expected version 0 instead.")
    with pytest.raises(RuntimeError) as info:
        y.sum().backward()
    assert str(info.value).startswith(message)


def test_copy_slices_node_name_as_torch():
    torch = pytest.importorskip("torch")
    names = []
    for lib in (tg, torch):
        x = lib.ones(2, 3, dtype=lib.float64, requires_grad=True)
        y = x.clone()
        y[0] = 2.0
        b = x * 1
        b.view(-1).mul_(3)
        names.append((y.grad_fn.name(), b.grad_fn.name(), type(y.grad_fn).__name__))
    assert names[0] == names[1] == ("torch::autograd::CopySlices",) * 2 + ("CopySlices",)
