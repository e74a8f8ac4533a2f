"""NumPy 2's copy= of the array protocol: np.array(t) (copy=True) gives a copy, as PyTorch's
tensors give (writing it left the tensor changed); np.asarray(t) and t.numpy() share the
tensor's memory, as PyTorch's; np.array(t, copy=False) shares it or raises NumPy's ValueError
where a dtype change needs a copy."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")
# (PyTorch's __array__ takes no copy keyword: NumPy warns, then copies where asked)
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def _after(lib, write):
    t = lib.tensor(np.arange(4.0))
    write(t)
    return t.tolist()


@pytest.mark.parametrize("write", [
    lambda t: np.array(t).__setitem__(0, 9.0),
    lambda t: np.array(t, dtype=np.float64).__setitem__(1, 9.0),
    lambda t: np.array(t, dtype=np.float32).__setitem__(1, 9.0),
    lambda t: np.array(t, copy=True).__setitem__(2, 9.0),
    lambda t: np.asarray(t).__setitem__(0, 9.0),
    lambda t: np.asarray(t, dtype=np.float64).__setitem__(3, 9.0),
    lambda t: t.numpy().__setitem__(1, 9.0),
    lambda t: np.array([t]).__setitem__((0, 0), 9.0),
])
def test_copies_and_views_as_torch(write):
    assert _after(tg, write) == _after(torch, write)


def test_copy_false():
    t = tg.tensor(np.arange(3.0))
    np.array(t, copy=False)[0] = 5.0
    assert t.tolist() == [5.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="Unable to avoid copy"):
        np.array(t, dtype=np.float32, copy=False)


def test_requires_grad_still_refused():
    t = tg.tensor([1.0, 2.0], requires_grad=True)
    for f in (np.array, np.asarray):
        with pytest.raises(RuntimeError, match="Can't call numpy\\(\\) on Tensor that requires "
                                               "grad"):
            f(t)
