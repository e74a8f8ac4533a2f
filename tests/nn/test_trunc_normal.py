"""nn.init.trunc_normal_ draws as PyTorch's: rejection from the normal only where [a, b] holds
more than 0.3 of its mass, uniform proposals otherwise. Rejection alone ran forever for an
interval in a tail (a=5, b=6) or reversed bounds (PyTorch raises uniform_'s error)."""

import warnings

import pytest

import tapegrad as tg


@pytest.mark.parametrize("mean,std,a,b", [(0, 1, -2, 2), (0, 1, 5, 6), (0, 1, -0.1, 0.1),
                                          (3, 0.5, 0, 1), (-1, 2, -8, -7.5)])
def test_trunc_normal_distribution(mean, std, a, b):
    stats = pytest.importorskip("scipy.stats")
    tg.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (a mean far from [a, b] warns, as PyTorch's)
        x = tg.nn.init.trunc_normal_(tg.empty(20000, dtype=tg.float64), mean, std, a, b)
    x = x.numpy()
    assert x.min() >= a and x.max() <= b
    ref = stats.truncnorm((a - mean) / std, (b - mean) / std, loc=mean, scale=std)
    assert stats.kstest(x, ref.cdf).pvalue > 1e-4


def test_trunc_normal_errors_and_warning_as_torch(torch):
    for a, b in [(2, 1), (2.5, -1.0)]:
        messages = []
        for lib in (torch, tg):
            with pytest.raises(RuntimeError) as info:
                lib.nn.init.trunc_normal_(lib.empty(3), a=a, b=b)
            messages.append(str(info.value))
        assert messages[1] == messages[0]
    caught = []
    for lib in (torch, tg):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.nn.init.trunc_normal_(lib.empty(4), mean=0.0, std=1.0, a=5.0, b=6.0)
        caught.append([str(m.message) for m in w])
    assert caught[1] == caught[0] and len(caught[0]) == 1


def test_uniform_reversed_bounds_as_torch(torch):
    """uniform_ with from > to: PyTorch raises; Tensor.uniform_ drew from [to, from) silently and
    nn.init.uniform_ raised NumPy's ValueError('high - low < 0')."""
    calls = [lambda lib: lib.ones(2).uniform_(2, 1),
             lambda lib: lib.nn.init.uniform_(lib.ones(2), 2.5, 1),
             lambda lib: lib.ones(2, dtype=lib.complex128).uniform_(0.5, 0.25)]
    for call in calls:
        messages = []
        for lib in (torch, tg):
            with pytest.raises(RuntimeError) as info:
                call(lib)
            messages.append(str(info.value))
        assert messages[1] == messages[0]
    assert tg.ones(3).uniform_(1, 1).tolist() == [1.0, 1.0, 1.0]


def test_normal_negative_std_and_fan_mode_as_torch(torch):
    """normal_ with a negative std: PyTorch raises; Tensor.normal_ drew silently and
    nn.init.normal_ raised NumPy's ValueError('scale < 0'). kaiming's bad mode lists the modes
    as PyTorch's message does."""
    calls = [(RuntimeError, lambda lib: lib.ones(2).normal_(0, -1)),
             (RuntimeError, lambda lib: lib.nn.init.normal_(lib.ones(2), 0, -0.5)),
             (RuntimeError, lambda lib: lib.ones(2, dtype=lib.complex128).normal_(0, -2)),
             (ValueError, lambda lib: lib.nn.init.kaiming_normal_(lib.ones(2, 3), mode="x"))]
    for kind, call in calls:
        messages = []
        for lib in (torch, tg):
            with pytest.raises(kind) as info:
                call(lib)
            messages.append(str(info.value))
        assert messages[1] == messages[0]
    assert tg.ones(2).normal_(0, 0).tolist() == [0.0, 0.0]
