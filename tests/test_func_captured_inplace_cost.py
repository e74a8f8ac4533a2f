"""The captured-tensor check of an in-place op inside grad/jvp reads the captured tensors'
storages once per call, not once per in-place op (a function reaching a model's parameters
and updating a local tensor in a loop paid for every parameter at every update)."""

import pytest

import tapegrad as tg


class _CountedReads(tg.Tensor):
    """A tensor counting the reads of its version counter."""

    reads = 0

    @property
    def _vc(self):
        _CountedReads.reads += 1
        return self.__dict__.get("_counted_vc")

    @_vc.setter
    def _vc(self, value):
        self.__dict__["_counted_vc"] = value


def test_captured_counters_read_once_per_call():
    caps = [tg.ones(2) for _ in range(50)]
    for c in caps:
        c.__class__ = _CountedReads

    def f(x):
        y = x * 1
        for _ in range(40):
            y.add_(1.0)  # (a local: allowed, and checked each time)
        return (y * x).sum() + caps[0].sum() * 0

    _CountedReads.reads = 0
    g = tg.func.grad(f)(tg.ones(2))
    assert g.tolist() == [42.0, 42.0]  # (2 x + 40)
    assert _CountedReads.reads < 3 * len(caps)  # (40 reads each before)


def test_detach_made_after_first_check_still_refused():
    torch = pytest.importorskip("torch")
    for L in (tg, torch):
        c = L.ones(3)

        def f(x):
            y = x * 1
            y.add_(1)  # (the first in-place op: the check collects the captures here)
            c.detach().add_(1)
            return (y * x).sum()

        with pytest.raises(RuntimeError, match="would mutate a captured Tensor"):
            L.func.grad(f)(L.ones(3))
        assert c.tolist() == [1.0, 1.0, 1.0]
