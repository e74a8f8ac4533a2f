"""Optimizers given ``lr`` as a tensor: PyTorch's refusal of more than one element, and its
"Invalid learning rate" for a negative one-element tensor."""

import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

NAMES = ["SGD", "Adam", "AdamW", "NAdam", "RAdam", "Adamax", "Adadelta", "Adagrad", "RMSprop",
         "Rprop", "ASGD", "LBFGS", "Adafactor"]


def _outcome(lib, name, lr):
    try:
        getattr(lib.optim, name)([lib.zeros(1, requires_grad=True)], lr=lib.tensor(lr))
    except Exception as e:  # noqa: BLE001 (the refusal is the result compared)
        return type(e).__name__, str(e)
    return None


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("lr", [[0.1, 0.2], [[0.1]] * 2, [-0.5], [0.1], 0.1])
def test_tensor_lr_refusals_match_pytorch(name, lr):
    assert _outcome(tg, name, lr) == _outcome(torch, name, lr)


def test_one_element_tensor_lr_steps_as_a_float():
    w = tg.tensor([1.0, -2.0], requires_grad=True)
    opt = tg.optim.SGD([w], lr=tg.tensor([0.25]))
    (w * w).sum().backward()
    opt.step()
    assert w.tolist() == [0.5, -1.0]
