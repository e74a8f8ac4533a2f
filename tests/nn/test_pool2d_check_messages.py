"""max_pool2d/avg_pool2d argument errors in PyTorch's words: an input of the wrong rank
(max_pool2d's 'non-empty 3D or 4D (batch mode) tensor expected for input', avg_pool2d's
IndexError for fewer than 3 dims), and the padding checks (at most half the dilated window,
naming that dim's dilation; then at most half the window itself)."""

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
        lambda: F.avg_pool2d(S(4, 4), 2),
        lambda: F.avg_pool2d(S(4, 4), 2, ceil_mode=True),
        lambda: F.avg_pool2d(S(4), 1),
        lambda: F.avg_pool2d(S(1, 1, 1, 4, 4), 1),
        lambda: F.max_pool2d(S(4, 4), 2),
        lambda: F.max_pool2d(S(4, 4), 2, return_indices=True),
        lambda: F.max_pool2d(S(4), 1),
        lambda: F.max_pool2d(S(1, 1, 1, 4, 4), 1),
        lambda: F.max_pool2d(S(1, 1, 4, 4), 1, padding=1, dilation=2),
        lambda: F.max_pool2d(S(1, 1, 4, 4), (1, 3), padding=(0, 2), dilation=2),
        lambda: F.max_pool2d(S(1, 1, 4, 4), (3, 1), padding=(2, 1), dilation=(1, 2)),
        lambda: F.max_pool2d(S(1, 1, 4, 4), (2, 1), padding=(1, 1), dilation=(1, 3)),
        lambda: F.max_pool2d(S(1, 1, 5, 5), 3, padding=1, dilation=2),
        lambda: F.avg_pool2d(S(1, 1, 4, 4), 1, padding=1),
        lambda: F.avg_pool2d(S(1, 1, 4, 4), (3, 2), padding=(1, 1)),
    ]


@pytest.mark.parametrize("k", range(len(_cases(tg))))
def test_pool2d_checks_as_pytorch(k):
    assert _outcome(_cases(tg)[k]) == _outcome(_cases(torch)[k])
