"""Tensor.untyped_storage() and Tensor.storage(), as PyTorch's: views share their base's
storage (data_ptr), a copy has its own; sizes, bytes, values and the deprecation warning."""

import numpy as np
import pytest

import tapegrad as tg


def _layouts(lib):
    t = lib.arange(6, dtype=lib.float32).reshape(2, 3)
    return t, {"view": t.view(6), "row": t[1], "transpose": t.t(), "expand": t[:1].expand(4, 3),
               "copy": t.t().contiguous(), "clone": t.clone(), "narrow": t.narrow(1, 1, 2)}


def test_views_share_the_storage_as_torch():
    torch = pytest.importorskip("torch")
    shared = []
    for lib in (tg, torch):
        t, views = _layouts(lib)
        ptr = t.untyped_storage().data_ptr()
        shared.append({k: v.untyped_storage().data_ptr() == ptr for k, v in views.items()})
        shared[-1]["t.data_ptr"] = t.data_ptr() == ptr
    assert shared[0] == shared[1]
    assert shared[0]["row"] and not shared[0]["copy"]


def test_storage_sizes_values_and_warning_as_torch():
    torch = pytest.importorskip("torch")
    got = []
    for lib in (tg, torch):
        t, views = _layouts(lib)
        u = views["row"].untyped_storage()
        with pytest.warns(UserWarning, match="TypedStorage is deprecated"):
            s = views["row"].storage()
        got.append((u.nbytes(), u.size(), len(u), u.element_size(), str(u.device), u.tolist(),
                    s.size(), len(s), s.element_size(), s.nbytes(), s.tolist(), s[4],
                    s.data_ptr() == u.data_ptr(), s.untyped().nbytes()))
    assert got[0] == got[1]


def test_writes_through_a_view_reach_the_storage():
    t = tg.zeros(2, 2)
    t[1].fill_(3.0)
    with pytest.warns(UserWarning):
        assert t.storage().tolist() == [0.0, 0.0, 3.0, 3.0]
    assert np.frombuffer(bytes(t.untyped_storage().tolist()), np.float64).tolist() == \
        [0.0, 0.0, 3.0, 3.0]
