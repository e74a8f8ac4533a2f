"""PyTorch's deprecated names that old training scripts still call: ``nn.init.normal`` and the
other initialisers without the trailing underscore, ``nn.utils.clip_grad_norm``; each warns
(FutureWarning, PyTorch's words, at the caller's line) and does what the new name does."""

import warnings

import pytest

import tapegrad as tg

NAMES = ["uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal",
         "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse"]
ARGS = {"constant": (0.5,), "sparse": (0.5,)}


def _warned(lib, call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [(w.category, str(w.message), w.filename) for w in caught]


@pytest.mark.parametrize("name", NAMES)
def test_init_aliases_warn_and_fill(name):
    shape = (4, 2, 3) if name == "dirac" else (4, 3)
    t = tg.zeros(*shape)
    result, caught = _warned(tg, lambda: getattr(tg.nn.init, name)(t, *ARGS.get(name, ())))
    assert result is t
    assert caught == [(FutureWarning, f"`nn.init.{name}` is now deprecated in favor of "
                                      f"`nn.init.{name}_`.", __file__)]
    if name in ("constant", "eye", "dirac"):
        expected = getattr(tg.nn.init, name + "_")(tg.zeros(*shape), *ARGS.get(name, ()))
        assert t.tolist() == expected.tolist()


def test_clip_grad_norm_alias():
    p = tg.nn.Parameter(tg.ones(2))
    p.grad = tg.tensor([3.0, 4.0])
    total, caught = _warned(tg, lambda: tg.nn.utils.clip_grad_norm([p], 1.0))
    assert total.item() == 5.0 and [round(v, 6) for v in p.grad.tolist()] == [0.6, 0.8]
    assert caught == [(FutureWarning, "`torch.nn.utils.clip_grad_norm` is now deprecated in "
                                      "favor of `torch.nn.utils.clip_grad_norm_`.", __file__)]


def test_messages_match_torch(torch):
    for lib in (tg, torch):
        _, caught = _warned(lib, lambda: lib.nn.init.normal(lib.empty(2)))
        assert [str(m) for _, m, _ in caught] == [
            "`nn.init.normal` is now deprecated in favor of `nn.init.normal_`."]
