"""The DataLoader takes PyTorch's signature (``multiprocessing_context`` before ``generator``,
``in_order``) and refuses the worker options PyTorch refuses, though loading is in-process."""

import pytest

import tapegrad as tg

_CASES = [dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2),
          dict(num_workers=2, prefetch_factor=-1), dict(persistent_workers=True),
          dict(batch_size=None, drop_last=True)]


def _messages(lib):
    out = []
    for kwargs in _CASES:
        with pytest.raises(ValueError) as info:
            lib.utils.data.DataLoader(list(range(6)), **kwargs)
        out.append(str(info.value))
    return out


def test_worker_option_checks():
    out = _messages(tg)
    assert out[0].startswith("num_workers option should be non-negative")
    assert out[4] == "persistent_workers option needs num_workers > 0"
    assert out[5].startswith("batch_size=None option disables auto-batching")


def test_worker_option_checks_match_torch(torch):
    assert _messages(tg) == _messages(torch)


def test_accepted_options_load_in_process():
    g = tg.Generator().manual_seed(0)
    loader = tg.utils.data.DataLoader(list(range(6)), 4, True, None, None, 2, None, False, False,
                                      0, None, None, g, prefetch_factor=3,
                                      persistent_workers=True, in_order=False)
    batches = [b.tolist() for b in loader]
    assert [len(b) for b in batches] == [4, 2] and sorted(sum(batches, [])) == list(range(6))
