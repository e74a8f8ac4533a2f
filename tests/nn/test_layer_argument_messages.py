"""Layer argument errors in PyTorch's words: BatchNorm's one-value-per-channel check names the
input size as ``torch.Size``, GroupNorm names both counts, and a transposed convolution's
``output_size`` takes the spatial sizes or the whole output's (else PyTorch's ValueError)."""

import pytest

import tapegrad as tg


def _outcomes(lib):
    nn = lib.nn
    calls = [lambda: nn.BatchNorm1d(4)(lib.ones(1, 4)),
             lambda: nn.functional.batch_norm(lib.ones(1, 3, 1), None, None, training=True),
             lambda: nn.GroupNorm(4, 6),
             lambda: nn.ConvTranspose2d(4, 2, 3, stride=2)(lib.ones(1, 4, 3, 3),
                                                           output_size=[10, 10]),
             lambda: nn.ConvTranspose2d(4, 2, 3, stride=2)(lib.ones(1, 4, 3, 3),
                                                           output_size=[1, 2, 8, 8]).shape,
             lambda: nn.ConvTranspose2d(4, 2, 3, stride=2)(lib.ones(1, 4, 3, 3),
                                                           output_size=(1, 8, 8)),
             lambda: nn.ConvTranspose2d(4, 2, 3, stride=2)(lib.ones(4, 3, 3),
                                                           output_size=(2, 8, 8)).shape]
    out = []
    for call in calls:
        try:
            out.append(tuple(call()))
        except ValueError as e:
            out.append(str(e))
    return out


def test_layer_argument_messages():
    assert _outcomes(tg) == [
        "Expected more than 1 value per channel when training, got input size "
        "torch.Size([1, 4])",
        "Expected more than 1 value per channel when training, got input size "
        "torch.Size([1, 3, 1])",
        "num_channels (6) must be divisible by num_groups (4)",
        "requested an output size of [10, 10], but valid sizes range from [7, 7] to [8, 8] "
        "(for an input of torch.Size([3, 3]))",
        (1, 2, 8, 8),
        "ConvTranspose2D: for 4D input, output_size must have 2 or 4 elements (got 3)",
        (2, 8, 8)]


def test_layer_argument_messages_match_torch(torch):
    assert _outcomes(tg) == _outcomes(torch)


def _fold_message(lib):
    with pytest.raises(RuntimeError) as info:
        lib.nn.Fold((4, 4), 2)(lib.ones(1, 5, 9))
    return str(info.value)


def test_fold_channel_message():
    assert _fold_message(tg) == ("Expected size of input's dimension 1 to be divisible by the "
                                 "product of kernel_size, but got input.size(1)=5 and "
                                 "kernel_size=(2, 2).")


def test_fold_channel_message_matches_torch(torch):
    assert _fold_message(tg) == _fold_message(torch)


def _norm_channel_outcomes(lib):
    """(error or 'ok', warnings) of instance and group norms given the wrong channel count."""
    import warnings

    nn = lib.nn
    calls = [lambda: nn.InstanceNorm2d(3, affine=True)(lib.ones(2, 5, 4, 4)),
             lambda: nn.InstanceNorm1d(3, affine=True)(lib.ones(5, 4)),
             lambda: nn.InstanceNorm2d(3)(lib.ones(2, 5, 4, 4)),
             lambda: nn.InstanceNorm1d(3)(lib.ones(2, 3, 1)),
             lambda: nn.GroupNorm(2, 6)(lib.ones(2, 4, 3)),
             lambda: nn.functional.group_norm(lib.ones(2, 4, 3), 2, lib.ones(4, 1)),
             lambda: nn.GroupNorm(2, 6, affine=False)(lib.ones(2, 4, 3))]
    out = []
    for call in calls:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            try:
                call()
                res = "ok"
            except (ValueError, RuntimeError) as e:
                res = f"{type(e).__name__}: {e}"
        out.append((res, [str(w.message) for w in seen]))
    return out


def test_norm_channel_mismatch_messages_match_torch(torch):
    """InstanceNorm with affine parameters refuses another channel count with PyTorch's
    ValueError (without them it warns, as PyTorch); GroupNorm's affine parameters are checked
    against the input's channels before any broadcasting error."""
    ours = _norm_channel_outcomes(tg)
    assert ours == _norm_channel_outcomes(torch)
    assert ours[0][0].startswith("ValueError: expected input's size at dim=1")
