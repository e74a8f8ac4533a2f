"""tg.func's errors word for word as torch.func's: vmap's argument checks, pytree structures in
mismatch messages, None outputs of a vmapped function, backward() inside a transform."""
import functools

import numpy as np
import pytest

import tapegrad as tg
from tests.doubling_function import doubling_function


def _message(lib, f):
    with pytest.raises(Exception) as info:
        f(lib)
    return type(info.value), str(info.value)


def _x(lib, *shape):
    return lib.tensor(np.arange(float(np.prod(shape))).reshape(shape))


VMAP_MISUSES = {
    "in_dims_oob": lambda L: L.func.vmap(lambda a: a, in_dims=2)(_x(L, 4, 3)),
    "in_dims_float": lambda L: L.func.vmap(lambda a: a, in_dims=0.5)(_x(L, 4, 3)),
    "in_dims_none": lambda L: L.func.vmap(lambda a: a, in_dims=None)(_x(L, 4, 3)),
    "in_dims_all_none": lambda L: L.func.vmap(lambda a, b: a + b, in_dims=(None, None))(
        _x(L, 4, 3), _x(L, 4, 3)),
    "in_dims_short": lambda L: L.func.vmap(lambda a, b: a + b, in_dims=(0,))(
        _x(L, 4, 3), _x(L, 4, 3)),
    "in_dims_nested": lambda L: L.func.vmap(lambda a, b: a + b[0], in_dims=(0, (1, 0)))(
        _x(L, 4, 3), (_x(L, 3, 4),)),
    "in_dim_of_number": lambda L: L.func.vmap(lambda a, b: a * b, in_dims=(0, 0))(
        _x(L, 4, 3), 2.0),
    "scalar_input": lambda L: L.func.vmap(lambda a: a)(L.tensor(3.0)),
    "partial_named": lambda L: L.func.vmap(functools.partial(lambda a, b: a + b, b=1),
                                           in_dims=2)(_x(L, 4, 3)),
    "batch_sizes_differ": lambda L: L.func.vmap(lambda a, b, c: a + b + c)(
        _x(L, 4, 3), _x(L, 4, 3), _x(L, 5, 3)),
    "no_inputs": lambda L: L.func.vmap(lambda: 1)(),
    "none_output": lambda L: L.func.vmap(lambda a: None)(_x(L, 4, 3)),
    "none_in_outputs": lambda L: L.func.vmap(lambda a: (a, None))(_x(L, 4, 3)),
    "batched_out_dim_none": lambda L: L.func.vmap(lambda a: a * 2, out_dims=None)(_x(L, 4, 3)),
    "out_dims_too_long": lambda L: L.func.vmap(lambda a: (a, a), out_dims=(0, 0, 0))(
        _x(L, 4, 3)),
    "out_dims_float": lambda L: L.func.vmap(lambda a: a, out_dims=1.0)(_x(L, 4, 3)),
    "vjp_cotangent_structure": lambda L: L.func.vjp(lambda x: (x.tanh(), x), _x(L, 3))[1](
        _x(L, 3)),
    "jvp_tangent_structure": lambda L: L.func.jvp(lambda d: d["a"] * 2, ({"a": _x(L, 3)},),
                                                  ({"b": _x(L, 3)},)),
}


@pytest.mark.parametrize("case", sorted(VMAP_MISUSES))
def test_transform_misuse_raises_torch_func_error(case):
    torch = pytest.importorskip("torch")
    want = _message(torch, VMAP_MISUSES[case])
    assert _message(tg, VMAP_MISUSES[case]) == want


def test_vmap_of_a_function_returning_none_is_an_error_not_a_crash():
    # (it ran into an unbound local: None was taken for "ran per example")
    with pytest.raises(ValueError, match="must only return Tensors, got type <class 'NoneType'>"):
        tg.func.vmap(lambda a: None)(tg.ones(4, 3))


def test_vmap_none_output_with_out_dim_none_passes_through():
    x = tg.tensor(np.arange(12.0).reshape(4, 3))
    a, b, c = tg.func.vmap(lambda a: (a * 2, None, 3.0), out_dims=(1, None, None))(x)
    np.testing.assert_array_equal(a.numpy(), 2 * np.arange(12.0).reshape(4, 3).T)
    assert b is None and c == 3.0


