"""``x[key] = v`` on a leaf that requires grad, against PyTorch: its error names "a view of a
leaf Variable" where PyTorch indexes a view first (an int, None, a bool, a 0-d index tensor, a
slice short of its dim) and "a leaf Variable" where it writes into the leaf itself (masks,
index tensors and lists, full slices, Ellipsis); tapegrad named the view in every case."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

KEYS = ["(slice(None), m)", "(Ellipsis, m)", "(m[:2],)", "None", "(None, 0)", "(0, m)",
        "(M.tensor([0, 1]), slice(None))", "(slice(None), M.tensor([0, 1]))", "(Ellipsis,)",
        "(slice(None),)", "(None, M.tensor([0]))", "M.tensor(0)", "(M.tensor(True),)",
        "(Ellipsis, None)", "True", "slice(0, None)", "slice(None, 100)", "slice(None, None, 1)",
        "np.int64(0)", "np.array(0)", "(slice(0, 2), M.tensor([0]))", "M.tensor([True, False])",
        "[True, False]", "np.array([0])", "x > 0", "(M.tensor([0]), Ellipsis, slice(1, 3))",
        "(Ellipsis, slice(0, 3))", "(M.ones(2, 3, dtype=M.bool), Ellipsis)", "slice(1, None)",
        "(slice(None), slice(None, None, 2))", "[0, 1]", "(Ellipsis, M.tensor([0]), slice(None))",
        "(slice(None), slice(None), None)", "(Ellipsis, 1)"]


def message(M, key):
    x = M.zeros(2, 3, requires_grad=True)
    m = M.tensor([True, False, True])
    with pytest.raises(RuntimeError) as e:
        x[eval(key, {"M": M, "np": np, "x": x, "m": m})] = 0
    return str(e.value)


@pytest.mark.parametrize("key", KEYS)
def test_leaf_error_as_torch(key):
    assert message(tg, key) == message(torch, key)


def test_masked_write_of_non_leaf_differentiates():
    a = np.random.default_rng(0).standard_normal((3, 4))
    mask = a > 0

    def f(x, v):
        y = x * 2
        y[tg.tensor(mask)] = v * 3
        return (y ** 2).sum()

    x = tg.tensor(a, requires_grad=True)
    v = tg.tensor(0.7, requires_grad=True)
    assert tg.autograd.gradcheck(f, (x, v))
    f(x, v).backward()
    xt = torch.tensor(a, requires_grad=True)
    vt = torch.tensor(0.7, requires_grad=True, dtype=torch.float64)
    yt = xt * 2
    yt[torch.tensor(mask)] = vt * 3
    (yt ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())
    np.testing.assert_allclose(v.grad.numpy(), vt.grad.numpy())
