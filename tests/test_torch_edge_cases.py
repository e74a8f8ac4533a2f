"""Edge cases compared with PyTorch: empty reductions and indices, requires_grad switched off."""

import re

import numpy as np
import pytest

import tapegrad as tg
from tests.outcome import dtype_name, outcome


def _grads(lib, create_graph):
    out = []
    for shape, dim in [((0, 3), 0), ((0, 3), None), ((3, 0), 1), ((3, 0), 0), ((0,), 0)]:
        x = lib.ones(shape, dtype=lib.float64).requires_grad_()
        p = x.prod(dim) if dim is not None else x.prod()
        (g,) = lib.autograd.grad(p.sum(), [x], create_graph=create_graph)
        out.append(("prod", shape, dim, p.tolist(), list(p.shape), g.tolist(), list(g.shape)))
    x = lib.arange(6.0, dtype=lib.float64).reshape(2, 3).requires_grad_()
    for key in ([], (slice(None), []), ([], slice(None)), (0, [])):
        y = x[key]
        (g,) = lib.autograd.grad((y * 2).sum(), [x], create_graph=create_graph)
        out.append(("index", str(key), list(y.shape), g.tolist()))
    return out


@pytest.mark.parametrize("create_graph", [False, True])
def test_prod_over_an_empty_axis_and_empty_list_index(torch, create_graph):
    assert _grads(tg, create_graph) == _grads(torch, create_graph)


def test_empty_float_tensor_index_still_raises(torch):
    for lib in (tg, torch):
        x = lib.ones((2, 3))
        with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte "
                                             "or bool tensors"):
            x[lib.tensor([], dtype=lib.float32)]


def test_empty_list_setitem(torch):
    def run(lib):
        x = lib.ones((2, 3), dtype=lib.float64)
        x[[]] = 5.0
        return x.tolist()

    assert run(tg) == run(torch)


def _switched_off(lib, create_graph, use_property):
    w = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
    v = lib.tensor([3.0, -1.0], dtype=lib.float64, requires_grad=True)
    calls = []
    w.register_hook(lambda g: calls.append(("hook", g.tolist())))
    w.register_post_accumulate_grad_hook(
        lambda t: calls.append(("post", None if t.grad is None else t.grad.tolist())))
    y = (w * w * v).sum()
    if use_property:
        w.requires_grad = False
    else:
        w.requires_grad_(False)
    y.backward(create_graph=create_graph)
    first = (w.grad, np.asarray(v.grad.detach().numpy()).tolist(), calls)
    w.requires_grad_(True)  # switched back on: accumulates again
    z = (w * 3).sum()
    z.backward()
    return first, w.grad.tolist()


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")
@pytest.mark.parametrize("use_property", [False, True])
@pytest.mark.parametrize("create_graph", [False, True])
def test_leaf_switched_to_no_grad_before_backward_does_not_accumulate(torch, create_graph,
                                                                      use_property):
    mine = _switched_off(tg, create_graph, use_property)
    theirs = _switched_off(torch, create_graph, use_property)
    assert mine[0][0] is None and theirs[0][0] is None
    assert mine == theirs