def test_vmap_one_tensor_output_takes_a_one_tuple_out_dims():
    x = tg.tensor(np.arange(12.0).reshape(4, 3))
    out = tg.func.vmap(lambda a: a * 2, out_dims=(1,))(x)
    np.testing.assert_array_equal(out.numpy(), 2 * np.arange(12.0).reshape(4, 3).T)


def test_treespec_repr_is_torch_pytree_repr():
    _pytree = pytest.importorskip("torch.utils._pytree")

    tree = (1, [2, {"a": 3, "b": (4,)}], [])
    assert repr(tg.func.tree_flatten(tree)[1]) == repr(_pytree.tree_flatten(tree)[1])


IN_TRANSFORM = r"backward\(\) called inside a functorch transform"


def _backward_inside(transform):
    w = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)

    def f(a):
        (w * w).sum().backward()  # a leaf outside the transform, not batched
        return (a * 2).sum()

    x = tg.tensor([[0.5, 1.0, 1.5], [2.0, 2.5, 3.0]])
    return w, lambda: transform(f)(x[0] if transform is not tg.func.vmap else x)


@pytest.mark.parametrize("transform", [tg.func.vmap, tg.func.grad, tg.func.jacrev,
                                       tg.func.jacfwd, tg.func.hessian])
def test_backward_inside_a_transform_raises_and_accumulates_nothing(transform):
    # it ran: w.grad took 2w while vmap / grad ran (torch.func raises)
    w, call = _backward_inside(transform)
    with pytest.raises(RuntimeError, match=IN_TRANSFORM):
        call()
    assert w.grad is None


def test_autograd_backward_inside_vjp_raises():
    x = tg.tensor([1.0, 2.0], requires_grad=True)

    def f(a):
        tg.autograd.backward([(x * a).sum()])
        return a
    with pytest.raises(RuntimeError, match=IN_TRANSFORM):
        tg.func.vjp(f, tg.tensor([3.0, 4.0]))
    # and the same call outside a transform still accumulates
    tg.autograd.backward([(x * 3).sum()])
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_backward_inside_vmap_message_is_torch_func_s():
    torch = pytest.importorskip("torch")

    def f(lib):
        def g(a):
            (a ** 2).sum().backward()
            return a
        return lib.func.vmap(g)(lib.ones(4, 3, requires_grad=True))
    assert _message(tg, f) == _message(torch, f)


WRITES = ["mul_", "copy_", "clamp_min_", "index_add_", "setitem", "iadd", "masked_fill_",
          "masked_fill_value", "index_fill_", "index_put_", "eq_", "lt_", "ne_", "ge_",
          "setitem_index", "pow_", "addcmul_", "fill_", "scatter_"]


def _write(lib, write, y, a):
    if write == "setitem":
        y[0] = a[0]
    elif write == "setitem_index":
        y[(a[:1] % 3).long()] = 1.0
    elif write == "iadd":
        nonlocal_y = y
        nonlocal_y += a
    elif write == "index_add_":
        y.index_add_(0, lib.tensor([0, 1, 2]), a)
    elif write.startswith("masked_fill"):  # (a batched mask; or value too)
        y.masked_fill_(a > 4, a[0] if write == "masked_fill_value" else 1.0)
    elif write in ("index_fill_", "index_put_"):  # (a batched index)
        i = (a[:1] % 3).long()
        y.index_fill_(0, i, 1.0) if write == "index_fill_" else y.index_put_((i,), a[1])
    elif write == "addcmul_":
        y.addcmul_(a, a)
    elif write == "fill_":
        y.fill_(a[0])
    elif write == "scatter_":
        y.scatter_(0, lib.tensor([0, 1]), a[:2])
    else:
        getattr(y, write)(a)
    return y * 1


