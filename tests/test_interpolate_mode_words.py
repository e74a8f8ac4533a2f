"""F.interpolate's mode errors in PyTorch 2.13's words: its list of modes names 'lanczos', and
mode='lanczos' without antialias raises ValueError 'Lanczos mode requires antialias=True'
(tapegrad has no antialias: with it, its own NotImplementedError, documented)."""
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

CALLS = [((1, 1, 4, 4), "cubic"), ((1, 4), "nearest"), ((1, 1, 4, 4), "lanczos"), ((2, 4, 4), "bicubic"),
         ((1, 4), "lanczos"), ((1, 1, 2, 2, 2, 2), "nearest"), ((1, 4), "cubic"),
         ((1, 1, 2, 2, 2), "bicubic")]


def _words(L, shape, mode):
    with pytest.raises(Exception) as e:
        L.nn.functional.interpolate(L.ones(*shape), size=2, mode=mode)
    return type(e.value).__name__, str(e.value)


@pytest.mark.parametrize("shape,mode", CALLS)
def test_words_as_torch(shape, mode):
    assert _words(tg, shape, mode) == _words(torch, shape, mode)


def test_lanczos_with_antialias_is_not_supported():
    with pytest.raises(NotImplementedError, match="antialias=True is not supported"):
        tg.nn.functional.interpolate(tg.ones(1, 1, 4, 4), size=2, mode="lanczos",
                                     antialias=True)