def test_grad_wrt_a_leaf_switched_to_no_grad_raises(torch):
    for lib in (tg, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (w * w).sum()
        w.requires_grad_(False)
        with pytest.raises(RuntimeError, match="One of the differentiated Tensors does not "
                                               "require grad"):
            lib.autograd.grad(y, [w])


def _outcome(f):
    return outcome(f, lambda r: (dtype_name(r), r.tolist()))


EDGE_PROGRAMS = {
    "argmax of empty": lambda T: T.zeros(0, dtype=T.float64).argmax(),
    "argmin of empty": lambda T: T.zeros(0, dtype=T.float64).argmin(),
    "argmax over an empty dim": lambda T: T.zeros(0, 3, dtype=T.float64).argmax(dim=0),
    "argmax along a non-empty dim": lambda T: T.zeros(0, 3, dtype=T.float64).argmax(dim=1),
    "logsumexp of int64": lambda T: T.logsumexp(T.tensor([1, 2]), 0),
    "logsumexp of bool": lambda T: T.logsumexp(T.tensor([[True, False]]), 1),
    "index out of bounds": lambda T: T.zeros(3, 2, dtype=T.float64)[3],
    "negative index out of bounds": lambda T: T.zeros(3, 2, dtype=T.float64)[:, -3],
    "index list out of bounds": lambda T: T.zeros(3, 2, dtype=T.float64)[[0, 5]],
    "sign of bool": lambda T: T.sign(T.tensor([True, False])),
}


@pytest.mark.parametrize("name", sorted(EDGE_PROGRAMS))
def test_reduction_and_index_edges_match_torch(torch, name):
    f = EDGE_PROGRAMS[name]
    got, want = _outcome(lambda: f(tg)), _outcome(lambda: f(torch))
    if name.startswith("logsumexp"):  # integers give float64 here (NumPy's rule), float32 there
        assert got[0] == "float64" and want[0] == "float32"
        np.testing.assert_allclose(got[1], want[1], rtol=1e-6)
    else:
        assert got == want


def test_reduction_and_index_edges_without_torch():
    with pytest.raises(IndexError, match=r"argmax\(\): Expected reduction dim to be specified"):
        tg.zeros(0).argmax()
    with pytest.raises(IndexError, match=r"Expected reduction dim 0 to have non-zero size"):
        tg.zeros(0, 3).argmin(dim=0)
    assert tg.logsumexp(tg.tensor([1, 2]), 0).item() == pytest.approx(np.log(np.e + np.e ** 2))
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        tg.zeros(3, 2)[3]
    assert tg.sign(tg.tensor([True, False])).tolist() == [True, False]


def _py_outcome(f):
    try:
        r = f()
    except Exception as e:  # noqa: BLE001 (the error is the result compared)
        return type(e).__name__, str(e).replace("torch.", "tapegrad.")
    if isinstance(r, tuple):
        return [x.tolist() if hasattr(x, "tolist") else x for x in r]
    return r.tolist() if hasattr(r, "tolist") else r


PYTHON_PROTOCOL_PROGRAMS = {
    "in": lambda T: (3.0 in T.arange(6.0).reshape(2, 3), 7 in T.arange(6.0), 2 in T.tensor([2])),
    "in a string": lambda T: "a" in T.zeros(2),
    "== None": lambda T: (T.zeros(2) == None, T.zeros(2) != None),  # noqa: E711
    "bool of empty": lambda T: bool(T.zeros(0)),
    "bool of two": lambda T: bool(T.zeros(2)),
    "unary plus": lambda T: +T.tensor([1, -2]),
    "setitem shape mismatch": lambda T: T.zeros(2, 3).__setitem__((slice(None), 0), T.zeros(3)),
    "setitem 2-d mismatch": lambda T: T.zeros(5, 5).__setitem__(
        (slice(0, 2), slice(0, 3)), T.zeros(4, 3)),
    "expand first dim": lambda T: T.zeros(2, 3).expand(4, 3),
    "expand too few sizes": lambda T: T.zeros(2, 3, dtype=T.float64).expand(3),
    "reshape two -1": lambda T: T.zeros(2, 12).reshape(-1, -1),
    "reshape -2": lambda T: T.zeros(4).reshape(-2, 2),
    "where of a condition": lambda T: T.where(T.tensor([[1.0, 5.0], [3.0, 0.0]]) > 2),
}


@pytest.mark.parametrize("name", sorted(PYTHON_PROTOCOL_PROGRAMS))
def test_python_protocols_and_shape_errors_match_torch(torch, name):
    f = PYTHON_PROTOCOL_PROGRAMS[name]
    assert _py_outcome(lambda: f(tg)) == _py_outcome(lambda: f(torch))


def test_python_protocols_and_shape_errors_without_torch():
    x = tg.arange(6.0).reshape(2, 3)
    assert (3.0 in x, 7.0 in x) == (True, False)
    assert (x == None) is False and (x != None) is True  # noqa: E711
    assert (+x) is x
    with pytest.raises(RuntimeError, match="Tensor with no values is ambiguous"):
        bool(tg.zeros(0))
    with pytest.raises(RuntimeError, match=r"expanded size of the tensor \(4\) must match the "
                                           r"existing size \(2\) at non-singleton dimension 0"):
        tg.zeros(2, 3).expand(4, 3)
    with pytest.raises(RuntimeError, match=r"expanded size of the tensor \(2\) must match the "
                                           r"existing size \(3\) at non-singleton dimension 0"):
        x[:, 0] = tg.zeros(3)
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        x.reshape(-1, -1)
    assert [i.tolist() for i in tg.where(x > 3)] == [[1, 1], [1, 2]]


def test_randint_overloads_and_errors_match_torch(torch):
    for lib in (tg, torch):
        assert tuple(lib.randint(3, (2,)).shape) == (2,)  # randint(high, size)
        assert tuple(lib.randint(1, 3, (2, 2)).shape) == (2, 2)
        assert tuple(lib.randint(high=3, size=(4,)).shape) == (4,)
        assert str(lib.randint(5, (3,)).dtype).endswith("int64")
    for lib in (tg, torch):
        with pytest.raises(RuntimeError, match="random_ expects 'from' to be less than 'to'"):
            lib.randint(3, 1, (2,))


def test_randint_overloads_without_torch():
    x = tg.randint(3, (500,))
    assert x.shape == (500,) and x.dtype == tg.int64 and 0 <= x.min().item() <= x.max().item() < 3
    assert tg.vmap(lambda r: r + tg.randint(4, (2,)), randomness="different")(
        tg.zeros(3, 2, dtype=tg.int64)).shape == (3, 2)


def test_dtype_queries_match_torch(torch):
    for name in ("float32", "float64", "float16"):
        ours, theirs = tg.finfo(getattr(tg, name)), torch.finfo(getattr(torch, name))
        assert (ours.eps, ours.max, ours.min, ours.tiny, ours.bits, ours.resolution) == \
            (theirs.eps, theirs.max, theirs.min, theirs.tiny, theirs.bits, theirs.resolution)
        assert type(ours.eps) is float
    for name in ("int64", "int32", "int8", "uint8"):
        ours, theirs = tg.iinfo(getattr(tg, name)), torch.iinfo(getattr(torch, name))
        assert (ours.max, ours.min, ours.bits) == (theirs.max, theirs.min, theirs.bits)
    for a, b in [("float64", "float32"), ("float32", "int64"), ("int64", "bool"),
                 ("bool", "int64"), ("float64", "complex128"), ("int32", "int64")]:
        assert tg.can_cast(getattr(tg, a), getattr(tg, b)) == \
            torch.can_cast(getattr(torch, a), getattr(torch, b)), (a, b)
    for lib in (tg, torch):
        x = lib.ones(2, dtype=lib.float32)
        assert lib.is_tensor(x) and not lib.is_tensor(1.0)
        assert lib.is_floating_point(x) and not lib.is_complex(x)
        assert lib.is_nonzero(lib.tensor([2])) and not lib.is_nonzero(lib.tensor([0.0]))
        with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
            lib.is_nonzero(x)
        assert str(lib.promote_types(lib.int32, lib.int64)).endswith("int64")
        assert str(lib.result_type(lib.tensor([1]), 2)).endswith("int64")
        assert str(lib.result_type(lib.tensor([1], dtype=lib.float32), 2.0)).endswith("float32")
        assert lib.scalar_tensor(3).item() == 3.0 and lib.scalar_tensor(3).ndim == 0


AUTOGRAD_ERRORS = {
    "grad of a tensor without history": lambda T: T.autograd.grad(
        (T.tensor([1.0, 2.0]) * 2).sum(), T.tensor([1.0, 2.0])),
    "grad wrt a tensor without history": lambda T: T.autograd.grad(
        (T.tensor([1.0], requires_grad=True) * 2).sum(), T.tensor([1.0])),
    "batched grad of a tensor without history": lambda T: T.autograd.grad(
        T.tensor([1.0, 2.0]) * 2, T.tensor([1.0, 2.0]), T.eye(2), is_grads_batched=True),
    "detach_ of a view": lambda T: T.tensor([1.0, 2.0], requires_grad=True)[0].detach_(),
    "detach_ of a view without history": lambda T: T.ones(3)[:2].detach_(),
    "grad of another dtype": lambda T: setattr(
        T.tensor([1.0, 2.0], dtype=T.float64, requires_grad=True), "grad",
        T.ones(2, dtype=T.float32)),
    "grad of an integer dtype": lambda T: setattr(
        T.ones(2, dtype=T.float16), "grad", T.ones(2, dtype=T.int64)),
}


@pytest.mark.parametrize("name", sorted(AUTOGRAD_ERRORS))
def test_autograd_errors_match_torch(torch, name):
    f = AUTOGRAD_ERRORS[name]
    assert _py_outcome(lambda: f(tg)) == _py_outcome(lambda: f(torch))


def test_autograd_errors_without_torch():
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad"):
        tg.autograd.grad((tg.ones(2) * 2).sum(), tg.ones(2))
    with pytest.raises(RuntimeError, match="Can't detach views in-place"):
        tg.ones(3)[:2].detach_()
    z = tg.ones(2, requires_grad=True) * 2
    assert z.detach_() is z and not z.requires_grad  # not a view: allowed
    with pytest.raises(RuntimeError, match="with grad_dtype 'Double'"):
        tg.ones(2, dtype=tg.float64, requires_grad=True).grad = tg.ones(2, dtype=tg.float32)


def test_mode_matches_torch(torch):
    def run(lib):
        x = lib.tensor([[3.0, 1.0, 3.0, 2.0, 1.0], [5.0, 5.0, 4.0, 4.0, 6.0]], dtype=lib.float64,
                       requires_grad=True)
        m = x.mode(dim=1)
        m.values.sum().backward()
        other = lib.mode(lib.tensor([[1.0, 2.0], [1.0, 3.0]]), 0, keepdim=True)
        return (m.values.tolist(), m.indices.tolist(), x.grad.tolist(),
                lib.tensor([2.0, 2.0, 1.0]).mode().indices.item(), other.values.tolist(),
                other.indices.tolist(), lib.tensor([1, 1, 2]).mode().values.item(),
                lib.tensor(3.0).mode().indices.item())

    assert run(tg) == run(torch)


def test_mode_without_torch():
    m = tg.tensor([3.0, 1.0, 3.0, 2.0, 1.0]).mode()
    assert (m.values.item(), m.indices.item()) == (1.0, 4)  # smallest mode, last occurrence
    assert tg.tensor([[1, 2, 2], [7, 7, 0]]).mode().values.tolist() == [2, 7]


@pytest.mark.parametrize("shapes", [((4, 3), (3, 4)), ((2, 3, 4), (5, 3, 1)), ((2, 1), (3, 4, 5))])
def test_broadcast_error_names_the_last_mismatching_dim(torch, shapes):
    def error(lib):
        with pytest.raises(RuntimeError) as info:
            lib.zeros(shapes[0]) + lib.zeros(shapes[1])
        return str(info.value)

    assert error(tg) == error(torch)
    assert "at non-singleton dimension" in error(tg)


@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 4), (2, 0, 3)])
def test_index_put_into_a_tensor_of_no_elements(shape, accumulate):
    x = tg.zeros(shape, requires_grad=True)
    v = tg.ones((0,) + shape[1:], requires_grad=True)
    y = x.index_put((tg.zeros(0, dtype=tg.int64),), v, accumulate=accumulate)
    assert y.shape == shape
    gx, gv = tg.autograd.grad(y.sum(), [x, v])
    assert gx.shape == shape and gv.shape == v.shape