@pytest.mark.parametrize("write", WRITES)
def test_inplace_into_a_captured_tensor_with_a_batched_operand_raises(write):
    # it ran once per example, each example writing into the one tensor: y came back as the
    # sum of the examples (add_), the last one (copy_), ... for every example. PyTorch's words
    # name the op as its batching rules do ('inplace arithmetic', 'aten::pow_', 'fill_', or
    # add_'s broadcast); its last sentence (report a bug in PyTorch) is left out.
    torch = pytest.importorskip("torch")
    messages = []
    for lib in (tg, torch):
        y = lib.zeros(3, dtype=lib.float64)
        with pytest.raises(RuntimeError) as e:
            lib.func.vmap(lambda a: _write(lib, write, y, a))(
                lib.tensor(np.arange(12.0).reshape(4, 3)))
        np.testing.assert_array_equal(y.numpy(), np.zeros(3))
        messages.append(str(e.value).split(" If said operator is being called")[0])
    assert messages[0] == messages[1]


def test_inplace_with_unbatched_operands_or_into_a_batched_tensor_still_batches():
    w = tg.tensor([1.0, 2.0, 3.0])
    x = np.arange(12.0).reshape(4, 3)

    def f(a):
        y = tg.zeros(3)
        y.add_(w)  # nothing batched: an ordinary in-place op
        b = a * 1
        b.mul_(w)  # into a batched tensor
        b[0] = w[1]
        return b + y

    out = tg.func.vmap(f)(tg.tensor(x))
    want = x * [1.0, 2.0, 3.0] + [1.0, 2.0, 3.0]
    want[:, 0] = 2.0 + 1.0
    np.testing.assert_allclose(out.numpy(), want)


def test_inplace_into_unbatched_message_is_torch_func_s():
    torch = pytest.importorskip("torch")

    def f(lib):
        def g(a):
            y = lib.zeros(3)
            y.mul_(a)
            return y
        return lib.func.vmap(g)(lib.ones(4, 3))
    assert _message(tg, f) == (RuntimeError, _message(torch, f)[1].split(" If said")[0])


_DYNAMIC_SHAPE = {
    "nonzero": lambda L, a: a.nonzero(),
    "nonzero_as_tuple": lambda L, a: L.nonzero(a, as_tuple=True),
    "unique": lambda L, a: L.unique(a),
    "unique_method": lambda L, a: a.unique(),
    "unique_dim": lambda L, a: L.unique(a, dim=0),
    "unique_consecutive": lambda L, a: L.unique_consecutive(a),
    "where_one_argument": lambda L, a: L.where(a > 0),
    "masked_select_batched_mask": lambda L, a: a.masked_select(a > 0),
    "boolean_mask_index": lambda L, a: a[a > 0],
}


@pytest.mark.parametrize("case", sorted(_DYNAMIC_SHAPE))
def test_vmap_of_an_op_with_a_value_dependent_shape_raises(case):
    # they ran once per example: stacked when the shapes happened to agree (all of x's values
    # are non-zero below), "stack expects each tensor to be equal size" otherwise
    x = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    with pytest.raises(RuntimeError, match="vmap: .*dynamic shape|vmap: Attempted to vmap over "
                                           "`mask`|Batching rule not implemented"):
        tg.func.vmap(lambda a: _DYNAMIC_SHAPE[case](tg, a))(x)


@pytest.mark.parametrize("case", sorted(_DYNAMIC_SHAPE))
def test_value_dependent_shape_messages_are_torch_func_s(case):
    torch = pytest.importorskip("torch")

    def f(lib):
        return lib.func.vmap(lambda a: _DYNAMIC_SHAPE[case](lib, a))(
            lib.tensor([[1.0, -2.0, 3.0], [4.0, 5.0, 6.0]]))
    kind, text = _message(torch, f)
    assert _message(tg, f) == (kind, text.split(" Please file an issue")[0])


def test_a_mask_or_nonzero_the_examples_share_still_batches():
    x = np.arange(12.0).reshape(4, 3)
    m = tg.tensor([True, False, True])
    out = tg.func.vmap(lambda a: (a[m], a.masked_select(m), a[m.nonzero().squeeze(1)],
                                  tg.count_nonzero(a)))(tg.tensor(x))
    np.testing.assert_array_equal(out[0].numpy(), x[:, [0, 2]])
    np.testing.assert_array_equal(out[1].numpy(), x[:, [0, 2]])
    np.testing.assert_array_equal(out[2].numpy(), x[:, [0, 2]])
    np.testing.assert_array_equal(out[3].numpy(), (x != 0).sum(1))


