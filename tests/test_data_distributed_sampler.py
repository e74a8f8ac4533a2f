"""DistributedSampler: each replica's share of the indices, padding and drop_last as PyTorch's;
shuffled orders agree across replicas and change with set_epoch."""

import itertools

import pytest

import tapegrad as tg
from tapegrad.utils.data.distributed import DistributedSampler

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("n,replicas,drop_last",
                         list(itertools.product([2, 7, 9, 10], [3, 4], [False, True])))
def test_unshuffled_shares_as_torch(n, replicas, drop_last):
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = torch.utils.data.DistributedSampler(range(n), replicas, rank, shuffle=False,
                                                     drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs) == len(list(ours))


def test_shuffled_replicas_cover_the_dataset_once_per_epoch():
    shares = [list(DistributedSampler(range(12), 3, r, seed=4)) for r in range(3)]
    assert sorted(sum(shares, [])) == list(range(12))
    s = DistributedSampler(range(12), 3, 0, seed=4)
    first = list(s)
    assert list(s) == first  # (same epoch, same order)
    s.set_epoch(1)
    assert list(s) != first


def test_errors_and_loader_use():
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"):
        DistributedSampler(range(10), num_replicas=3, rank=3)
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler(range(10))
    ds = tg.utils.data.TensorDataset(tg.arange(10))
    loader = tg.utils.data.DataLoader(ds, batch_size=2, sampler=tg.utils.data.DistributedSampler(
        ds, num_replicas=2, rank=1, shuffle=False))
    assert [b[0].tolist() for b in loader] == [[1, 3], [5, 7], [9]]
