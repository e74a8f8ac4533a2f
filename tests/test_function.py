"""Custom autograd Functions, as PyTorch's torch.autograd.Function."""

import gc
import re
import weakref

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd import Function, gradcheck, gradgradcheck, once_differentiable

FREED = "Trying to backward through the graph a second time"


def leaf(values, dtype=np.float64):
    return tg.tensor(np.array(values, dtype=dtype), requires_grad=True)


class MyReLU(Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 3 * x ** 2


class ScaledPair(Function):
    """Two outputs and a non-tensor argument; saves an input and an output."""

    @staticmethod
    def forward(ctx, a, k, b):
        ctx.k = k
        p = a * b * k
        ctx.save_for_backward(a, b, p)
        return p, a.sin() + b

    @staticmethod
    def backward(ctx, gp, gs):
        a, b, p = ctx.saved_tensors
        return gp * b * ctx.k + gs * a.cos(), None, gp * a * ctx.k + gs


def test_myrelu():
    x = leaf([-1.0, 2.0, -3.0])
    y = MyReLU.apply(x)
    assert repr(y) == "tensor([0., 2., 0.], grad_fn=<MyReLUBackward>)"
    assert type(y.grad_fn).__name__ == "MyReLUBackward"
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]
    x2 = leaf([-1.0, 0.0, 1.0])
    MyReLU.apply(x2).backward(tg.ones_like(x2))
    assert x2.grad.tolist() == [0.0, 1.0, 1.0]  # this MyReLU passes the gradient at 0
    assert gradcheck(MyReLU.apply, (leaf([-1.0, 2.0, -3.0, 0.5]),))


def test_myrelu_matches_torch(torch):
    class TReLU(torch.autograd.Function):
        forward = staticmethod(MyReLU.forward)
        backward = staticmethod(MyReLU.backward)

    v = np.array([-1.0, 2.0, -3.0, 0.5])
    x, tx = leaf(v), torch.tensor(v, requires_grad=True)
    (MyReLU.apply(x) * tg.tensor(v)).sum().backward()
    (TReLU.apply(tx) * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


def test_two_outputs_and_non_tensor_argument():
    a, b = leaf([0.3, -1.2]), leaf([2.0, 0.5])
    f = lambda a, b: ScaledPair.apply(a, 2.5, b)  # noqa: E731
    p, s = f(a, b)
    assert type(p.grad_fn).__name__ == type(s.grad_fn).__name__ == "ScaledPairBackward"
    assert gradcheck(f, (a, b))
    assert gradgradcheck(f, (a, b))
    # only one output used: the other gets a zero gradient
    s2 = f(a, b)[1]
    ga, gb = tg.autograd.grad(s2.sum(), (a, b))
    np.testing.assert_allclose(ga.numpy(), np.cos([0.3, -1.2]))
    assert gb.tolist() == [1.0, 1.0]


def test_cube_double_backward():
    x = leaf(2.0)
    g, = tg.autograd.grad(Cube.apply(x), x, create_graph=True)
    assert g.item() == 12.0 and g.requires_grad
    g2, = tg.autograd.grad(g, x)
    assert g2.item() == 12.0
    assert gradgradcheck(Cube.apply, (leaf([0.5, -1.2, 2.0]),))


def test_backward_grad_mode():
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            seen.append(("fwd", tg.is_grad_enabled()))
            return x * 2

        @staticmethod
        def backward(ctx, g):
            seen.append(("bwd", tg.is_grad_enabled()))
            return g * 2

    x = leaf([1.0])
    Probe.apply(x).sum().backward()
    tg.autograd.grad(Probe.apply(x).sum(), x, create_graph=True)
    assert seen == [("fwd", False), ("bwd", False), ("fwd", False), ("bwd", True)]


def test_needs_input_grad_and_kwargs():
    got = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b, c=None, scale=1.0):
            got["n"] = ctx.needs_input_grad
            ctx.scale = scale
            return a * scale

        @staticmethod
        def backward(ctx, g):
            return (g * ctx.scale,) + (None,) * (len(ctx.needs_input_grad) - 1)

    a = leaf([1.0, 2.0])
    Probe.apply(a, 3.0, "hi")
    assert got["n"] == (True, False, False)
    Probe.apply(a, tg.ones(2))
    assert got["n"] == (True, False)
    y = Probe.apply(a, 1, scale=3.0)
    y.sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]