NOT_TENSORS = {
    "functional_call_list_of_tensors": lambda L: L.func.functional_call(
        L.nn.Linear(2, 2), [L.ones(2, 2)], (L.ones(2),)),
    "grad_of_a_string": lambda L: L.func.grad(lambda x: x)("a"),
    "vjp_of_a_string": lambda L: L.func.vjp(lambda x: x, "a"),
    "jacrev_of_an_object": lambda L: L.func.jacrev(lambda x: x)(object()),
    "grad_list_holding_a_string": lambda L: L.func.grad(lambda x: x[0].sum())([L.ones(2), "s"]),
    "jvp_string_tangent": lambda L: L.func.jvp(lambda x: x, (L.ones(2),), ("b",)),
    "jvp_string_primal": lambda L: L.func.jvp(lambda x: x, ("a",), (L.ones(2),)),
}


@pytest.mark.parametrize("case", sorted(NOT_TENSORS))
def test_arguments_that_are_not_tensors_get_torch_func_s_error(case):
    # (they failed inside NumPy: "could not convert string to float", "split expects at least
    # a 1-dimensional tensor")
    torch = pytest.importorskip("torch")
    assert _message(tg, NOT_TENSORS[case]) == _message(torch, NOT_TENSORS[case])


def test_functional_call_refuses_a_sequence_of_non_dicts_without_torch():
    with pytest.raises(ValueError, match="Expected all elements of parameter_and_buffer_dicts "
                                         "to be dictionaries"):
        tg.func.functional_call(tg.nn.Linear(2, 2), [tg.ones(2, 2)], (tg.ones(2),))
    with pytest.raises(ValueError, match="Thing passed to transform API must be Tensor"):
        tg.func.grad(lambda x: x)("a")


def test_numbers_still_stand_for_tensors_in_transforms():
    assert tg.func.grad(lambda a: a ** 3)(2.0) == 12.0
    out, t = tg.func.jvp(lambda x: x * 2, (tg.ones(2),), (np.ones(2),))
    np.testing.assert_array_equal(t.numpy(), [2.0, 2.0])


def _function_with_vmap_returning(lib, out_dims):
    return doubling_function(lib, vmap=lambda info, in_dims, x: ((x * 2, x), out_dims))


def test_function_vmap_staticmethod_with_too_few_out_dims_raises_torch_s_error():
    Twice = _function_with_vmap_returning(tg, (0,))
    with pytest.raises(RuntimeError, match=r"returned an incompatible \(output, out_dims\) "
                                           r"tuple. Expected out_dims=\(0,\)"):
        tg.func.vmap(Twice.apply)(tg.ones(4, 3))
    torch = pytest.importorskip("torch")

    def f(lib):
        return lib.func.vmap(_function_with_vmap_returning(lib, (0,)).apply)(lib.ones(4, 3))
    kind, text = _message(torch, f)
    assert _message(tg, f) == (kind, text.split(" For more details")[0])


@pytest.mark.parametrize("select", ["index", "masked_select", "masked_select_function"])
def test_a_shared_tensor_selected_by_a_batched_mask_raises(select):
    # (a tensor vmap does not map over, read through a per-example mask: it ran once per
    # example and failed in stack, or stacked when the counts happened to agree)
    w = tg.tensor([1.0, 2.0, 3.0])

    def f(a):
        m = a > 0
        if select == "index":
            return w[m]
        return w.masked_select(m) if select == "masked_select" else tg.masked_select(w, m)

    with pytest.raises(RuntimeError, match="boolean mask|vmap over `mask`"):
        tg.func.vmap(f)(tg.tensor([[1.0, -1.0, 1.0], [1.0, 1.0, -1.0]]))
    with pytest.raises(RuntimeError, match="boolean mask|vmap over `mask`"):
        tg.func.vmap(f)(tg.tensor([[1.0, -1.0, 1.0], [1.0, 1.0, 1.0]]))


