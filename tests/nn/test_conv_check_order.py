"""conv1d/conv2d argument checks as PyTorch's: the dilated kernel size in the 'Kernel size
can't be greater than actual input size' message, the weight's divisibility by groups before
the input's channels, padding strings ('same' with a stride, an unknown string) refused
before any shape check, and the input of the channel-mismatch message shown as PyTorch's
'same' padding leaves it (padded on one side where the total padding is odd)."""

import numpy as np
import pytest

import tapegrad as tg
from tests.fuzz_harness import outcome as _outcome

torch = pytest.importorskip("torch")


def _cases(lib):
    F = lib.nn.functional
    rng = np.random.default_rng(0)

    def S(*shape):
        return lib.tensor(rng.standard_normal(shape))

    return [
        lambda: F.conv1d(S(1, 2, 5), S(5, 1, 3), groups=2),
        lambda: F.conv1d(S(1, 3, 5), S(4, 1, 3), groups=2),
        lambda: F.conv1d(S(1, 3, 5), S(4, 2, 3), groups=2),
        lambda: F.conv1d(S(1, 4, 5), S(3, 1, 1), groups=3),
        lambda: F.conv2d(S(1, 7, 1, 3), S(6, 2, 3, 1), groups=3),
        lambda: F.conv2d(S(1, 2, 4, 4), S(2, 2, 1, 2), S(3), stride=2, padding="same"),
        lambda: F.conv2d(S(1, 2, 4, 4), S(2, 2, 1, 2), S(3), stride=1, padding="same"),
        lambda: F.conv2d(S(1, 2, 4, 4), S(2, 3, 1, 2), S(2), stride=2, padding="same"),
        lambda: F.conv2d(S(1, 2, 4, 4), S(3, 2, 1, 2), S(2), stride=(1, 2), padding="same",
                         groups=2),
        lambda: F.conv2d(S(1, 2, 4, 4), S(2, 2, 1, 2), S(2), padding="full"),
        lambda: F.conv1d(S(1, 1, 1), S(1, 1, 2), dilation=2, padding=1),
        lambda: F.conv1d(S(2, 1, 3), S(1, 1, 2), dilation=3),
        lambda: F.conv2d(S(1, 1, 2, 2), S(1, 1, 1, 2), dilation=(1, 2)),
        lambda: F.conv2d(S(1, 1, 5, 2), S(1, 1, 3, 2), dilation=(2, 2), padding=(0, 1)),
        lambda: F.conv2d(S(1, 2, 5, 4), S(2, 1, 3, 2), dilation=(2, 3), padding=1, groups=2),
        lambda: F.conv2d(S(1, 1, 4, 4), S(2, 2, 2, 1), padding="same"),
        lambda: F.conv2d(S(1, 1, 4, 4), S(2, 2, 2, 3), padding="same", dilation=(3, 2)),
        lambda: F.conv1d(S(3, 5), S(2, 2, 4), padding="same"),
        lambda: F.conv1d(S(1, 3, 5), S(2, 2, 3), padding="same"),
    ]


@pytest.mark.parametrize("k", range(len(_cases(tg))))
def test_conv_checks_as_pytorch(k):
    assert _outcome(_cases(tg)[k]) == _outcome(_cases(torch)[k])