def test_none_gradients():
    class Half(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return None, g  # None for an input that requires grad

    a, b = leaf([1.0]), leaf([2.0])
    Half.apply(a, b).sum().backward()
    assert a.grad is None and b.grad.tolist() == [1.0]

    class Extra(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2, g  # a gradient for b, which needs none: ignored

    c = tg.ones(1)
    Extra.apply(a, c).sum().backward()
    assert a.grad.tolist() == [2.0] and c.grad is None


def _fn(name, backward, nargs=1):
    def forward(ctx, *args):
        return args[0] * 2

    return type(name, (Function,), {"forward": staticmethod(forward),
                                    "backward": staticmethod(backward)})


@pytest.mark.parametrize("name,backward,args,msg", [
    ("TooMany", lambda ctx, g: (g * 2, g), 1,
     "function TooManyBackward returned an incorrect number of gradients (expected 1, got 2)"),
    ("TooFew", lambda ctx, g: g, 2,
     "function TooFewBackward returned an incorrect number of gradients (expected 2, got 1)"),
    ("WrongShape", lambda ctx, g: tg.ones(5), 1,
     "Function WrongShapeBackward returned an invalid gradient at index 0 - got [5] but "
     "expected shape compatible with [3]"),
    ("Scalar", lambda ctx, g: tg.tensor(1.0), 1,
     "Function ScalarBackward returned an invalid gradient at index 0 - got [] but expected "
     "shape compatible with [3]"),
    ("Float", lambda ctx, g: 1.0, 1, "expected Variable or None (got float)"),
    ("GradForNonTensor", lambda ctx, g: (g, None, g), 3,
     "function GradForNonTensorBackward returned a gradient different than None at position 3, "
     "but the corresponding forward input was not a Variable"),
])
def test_backward_result_errors(name, backward, args, msg):
    cls = _fn(name, backward)
    x = leaf([1.0, 2.0, 3.0])
    extra = [tg.ones(3), 7.0][: args - 1]
    for create_graph in (False, True):
        y = cls.apply(x, *extra)
        with pytest.raises(RuntimeError) as e:
            tg.autograd.grad(y.sum(), x, create_graph=create_graph)
        assert str(e.value) == msg


def test_trailing_nones_and_broadcast_gradient():
    cls = _fn("Trailing", lambda ctx, g: (g * 2, None))
    x = leaf([1.0, 2.0])
    cls.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    wide = _fn("Wide", lambda ctx, g: tg.ones(3, 2))  # summed down to the input's shape
    x2 = leaf([1.0, 2.0])
    wide.apply(x2).sum().backward()
    assert x2.grad.tolist() == [3.0, 3.0]


def test_float32_input_gets_float32_gradient():
    cls = _fn("Cast", lambda ctx, g: tg.ones(2, dtype=tg.float64))
    x = leaf([1.0, 2.0], dtype=np.float32)
    cls.apply(x).sum().backward()
    assert x.grad.dtype == np.float32


def test_no_backward():
    class NoBackward(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    y = NoBackward.apply(leaf([1.0]))
    with pytest.raises(NotImplementedError, match="You must implement either the backward or "
                                                  "vjp method"):
        y.sum().backward()


def test_save_for_backward():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a, 3)
            return a

    with pytest.raises(TypeError, match="save_for_backward can only save variables, but "
                                        "argument 1 is of type int"):
        Bad.apply(leaf([1.0]))
    got = []

    class WithNone(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a, None)
            return a * 2

        @staticmethod
        def backward(ctx, g):
            got.append(ctx.saved_tensors)
            got.append(ctx.saved_tensors)  # reading twice is fine
            return g * 2

    a = leaf([1.0])
    WithNone.apply(a).sum().backward()
    assert got[0][1] is None and got[0][0].tolist() == [1.0] and got[1][0].tolist() == [1.0]


def test_saved_tensors_freed_after_backward():
    ctxs = []

    class Keep(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            ctxs.append(ctx)
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    a = leaf([1.0])
    y = Keep.apply(a * 1)
    y.sum().backward(retain_graph=True)
    assert ctxs[0].saved_tensors[0].tolist() == [1.0]
    y.sum().backward()
    with pytest.raises(RuntimeError, match=FREED):
        ctxs[0].saved_tensors
    with pytest.raises(RuntimeError, match=FREED):
        y.sum().backward()
    # a Function that saved nothing can be swept again (like PyTorch's ops that save nothing)
    z = _fn("Nothing", lambda ctx, g: g * 2).apply(a)
    z.sum().backward()
    z.sum().backward()
    assert a.grad.tolist() == [4.0 + 4.0]


def test_saved_tensor_modified_in_place():
    a = leaf([1.0, 2.0])
    m = a * 1
    y = Cube.apply(m)
    m.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_no_grad_inputs():
    y = MyReLU.apply(tg.tensor([-1.0, 1.0]))
    assert not y.requires_grad and y.grad_fn is None
    with tg.no_grad():
        y = MyReLU.apply(leaf([-1.0, 1.0]))
    assert not y.requires_grad and y.grad_fn is None


def test_instantiation():
    with pytest.warns(DeprecationWarning, match="should not be instantiated"):
        f = MyReLU()
    with pytest.raises(RuntimeError, match="Legacy autograd function with non-static forward "
                                           "method is deprecated"):
        f(leaf([1.0]))


def test_once_differentiable():
    class Once(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            assert not tg.is_grad_enabled()
            x, = ctx.saved_tensors
            return 2 * x * g

    x = leaf(3.0)
    Once.apply(x).backward()
    assert x.grad.item() == 6.0
    assert gradcheck(Once.apply, (leaf([0.5, -2.0]),))
    y = Once.apply(x) ** 2
    g, = tg.autograd.grad(y, x, create_graph=True)
    assert g.item() == 108.0 and g.grad_fn.name() == "Error"
    with pytest.raises(RuntimeError, match="trying to differentiate twice a function that was "
                                           "marked with @once_differentiable"):
        g.backward()
    g1, = tg.autograd.grad(Once.apply(x), x, create_graph=True)
    assert not g1.requires_grad


SORT_GI = []


class SortF(Function):
    @staticmethod
    def forward(ctx, x):
        idx = np.argsort(x.detach().numpy(), kind="stable")
        ctx.idx = idx
        vals, ind = x[idx.tolist()], tg.tensor(idx.astype(np.float64))
        ctx.mark_non_differentiable(ind)
        return vals, ind

    @staticmethod
    def backward(ctx, gv, gi):
        SORT_GI.append(gi)
        g = tg.zeros(len(ctx.idx))
        g[ctx.idx.tolist()] = gv
        return g


def test_mark_non_differentiable():
    x = leaf([3.0, 1.0, 2.0])
    vals, ind = SortF.apply(x)
    assert not ind.requires_grad and ind.grad_fn is None
    assert vals.requires_grad
    (vals * tg.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [3.0, 1.0, 2.0]
    assert SORT_GI[-1].tolist() == [0.0, 0.0, 0.0]  # a zero gradient for the indices
    with pytest.raises(RuntimeError, match="does not require grad"):
        ind.sum().backward()
    assert gradcheck(lambda x: SortF.apply(x)[0], (leaf([3.0, 1.0, 2.0]),))


def test_materialize_grads():
    got = []

    def make(materialize):
        class Two(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(materialize)
                return x * 1, x * 2

            @staticmethod
            def backward(ctx, ga, gb):
                got.append(gb)
                return ga

        return Two

    x = leaf([1.0])
    make(True).apply(x)[0].sum().backward()
    assert got[-1].tolist() == [0.0]
    make(False).apply(x)[0].sum().backward()
    assert got[-1] is None


def test_mark_dirty():
    class AddOneInplace(Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    a = leaf([1.0, 2.0])
    x = a * 1
    y = AddOneInplace.apply(x)
    assert y is x and type(y.grad_fn).__name__ == "AddOneInplaceBackward"
    assert x.tolist() == [2.0, 3.0]
    (y * y).sum().backward()
    assert a.grad.tolist() == [4.0, 6.0]
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used "
                                           "in an in-place operation."):
        AddOneInplace.apply(leaf([1.0]))


def test_input_returned_unchanged():
    class Ident(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 5

    x = leaf([1.0])
    y = Ident.apply(x)
    assert y is not x and x.is_leaf and type(y.grad_fn).__name__ == "IdentBackward"
    y.sum().backward()
    assert x.grad.tolist() == [5.0]


def test_function_in_a_larger_graph_and_segments():
    x = leaf([[0.5, -1.0], [2.0, 0.3]])
    w = leaf([0.2, -0.4])

    def f(x, w):
        h = MyReLU.apply(x @ w + 0.1)
        p, s = ScaledPair.apply(h, 1.5, h * 2)
        return (p * s).sum() + Cube.apply(w).sum()

    assert gradcheck(f, (x, w))
    assert gradgradcheck(f, (x, w))


def test_ctx_does_not_keep_its_segment_alive():
    """Saved same-segment tensors are kept without a reference cycle: refcounting frees it."""
    from tapegrad import tape

    x = leaf([1.0, 2.0])
    y = Cube.apply(x * 2)
    ScaledPair.apply(y, 2.0, y)
    seg = y._seg
    tape.retire(seg)
    ref = weakref.ref(seg)
    gc.disable()
    try:
        del seg, y
        assert ref() is None
    finally:
        gc.enable()


def test_output_views_of_a_custom_function_may_not_be_modified_in_place():
    """As PyTorch: an output that is a view (or an input returned as it is) modified in place,
    or whose base is, would bypass the custom backward: an error, not a wrong gradient."""
    class First(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x[:1]

        @staticmethod
        def backward(ctx, g):
            return tg.cat([g * 5.0, tg.zeros(1)])

    class Same(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 5.0

    tail = "This view was created inside a custom Function (or because an input was returned"
    for fn, change, words in ((First, "out", "is being modified inplace"),
                              (First, "base", "its base or another view of its base has been "
                                              "modified inplace"),
                              (Same, "out", "is being modified inplace")):
        x = tg.tensor([1.0, 2.0], requires_grad=True)
        h = x * 1.0
        y = fn.apply(h)
        with pytest.raises(RuntimeError, match=f"Output 0 of {fn.__name__} is a view and "
                                               f"{words}. {re.escape(tail)}"):
            (y if change == "out" else h).mul_(2.0)
            y.sum().backward()
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    First.apply(x * 1.0).sum().backward()  # untouched: the custom backward's gradient
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 0.0])


def test_a_function_with_both_backward_and_vjp_is_refused_at_backward():
    class Both(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            return g * 2.0

        @staticmethod
        def vjp(ctx, g):
            return g * 2.0

    y = Both.apply(tg.ones(2, requires_grad=True))  # (PyTorch refuses at backward, too)
    with pytest.raises(RuntimeError, match="Implementing both 'backward' and 'vjp' for a "
                                           "custom Function is not allowed"):
        y.sum().backward()