@pytest.mark.parametrize("shape", [(3, 0), (0, 4)])
def test_index_put_into_a_tensor_of_no_elements_matches_torch(torch, shape):
    for lib in (tg, torch):
        x = lib.zeros(shape)
        y = x.index_put((lib.zeros(0, dtype=lib.int64),), lib.ones((0,) + shape[1:]))
        assert tuple(y.shape) == shape
        with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with "
                                             "size 3"):
            lib.zeros(3, 2).index_put((lib.ones(1, dtype=lib.int64) * 5,), lib.ones(1, 2))


# ops along a dim of a 0-d tensor: dims 0 and -1 work, any other raises PyTorch's IndexError
_ZERO_D_DIM_OPS = [
    ("softmax", lambda L, x, d: L.softmax(x, d), "Dimension out of range"),
    ("normalize", lambda L, x, d: L.nn.functional.normalize(x, dim=d), "Dimension out of range"),
    ("std", lambda L, x, d: x.std(d, correction=0), "Dimension out of range"),
    ("var", lambda L, x, d: L.var(x, (d,), correction=0), "Dimension out of range"),
    ("sort", lambda L, x, d: x.sort(d).values, "Dimension out of range"),
    ("argsort", lambda L, x, d: x.argsort(d), "Dimension out of range"),
    ("logcumsumexp", lambda L, x, d: x.logcumsumexp(d), "Dimension out of range"),
    ("cummax", lambda L, x, d: L.cummax(x, d).values,
     "cummax(): Expected reduction dim -1 or 0 for scalar but got 1"),
]


