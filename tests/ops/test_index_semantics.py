"""Indexing keys read as PyTorch reads them where NumPy differs: integers among index arrays
select first (``a[1, :, idx]`` is (3, 2), NumPy's (2, 3)), a short list holding sequences is a
tuple of indices, a uint8 tensor is a mask, int8/int16 index tensors are refused. Values,
gradients and assignments, against PyTorch where it is installed, and under tg.compile."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

BASE = np.arange(24.0).reshape(2, 3, 4)
_ = slice(None)
I03, I01 = np.array([0, 3]), np.array([0, 1])
# (key maker for a library, PyTorch's reading in NumPy: the integers' basic key, then the rest)
KEYS = [
    (lambda L: (1, _, L.tensor([0, 3])), (1,), (_, I03)),
    (lambda L: (L.tensor(1), _, L.tensor([0, 3])), (1,), (_, I03)),
    (lambda L: (np.int64(1), _, [0, 3]), (1,), (_, I03)),
    (lambda L: (None, 1, _, L.tensor([0, 3])), (1,), (None, _, I03)),
    (lambda L: (1, None, _, L.tensor([0, 3])), (1,), (None, _, I03)),
    (lambda L: (1, Ellipsis, L.tensor([0, 3])), (1,), (Ellipsis, I03)),
    (lambda L: (1, _, L.tensor([[0, 1]])), (1,), (_, I01[None])),
    (lambda L: (1, L.tensor([[0, 1]]), _), (1,), (I01[None], _)),
    (lambda L: (L.tensor([True, False]), _, 1), (_, _, 1), (np.array([True, False]),)),
    (lambda L: (L.tensor([0, 1]), 1, L.tensor([0, 3])), (_, 1), (I01, I03)),
    (lambda L: (L.tensor([0, 1]), _, 1), (_, _, 1), (I01,)),
    (lambda L: (_, 1, L.tensor([2, 0])), (_, 1), (_, np.array([2, 0]))),
]


@pytest.mark.parametrize("i", range(len(KEYS)))
def test_integers_among_arrays_select_first(i):
    key_of, first, rest = KEYS[i]
    want = BASE[first][rest]
    shape = want.shape
    x = tg.tensor(BASE, requires_grad=True)
    y = x[key_of(tg)]
    assert tuple(y.shape) == shape
    np.testing.assert_array_equal(y.detach().numpy(), want)
    w = np.arange(1.0, want.size + 1).reshape(shape)
    (y * tg.tensor(w)).sum().backward()
    grad = np.zeros(BASE.size)
    np.add.at(grad, want.astype(np.int64).reshape(-1), w.reshape(-1))  # BASE holds positions
    np.testing.assert_array_equal(x.grad.numpy(), grad.reshape(BASE.shape))
    z = tg.tensor(BASE.copy())
    z[key_of(tg)] = tg.tensor(-w)  # assignment takes a value of the result's shape
    expect = BASE.copy().reshape(-1)
    expect[want.astype(np.int64).reshape(-1)] = -w.reshape(-1)
    np.testing.assert_array_equal(z.numpy(), expect.reshape(BASE.shape))
    torch = pytest.importorskip("torch")
    xt = torch.tensor(BASE, requires_grad=True)
    yt = xt[key_of(torch)]
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(yt.detach().numpy(), y.detach().numpy())
    np.testing.assert_array_equal(xt.grad.numpy(), x.grad.numpy())


def test_a_list_of_sequences_is_a_tuple_of_indices():
    a = tg.tensor(np.arange(36.0).reshape(3, 3, 4), requires_grad=True)
    with pytest.warns(UserWarning, match="non-tuple sequence for multidimensional indexing"):
        y = a[[[0, 1], [1, 2]]]
    np.testing.assert_array_equal(y.detach().numpy(), a.detach().numpy()[[0, 1], [1, 2]])
    with pytest.warns(UserWarning):
        assert tuple(a[[0, slice(None)]].shape) == (3, 4)
    with pytest.warns(UserWarning):
        assert tuple(a[[tg.tensor(0), tg.tensor(1)]].shape) == (4,)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a list of integers is one index array, as before
        assert tuple(a[[0, 2, 2]].shape) == (3, 3, 4)


def test_uint8_tensors_are_masks_and_other_small_integers_are_refused():
    c = tg.arange(3.0)
    with pytest.warns(UserWarning, match="indexing with dtype torch.uint8 is now deprecated"):
        np.testing.assert_array_equal(c[tg.tensor([1, 0, 1], dtype=tg.uint8)].numpy(), [0, 2])
    for dt in (tg.int8, tg.int16):
        with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte "
                                             "or bool tensors"):
            c[tg.tensor([1, 0, 1], dtype=dt)]
    np.testing.assert_array_equal(c[tg.tensor([2, 0], dtype=tg.int32)].numpy(), [2, 0])


def test_compiled_indexing_reads_integers_as_eager():
    idx, w = tg.tensor([0, 3]), tg.tensor(np.arange(6.0).reshape(3, 2))

    def f(x):
        return (x[1, :, idx] * w).sum()

    x = tg.tensor(BASE, requires_grad=True)
    compiled = tg.compile(f)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # traced, not run eagerly
        for _ in range(2):
            assert compiled(x).item() == f(x).item()
    v = tg.tensor(-np.ones((3, 2)))

    def g(a):
        a = a.clone()
        a[1, :, idx] = v
        return a.sum()

    with pytest.warns(RuntimeWarning, match="runs eagerly"):  # (the assignment: eager's)
        assert tg.compile(g)(tg.tensor(BASE)).item() == g(tg.tensor(BASE)).item()


_X = [[1.0, 2.0], [3.0, 4.0]]
_INDEX_OPS = {
    "gather": (lambda x, i: tg.gather(x, 1, i), "gather(): Expected dtype int32/int64 for index"),
    "scatter": (lambda x, i: x.scatter(1, i, x), "scatter(): Expected dtype int32/int64 for index"),
    "scatter_value": (lambda x, i: x.scatter(1, i, 2.0),
                      "scatter(): Expected dtype int32/int64 for index"),
    "scatter_add": (lambda x, i: x.scatter_add(1, i, x),
                    "scatter(): Expected dtype int32/int64 for index"),
    "index_select": (lambda x, i: x.index_select(0, i[0]),
                     "index_select(): Expected dtype int32 or int64 for index"),
}


@pytest.mark.parametrize("dtype", [tg.float32, tg.int16, tg.uint8, tg.bool])
@pytest.mark.parametrize("name", list(_INDEX_OPS))
def test_index_tensors_of_other_dtypes_than_int32_and_int64_are_refused(name, dtype):
    """PyTorch's refusals (a float or int16 index was truncated or taken as it was)."""
    f, message = _INDEX_OPS[name]
    x, i = tg.tensor(_X, requires_grad=True), tg.tensor([[1, 0], [0, 0]])
    with pytest.raises(RuntimeError, match=f"^{message.replace('(', '[(]').replace(')', '[)]')}$"):
        f(x, i.to(dtype))
    want = f(x, i)
    np.testing.assert_array_equal(f(x, i.to(tg.int32)).detach().numpy(), want.detach().numpy())


@pytest.mark.parametrize("dtype,name", [(tg.int32, "Int"), (tg.float32, "Float"),
                                        (tg.bool, "Bool")])
def test_int64_only_index_functions_name_the_dtype_as_pytorch(dtype, name):
    x, i = tg.tensor(_X), tg.tensor([[1, 0], [0, 0]]).to(dtype)
    with pytest.raises(RuntimeError, match=f"^torch.take_along_dim[(][)]: dtype of indices "
                                           f"should be Long but got {name}$"):
        tg.take_along_dim(x, i, 1)
    with pytest.raises(RuntimeError, match=f"^take[(][)]: Expected a long tensor for index, but "
                                           f"got {name}$"):
        tg.take(x, i)
    with pytest.raises(RuntimeError, match=f"^index_copy_[(][)]: Expected a long tensor for "
                                           f"index, but got {name}$"):
        x.index_copy(0, i[0], x)
    with pytest.raises(IndexError, match=r"^index_fill_\(\): Expected dtype int64 for index\.$"):
        x.index_fill(0, i[0], 1.0)
