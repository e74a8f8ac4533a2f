"""``StackDataset``: equal-length datasets side by side, sampled as a tuple or a dict, batched
by the DataLoader field by field; PyTorch's errors."""

import pytest

import tapegrad as tg
from tapegrad.utils.data import DataLoader, StackDataset, TensorDataset


def _program(lib):
    D = lib.utils.data
    xs = D.TensorDataset(lib.arange(4.0))
    labels = ["a", "b", "c", "d"]
    as_tuple = D.StackDataset(xs, labels)
    as_dict = D.StackDataset(x=xs, label=labels)
    batches = [(b["x"][0].tolist(), b["label"]) for b in D.DataLoader(as_dict, batch_size=3)]
    errors = []
    for args, kwargs in [((xs,), {"y": labels}), ((), {}), ((xs, labels[:3]), {})]:
        with pytest.raises(ValueError) as info:
            D.StackDataset(*args, **kwargs)
        errors.append(str(info.value))
    return (len(as_tuple), as_tuple[2][0][0].item(), as_tuple[2][1], sorted(as_dict[1]),
            batches, errors)


def test_stack_dataset():
    n, x2, label2, keys, batches, errors = _program(tg)
    assert (n, x2, label2, keys) == (4, 2.0, "c", ["label", "x"])
    assert batches == [([0.0, 1.0, 2.0], ["a", "b", "c"]), ([3.0], ["d"])]
    assert errors[1:] == ["At least one dataset should be passed",
                          "Size mismatch between datasets"]
    assert isinstance(StackDataset(TensorDataset(tg.ones(2)))[0], tuple)
    assert len(list(DataLoader(StackDataset(TensorDataset(tg.ones(5))), batch_size=2))) == 3


def test_stack_dataset_matches_torch(torch):
    assert _program(tg) == _program(torch)