@pytest.mark.parametrize("name,f,message", _ZERO_D_DIM_OPS)
def test_zero_d_tensor_ops_check_their_dim(name, f, message):
    x = tg.from_numpy(np.array(0.25)).requires_grad_()
    for d in (0, -1):
        assert f(tg, x, d).shape == ()
    with pytest.raises(IndexError, match=re.escape(message)):
        f(tg, x, 1)


@pytest.mark.parametrize("name,f,message", _ZERO_D_DIM_OPS)
def test_zero_d_tensor_ops_check_their_dim_like_torch(torch, name, f, message):
    for lib in (tg, torch):
        x = lib.tensor(0.25, dtype=lib.float64)
        np.testing.assert_allclose(f(lib, x, -1).numpy(), f(torch, torch.tensor(0.25,
                                   dtype=torch.float64), -1).numpy())
        with pytest.raises(IndexError, match=re.escape(message)):
            f(lib, x, 1)


def _roll_zero_d(lib):
    x = lib.tensor(1.5, requires_grad=True)
    y = x.roll(1)
    assert y.item() == 1.5
    (g,) = lib.autograd.grad(y * 2, x)
    assert g.item() == 2.0
    for d in (0, -1):
        with pytest.raises(IndexError, match=f"Dimension specified as {d} but tensor has "
                                             "no dimensions"):
            x.roll(1, d)