def test_vjp_none_cotangent_is_autograds_default():
    # (it was a pytree-structure error: None is an empty node in tapegrad's pytrees)
    x = tg.tensor([1.0, 2.0, 3.0])
    _, fn = tg.func.vjp(lambda x: (x * 2, (x ** 2).sum()), x)
    (g,) = fn((tg.ones(3), None))  # None for a scalar output: a seed of one
    np.testing.assert_allclose(g.numpy(), 2.0 + 2.0 * np.array([1.0, 2.0, 3.0]))
    _, fn = tg.func.vjp(lambda x: {"a": x * 2, "b": x * 3}, x)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        fn({"a": tg.ones(3), "b": None})


def test_vjp_none_cotangent_matches_torch():
    torch = pytest.importorskip("torch")

    def f(lib):
        _, fn = lib.func.vjp(lambda x: (x.sin(), x.prod()),
                             lib.tensor([0.5, 1.5, 2.0], dtype=lib.float64))
        return fn((lib.tensor([1.0, -1.0, 2.0], dtype=lib.float64), None))[0].numpy()
    np.testing.assert_allclose(f(tg), f(torch), rtol=1e-12)

    def g(lib):
        _, fn = lib.func.vjp(lambda x: (x * 2, x.sum()), lib.ones(3))
        return fn((None,))
    assert _message(tg, g) == _message(torch, g)


@pytest.mark.parametrize("write", ["masked_fill_", "index_fill_", "index_put_", "eq_", "lt_"])
def test_inplace_writes_with_a_batched_operand_as_torch(write):
    """Into a captured tensor: PyTorch refuses them too (its op names and the message's last
    sentences vary by op); into a batched tensor they batch, with PyTorch's values."""
    torch = pytest.importorskip("torch")
    x = np.arange(12.0).reshape(4, 3)

    def write_into(lib, y, a):
        i = (a[:1] % 3).long()
        if write == "masked_fill_":
            return y.masked_fill_(a > 4, a[0])
        if write == "index_fill_":
            return y.index_fill_(0, i, 7.0)
        if write == "index_put_":
            return y.index_put_((i,), a[1])
        return getattr(y, write)(a.flip(0))

    def captured(lib):
        y = lib.zeros(3, dtype=lib.float64)
        lib.func.vmap(lambda a: write_into(lib, y, a) * 1)(lib.tensor(x))

    def tail(lib):
        with pytest.raises(RuntimeError) as e:
            captured(lib)
        return str(e.value).split("(self, *extra_args)")[1].split("`self`.")[0]
    assert tail(tg) == tail(torch)  # (' is not possible because ... more elements than ')

    def batched(lib):
        return lib.func.vmap(lambda a: write_into(lib, a * 2, a))(lib.tensor(x)).numpy()
    np.testing.assert_array_equal(batched(tg), batched(torch))


NESTED_WRITES = {
    "mul_": lambda c, a: c.mul_(a), "pow_": lambda c, a: c.pow_(a),
    "iadd of an unbatched value": lambda c, a: c.__iadd__(2.0),
    "setitem": lambda c, a: c.__setitem__(0, a[0]),
    "setitem all": lambda c, a: c.__setitem__(slice(None), a),
    "masked_fill_": lambda c, a: c.masked_fill_(a > 3, 0.0),
    "masked_fill_ of a value": lambda c, a: c.masked_fill_(a > 3, a[0]),
    "copy_": lambda c, a: c.copy_(a), "fill_": lambda c, a: c.fill_(a[0]),
}


@pytest.mark.parametrize("write", list(NESTED_WRITES))
def test_inner_vmap_writing_into_an_outer_vmaps_tensor_as_torch(write):
    """An inner vmap's batched operand written into a tensor batched only by the outer vmap:
    it wrote each inner example in turn into it (c.mul_(a): b * b * (b + 1)), where PyTorch
    refuses it; an unbatched operand still writes."""
    torch = pytest.importorskip("torch")
    got = []
    for lib in (tg, torch):
        def outer(b):
            c = b * 1
            lib.func.vmap(lambda a: NESTED_WRITES[write](c, a))(lib.stack([b, b + 1]))
            return c
        try:
            got.append(lib.func.vmap(outer)(lib.arange(1, 7.0, dtype=lib.float64)
                                           .reshape(3, 2)).tolist())
        except RuntimeError as e:
            got.append(str(e).split(" If said operator is being called")[0])
    assert got[0] == got[1]
