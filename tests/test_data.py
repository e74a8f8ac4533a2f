"""tapegrad.utils.data: datasets, samplers, DataLoader and default_collate as PyTorch's."""

from collections import namedtuple

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset,
                                 RandomSampler, SequentialSampler, Subset, TensorDataset,
                                 default_collate, random_split)


def test_tensor_dataset_batches_in_order_and_shapes():
    X, y = tg.arange(20.0).reshape(10, 2), tg.arange(10)
    dl = DataLoader(TensorDataset(X, y), batch_size=4)
    batches = list(dl)
    assert len(dl) == 3 and [tuple(b[0].shape) for b in batches] == [(4, 2), (4, 2), (2, 2)]
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), np.arange(10))
    assert batches[0][1].dtype == np.int64
    dl = DataLoader(TensorDataset(X, y), batch_size=4, drop_last=True)
    assert len(dl) == 2 and len(list(dl)) == 2
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(tg.ones(3), tg.ones(4))


def test_shuffle_is_a_permutation_reproducible_with_a_generator():
    ds = TensorDataset(tg.arange(50))
    order = lambda seed: np.concatenate([b[0].numpy() for b in DataLoader(  # noqa: E731
        ds, batch_size=7, shuffle=True, generator=tg.Generator().manual_seed(seed))])
    a, b, c = order(1), order(1), order(2)
    assert sorted(a.tolist()) == list(range(50)) and (a == b).all() and (a != c).any()
    tg.manual_seed(5)
    first = [x[0].tolist() for x in DataLoader(ds, batch_size=50, shuffle=True)]
    tg.manual_seed(5)
    assert first == [x[0].tolist() for x in DataLoader(ds, batch_size=50, shuffle=True)]


def test_default_collate_types_and_structures():
    Point = namedtuple("Point", "x y")
    assert default_collate([1, 2]).dtype == np.int64
    assert default_collate([1.0, 2.0]).dtype == np.float64
    assert default_collate([True, False]).dtype == np.bool_
    assert default_collate([np.float32(1), np.float32(2)]).dtype == np.float32
    out = default_collate([np.ones(3, np.float32), np.zeros(3, np.float32)])
    assert isinstance(out, tg.Tensor) and out.shape == (2, 3) and out.dtype == np.float32
    nested = default_collate([{"x": 1.0, "y": [1, 2], "s": "a"}, {"x": 2.0, "y": [3, 4],
                                                                  "s": "b"}])
    np.testing.assert_array_equal(nested["x"].numpy(), [1.0, 2.0])
    assert [t.tolist() for t in nested["y"]] == [[1, 3], [2, 4]] and nested["s"] == ["a", "b"]
    p = default_collate([Point(1.0, 2), Point(3.0, 4)])
    assert isinstance(p, Point) and p.x.tolist() == [1.0, 3.0] and p.y.tolist() == [2, 4]
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])


def test_default_collate_matches_torch():
    pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    batch = [(np.arange(3.0), 1, 2.5), (np.arange(3.0) + 1, 4, -1.0)]
    ours, theirs = default_collate(batch), torch_collate(batch)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert str(a.dtype) == str(b.dtype).replace("torch.", "")


def test_samplers_subsets_splits_and_concatenation():
    ds = list(range(10))
    assert list(SequentialSampler(ds)) == ds
    g = tg.Generator().manual_seed(0)
    assert sorted(RandomSampler(ds, generator=g)) == ds
    draws = list(RandomSampler(ds, replacement=True, num_samples=25, generator=g))
    assert len(draws) == 25 and set(draws) <= set(ds)
    assert len(list(RandomSampler(ds, num_samples=25, generator=g))) == 25
    assert list(BatchSampler(ds, 4, False))[-1] == [8, 9]
    assert [len(s) for s in random_split(ds, [0.33, 0.33, 0.34], generator=g)] == [4, 3, 3]
    parts = random_split(ds, [3, 7], generator=g)
    assert sorted(list(parts[0]) + list(parts[1])) == ds
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(ds, [3, 3])
    assert list(Subset(ds, [5, 1])) == [5, 1]
    both = ConcatDataset([[0, 1], [2, 3, 4]])
    assert len(both) == 5 and [both[i] for i in range(5)] == [0, 1, 2, 3, 4] and both[-1] == 4
    assert list(DataLoader(range(5), batch_size=None)) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)


def test_a_training_loop_over_a_custom_dataset_fits():
    class Line(Dataset):
        def __init__(self):
            self.x = np.linspace(-1, 1, 64)

        def __len__(self):
            return len(self.x)

        def __getitem__(self, i):
            return {"x": self.x[i], "y": 3.0 * self.x[i] - 0.5}

    w = tg.zeros(2, requires_grad=True)
    opt = tg.optim.SGD([w], lr=0.2)
    for _ in range(30):
        for b in DataLoader(Line(), batch_size=16, shuffle=True):
            opt.zero_grad()
            ((w[0] * b["x"] + w[1] - b["y"]) ** 2).mean().backward()
            opt.step()
    np.testing.assert_allclose(w.detach().numpy(), [3.0, -0.5], atol=1e-3)


def _stream_batches(lib):
    D = __import__(lib.__name__ + ".utils.data", fromlist=["_"])

    class Stream(D.IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            for i in range(self.n):
                yield lib.tensor([float(i), float(i * i)]), i % 2

    class Sized(Stream):
        def __len__(self):
            return self.n

    out = [[(x.tolist(), y.tolist()) for x, y in D.DataLoader(Stream(7), batch_size=3)],
           [y.tolist() for _, y in D.DataLoader(Stream(7), batch_size=3, drop_last=True)],
           [y for _, y in D.DataLoader(Stream(3), batch_size=None)],
           [y for _, y in Stream(2) + Stream(3)], type(Stream(1) + Stream(1)).__name__,
           len(D.DataLoader(Sized(7), batch_size=3)),
           len(D.DataLoader(Sized(7), batch_size=3, drop_last=True)), D.get_worker_info()]
    for bad in (lambda: D.DataLoader(Stream(3), shuffle=True),
                lambda: D.WeightedRandomSampler([1.0], 0),
                lambda: D.WeightedRandomSampler([[1.0]], 2),
                lambda: D.WeightedRandomSampler([1.0], 2, replacement=1)):
        with pytest.raises(ValueError) as info:
            bad()
        out.append(str(info.value))
    return out


def test_iterable_datasets_and_weighted_sampling_as_torch(torch):
    assert _stream_batches(tg) == _stream_batches(torch)
    from tapegrad.utils.data import WeightedRandomSampler

    drawn = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 400,
                                       generator=tg.Generator().manual_seed(0)))
    assert set(drawn) == {1, 3} and 250 < drawn.count(3) < 350  # (3 in 4 expected)
    assert sorted(WeightedRandomSampler(tg.tensor([0.5, 1.0, 0.2]), 3, replacement=False)) == \
        [0, 1, 2]
    dl = DataLoader(TensorDataset(tg.arange(10)), batch_size=2,
                    sampler=WeightedRandomSampler(tg.ones(10), 5))
    assert [len(b[0]) for b in dl] == [2, 2, 1]