def test_roll_of_a_zero_d_tensor_along_a_dim_raises():
    _roll_zero_d(tg)


def test_roll_of_a_zero_d_tensor_along_a_dim_raises_as_torch(torch):
    _roll_zero_d(torch)


# ops that need a dim refuse a 0-d tensor in PyTorch's words (an IndexError from a tuple, or
# matmul's error); outer takes 1-D vectors only
_NEEDS_A_DIM = [
    ("select", lambda L, x: x.select(0, 0), IndexError, "select() cannot be applied to a 0-dim "
                                                        "tensor."),
    ("narrow", lambda L, x: x.narrow(0, 0, 1), RuntimeError, "narrow() cannot be applied to a "
                                                             "0-dim tensor."),
    ("tensor_split", lambda L, x: L.tensor_split(x, 2), RuntimeError,
     "tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims"),
    ("outer_vec2", lambda L, x: L.outer(L.ones(2), x), RuntimeError,
     "outer: Expected 1-D argument vec2, but got 0-D"),
    ("outer_self_2d", lambda L, x: L.outer(L.ones(2, 2), L.ones(2)), RuntimeError,
     "outer: Expected 1-D argument self, but got 2-D"),
]


@pytest.mark.parametrize("name,f,error,message", _NEEDS_A_DIM)
def test_ops_that_need_a_dim_refuse_a_zero_d_tensor(name, f, error, message):
    with pytest.raises(error, match=re.escape(message)):
        f(tg, tg.tensor(1.5))


@pytest.mark.parametrize("name,f,error,message", _NEEDS_A_DIM)
def test_ops_that_need_a_dim_refuse_a_zero_d_tensor_as_torch(torch, name, f, error, message):
    with pytest.raises(error, match=re.escape(message)):
        f(torch, torch.tensor(1.5))


