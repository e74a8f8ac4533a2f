"""PyTorch's wording for two refusals: add_param_group given something not a dict, and a
cyclic schedule's per-group list of the wrong length."""

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


CASES = [
    ("CyclicLR", dict(base_lr=[0.1, 0.2], max_lr=1.0)),
    ("CyclicLR", dict(base_lr=0.1, max_lr=[1.0, 2.0, 3.0])),
    ("CyclicLR", dict(base_lr=0.1, max_lr=1.0, base_momentum=[0.8, 0.9])),
    ("CyclicLR", dict(base_lr=0.1, max_lr=1.0, max_momentum=[0.8, 0.9])),
    ("OneCycleLR", dict(max_lr=[1.0, 2.0], total_steps=4)),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=4, base_momentum=[0.8, 0.9])),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=4, max_momentum=(0.8, 0.9, 0.95))),
]


@pytest.mark.parametrize("name, kwargs", CASES)
def test_per_group_list_of_wrong_length(name, kwargs):
    def make(lib):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
        return lambda: getattr(lib.optim.lr_scheduler, name)(opt, **kwargs)
    assert _message(make(tg)) == _message(make(torch))
