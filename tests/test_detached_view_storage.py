"""detach(), .data and Parameter of a view are no views (as in PyTorch) but share its base's
memory: storage_offset() and untyped_storage() count from that base's storage."""

import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

MAKERS = {
    "detach": lambda m, v: v.detach(),
    "data": lambda m, v: v.data,
    "parameter": lambda m, v: m.nn.Parameter(v),
    "detach_of_detach": lambda m, v: v.detach().detach(),
    "slice_of_detach": lambda m, v: v.detach()[1:],
    "detach_of_column": lambda m, v: v.t()[2].detach(),
}


def _probe(m, name):
    x = m.arange(12.0, dtype=m.float32).reshape(3, 4)
    y = MAKERS[name](m, x[1])
    y.add_(0) if name != "parameter" else y.data.add_(0)
    same = y.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    return y.storage_offset(), same, y._is_view(), y.untyped_storage().nbytes()


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_storage_offset_of_detached_view_matches_torch(name):
    assert _probe(tg, name) == _probe(torch, name)


def test_detached_view_writes_reach_base():
    for m in (tg, torch):
        x = m.zeros(3, 4)
        x[1].detach().fill_(2)
        assert x.sum().item() == 8.0


def test_detach_of_copied_reshape_has_own_storage():
    def probe(m):
        x = m.arange(12.0, dtype=m.float32).reshape(3, 4)
        y = x.t().reshape(12).detach()  # reshape copied: its own storage
        return y.storage_offset(), y.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()

    assert probe(tg) == probe(torch)