@pytest.mark.parametrize("shape,dim", [((4,), 0), ((0,), -1), ((), 0)])
def test_renorm_needs_two_dims(shape, dim):
    with pytest.raises(RuntimeError, match=re.escape(
            f"renorm: input needs at least 2 dimensions, got {len(shape)} dimensions")):
        tg.renorm(tg.ones(shape), 2, dim, 1.0)
    y = tg.renorm(tg.ones(3, 4) * 2, 2, 0, 1.0)  # rows of norm 4 scaled to about 1
    np.testing.assert_allclose(y.norm(dim=1).numpy(), 1.0, rtol=1e-6)


def test_renorm_needs_two_dims_as_torch(torch):
    for lib in (tg, torch):
        with pytest.raises(RuntimeError, match=re.escape(
                "renorm: input needs at least 2 dimensions, got 1 dimensions")):
            lib.renorm(lib.ones(4), 2, 0, 1.0)


_PAD_EMPTY = [((1, 0), (1, 1), "reflect"), ((3, 0), (1, 1), "replicate"),
              ((2, 0, 4, 4), (1, 1, 1, 1), "reflect"), ((1, 2, 0, 4), (1, 1, 1, 1), "replicate"),
              ((1, 2, 0, 3, 3), (1, 1, 1, 1, 1, 1), "reflect")]


@pytest.mark.parametrize("shape,amounts,mode", _PAD_EMPTY)
def test_reflect_and_replicate_pad_refuse_empty_dims_but_the_batch(shape, amounts, mode):
    n = len(amounts) // 2
    with pytest.raises(RuntimeError, match=re.escape(
            f"Expected {n + 1}D or {n + 2}D (batch mode) tensor with possibly 0 batch size and "
            f"other non-zero dimensions for input, but got: {list(shape)}")):
        tg.nn.functional.pad(tg.zeros(shape), amounts, mode=mode)
    batch = tg.zeros((0,) + (2,) * (n + 1), requires_grad=True)
    y = tg.nn.functional.pad(batch, amounts, mode=mode)
    assert y.shape == (0, 2) + (4,) * n


