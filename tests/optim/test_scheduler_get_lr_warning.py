"""Schedulers as PyTorch's around ``get_lr``: calling it by hand warns (``get_last_lr`` is the
reading), ``step`` does not, ``_get_lr_called_within_step`` is in ``state_dict``, and resuming
without ``initial_lr`` raises PyTorch's KeyError."""

import warnings

import pytest

import tapegrad as tg

_MAKERS = {
    "StepLR": lambda lib, o: lib.optim.lr_scheduler.StepLR(o, 2),
    "MultiStepLR": lambda lib, o: lib.optim.lr_scheduler.MultiStepLR(o, [1, 3]),
    "ExponentialLR": lambda lib, o: lib.optim.lr_scheduler.ExponentialLR(o, 0.9),
    "CosineAnnealingLR": lambda lib, o: lib.optim.lr_scheduler.CosineAnnealingLR(o, 5),
    "LambdaLR": lambda lib, o: lib.optim.lr_scheduler.LambdaLR(o, lambda e: 0.5 ** e),
    "MultiplicativeLR": lambda lib, o: lib.optim.lr_scheduler.MultiplicativeLR(o, lambda e: 0.9),
    "ConstantLR": lambda lib, o: lib.optim.lr_scheduler.ConstantLR(o, 0.5, 2),
    "LinearLR": lambda lib, o: lib.optim.lr_scheduler.LinearLR(o, 0.5, total_iters=3),
    "PolynomialLR": lambda lib, o: lib.optim.lr_scheduler.PolynomialLR(o, 4),
    "CosineAnnealingWarmRestarts":
        lambda lib, o: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, 2),
    "OneCycleLR": lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(o, 1.0, total_steps=10),
    "CyclicLR": lambda lib, o: lib.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, 2),
    "SWALR": lambda lib, o: lib.optim.swa_utils.SWALR(o, 0.05, anneal_epochs=2),
}


def _program(lib, name):
    opt = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=0.1, momentum=0.9)
    sched = _MAKERS[name](lib, opt)
    with warnings.catch_warnings(record=True) as stepping:
        warnings.simplefilter("always")
        for _ in range(3):
            opt.step()
            sched.step()
    with warnings.catch_warnings(record=True) as by_hand:
        warnings.simplefilter("always")
        by_hand_lrs = sched.get_lr()
    keys = list(sched.state_dict())
    return ([str(w.message) for w in stepping], [str(w.message) for w in by_hand],
            [round(float(x), 12) for x in by_hand_lrs], "_get_lr_called_within_step" in keys,
            keys.index("_get_lr_called_within_step") < keys.index("_last_lr"))


@pytest.mark.parametrize("name", sorted(_MAKERS))
def test_get_lr_by_hand_warns(name):
    stepping, by_hand, _, in_state, ordered = _program(tg, name)
    assert stepping == []
    assert by_hand == ["To get the last learning rate computed by the scheduler, please use "
                       "`get_last_lr()`."]
    assert in_state and ordered


@pytest.mark.parametrize("name", sorted(_MAKERS))
def test_get_lr_by_hand_matches_torch(torch, name):
    assert _program(tg, name) == _program(torch, name)


def _resume_without_initial_lr(lib):
    opt = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=0.1)
    with pytest.raises(KeyError) as info:
        lib.optim.lr_scheduler.StepLR(opt, 2, last_epoch=3)
    return info.value.args[0]


def test_resume_without_initial_lr():
    message = _resume_without_initial_lr(tg)
    assert message.startswith("param 'initial_lr' is not specified in param_groups[0] when "
                              "resuming scheduler with last_epoch >= 0.\nThis typically")


def test_resume_without_initial_lr_matches_torch(torch):
    assert _resume_without_initial_lr(tg) == _resume_without_initial_lr(torch)
