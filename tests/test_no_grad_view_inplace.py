"""A view made under no_grad and changed in place with grad enabled: PyTorch forbids it (the
in-place change would be recorded on a view whose history was not), whether its base requires
grad (leaf or not) or the operand does; in no_grad, or with nothing requiring grad, it is fine."""
import pytest

import tapegrad as tg

MSG = ("A view was created in no_grad mode and is being modified inplace with grad mode "
       "enabled. Given that this use case is ambiguous and error-prone, it is forbidden. You "
       "can clarify your code by moving both the view and the inplace either both inside the "
       "no_grad block (if you don't want the inplace to be tracked) or both outside (if you "
       "want the inplace to be tracked).")


def _refused(L):
    def leaf_base():
        x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        with L.no_grad():
            v = x[1:]
        v.mul_(2)

    def nonleaf_base():
        b = L.tensor([1.0, 2.0, 3.0], requires_grad=True) * 2
        with L.no_grad():
            v = b[1:]
        v.mul_(2)

    def grad_operand():
        x, w = L.tensor([1.0, 2.0, 3.0]), L.tensor([1.0, 2.0], requires_grad=True)
        with L.no_grad():
            v = x[1:]
        v.mul_(w)

    def copy():
        b = L.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True) * 1
        with L.no_grad():
            v = b.t()
        v.copy_(b.detach())

    def unbind():
        b = L.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True) * 1
        with L.no_grad():
            v = b.unbind(0)
        v[0].add_(1)

    return dict(leaf_base=leaf_base, nonleaf_base=nonleaf_base, grad_operand=grad_operand,
                copy=copy, unbind=unbind)


@pytest.mark.parametrize("case", list(_refused(tg)))
def test_no_grad_view_changed_in_place_with_grad_raises(case):
    with pytest.raises(RuntimeError) as e:
        _refused(tg)[case]()
    assert str(e.value) == MSG


@pytest.mark.parametrize("case", list(_refused(tg)))
def test_same_error_as_torch(case):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as theirs:
        _refused(torch)[case]()
    with pytest.raises(RuntimeError) as mine:
        _refused(tg)[case]()
    assert str(mine.value) == str(theirs.value)


def test_allowed_uses_keep_working_and_their_gradients():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = x * 2
    with tg.no_grad():
        v = b[1:]
        v.mul_(10)  # both inside no_grad: not recorded
    (b * b).sum().backward()
    assert b.tolist() == [2.0, 40.0, 60.0]
    assert x.grad.tolist() == [8.0, 160.0, 240.0]  # d/dx of (2x)^2 at the values used
    c = tg.tensor([1.0, 2.0, 3.0])
    with tg.no_grad():
        w = c[1:]
    w.mul_(2)  # nothing requires grad
    assert c.tolist() == [1.0, 4.0, 6.0]
    y = tg.tensor([1.0, 2.0, 3.0], requires_grad=True) * 1
    u = y[1:]
    u.mul_(3)  # made with grad enabled: recorded
    (y * y).sum().backward()