@pytest.mark.parametrize("shape,amounts,mode", _PAD_EMPTY)
def test_reflect_and_replicate_pad_refuse_empty_dims_as_torch(torch, shape, amounts, mode):
    with pytest.raises(RuntimeError, match="other non-zero dimensions for input, but got: " +
                       re.escape(str(list(shape)))):
        torch.nn.functional.pad(torch.zeros(shape), amounts, mode=mode)
    assert tuple(torch.nn.functional.pad(torch.zeros((0,) + (2,) * (len(amounts) // 2 + 1)),
                                         amounts, mode=mode).shape)[0] == 0


@pytest.mark.parametrize("shape,key,dim", [((3, 4), (0, 0, 0), 2), ((), ([0],), 0),
                                           ((2, 0, 3), (0, 0, 0, 0), 3)])
def test_too_many_indices_in_pytorchs_words(shape, key, dim):
    with pytest.raises(IndexError, match=f"^too many indices for tensor of dimension {dim}$"):
        tg.zeros(shape)[key]


def test_too_many_indices_in_pytorchs_words_as_torch(torch):
    for lib in (tg, torch):
        with pytest.raises(IndexError, match="^too many indices for tensor of dimension 2$"):
            lib.zeros(3, 4)[0, 0, 0]
        with pytest.raises(IndexError, match="^too many indices for tensor of dimension 0$"):
            lib.tensor(1.5)[lib.tensor(0)]


_LINEAR_AND_UNBIND = [
    ("linear_0d_weight", lambda L: L.nn.functional.linear(L.ones(3), L.tensor(2.0)), RuntimeError,
     "both arguments to linear need to be at least 1D, but they are 1D and 0D"),
    ("linear_0d_input", lambda L: L.nn.functional.linear(L.tensor(2.0), L.ones(3)), RuntimeError,
     "both arguments to linear need to be at least 1D, but they are 0D and 1D"),
    ("linear_3d_weight", lambda L: L.nn.functional.linear(L.ones(3), L.ones(2, 2, 3)),
     RuntimeError, "t() expects a tensor with <= 2 dimensions, but self is 3D"),
    ("unbind_0d_dim_1", lambda L: L.tensor(1.5).unbind(1), IndexError,
     "Dimension out of range (expected to be in range of [-1, 0], but got 1)"),
    ("unbind_0d", lambda L: L.tensor(1.5).unbind(-1), IndexError,
     "Dimension specified as 0 but tensor has no dimensions"),
]


@pytest.mark.parametrize("name,f,error,message", _LINEAR_AND_UNBIND)
def test_linear_and_unbind_refusals(name, f, error, message):
    with pytest.raises(error, match=re.escape(message)):
        f(tg)
    assert tg.nn.functional.linear(tg.ones(2, 3), tg.ones(3)).shape == (2,)


@pytest.mark.parametrize("name,f,error,message", _LINEAR_AND_UNBIND)
def test_linear_and_unbind_refusals_as_torch(torch, name, f, error, message):
    with pytest.raises(error, match=re.escape(message)):
        f(torch)


_TRAPEZOID_0D = [
    (lambda L, y: L.trapezoid(y), "Dimension specified as -1 but tensor has no dimensions"),
    (lambda L, y: L.trapezoid(y, dim=1), "Dimension specified as 1 but tensor has no dimensions"),
    (lambda L, y: L.cumulative_trapezoid(y), "slice() cannot be applied to a 0-dim tensor."),
]


@pytest.mark.parametrize("f,message", _TRAPEZOID_0D)
def test_trapezoid_of_a_zero_d_tensor(f, message):
    with pytest.raises(IndexError, match=re.escape(message)):
        f(tg, tg.tensor(1.5))
    assert tg.trapezoid(tg.tensor([1.0, 3.0])).item() == 2.0


@pytest.mark.parametrize("f,message", _TRAPEZOID_0D)
def test_trapezoid_of_a_zero_d_tensor_as_torch(torch, f, message):
    with pytest.raises(IndexError, match=re.escape(message)):
        f(torch, torch.tensor(1.5))


_INDEX_ERRORS = [
    ((), lambda L: 0, "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                      "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number"),
    ((), lambda L: slice(0, 1), "slice() cannot be applied to a 0-dim tensor."),
    ((3, 4), lambda L: L.ones(4, dtype=L.bool), "The shape of the mask [4] at index 0 does not "
                                                "match the shape of the indexed tensor [3, 4] "
                                                "at index 0"),
    ((3, 4), lambda L: (0, L.ones(5, dtype=L.bool)), "The shape of the mask [5] at index 0 does "
                                                     "not match the shape of the indexed tensor "
                                                     "[4] at index 0"),
    ((2, 3, 4), lambda L: (Ellipsis, L.ones(3, dtype=L.bool)),
     "The shape of the mask [3] at index 0 does not match the shape of the indexed tensor "
     "[2, 3, 4] at index 2"),
    ((2, 3, 4), lambda L: (None, L.ones(3, dtype=L.bool)),
     "The shape of the mask [3] at index 0 does not match the shape of the indexed tensor "
     "[1, 2, 3, 4] at index 1"),
    ((2, 0, 3), lambda L: (slice(None), L.ones((1, 3), dtype=L.bool)),
     "The shape of the mask [1, 3] at index 0 does not match the shape of the indexed tensor "
     "[2, 0, 3] at index 1"),
]


@pytest.mark.parametrize("shape,key,message", _INDEX_ERRORS)
def test_index_errors_in_pytorchs_words(shape, key, message):
    with pytest.raises(IndexError, match=f"^{re.escape(message)}$"):
        tg.zeros(shape, requires_grad=True)[key(tg)]


@pytest.mark.parametrize("shape,key,message", _INDEX_ERRORS)
def test_index_errors_in_pytorchs_words_as_torch(torch, shape, key, message):
    with pytest.raises(IndexError, match=f"^{re.escape(message)}$"):
        torch.zeros(shape)[key(torch)]
