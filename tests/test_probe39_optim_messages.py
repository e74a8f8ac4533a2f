"""PyTorch's wording for add_param_group given something not a dict."""

import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _message(f):
    with pytest.raises((TypeError, ValueError)) as info:
        f()
    return type(info.value).__name__, str(info.value)


@pytest.mark.parametrize("group", [lambda L: [L.zeros(1)], lambda L: (1, 2), lambda L: "params"])
def test_add_param_group_not_a_dict(group):
    def make(lib):
        return lambda: lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1).add_param_group(
            group(lib))
    assert _message(make(tg)) == _message(make(torch))

