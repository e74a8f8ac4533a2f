"""DataLoader / sampler / dataset arguments PyTorch refuses are refused here with its error."""

import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _iterable(lib):
    class Stream(lib.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(3))
    return Stream()


CASES = {
    "random_sampler_replacement": lambda lib: lib.utils.data.RandomSampler(range(3),
                                                                          replacement=1),
    "mp_context_without_workers": lambda lib: lib.utils.data.DataLoader(
        range(3), multiprocessing_context="spawn"),
    "concat_iterable": lambda lib: lib.utils.data.ConcatDataset([_iterable(lib)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_refused_as_torch(name):
    with pytest.raises(Exception) as theirs:
        CASES[name](torch)
    with pytest.raises(type(theirs.value)) as ours:
        CASES[name](tg)
    assert str(ours.value) == str(theirs.value)


def test_loader_iterator_has_len_as_torch():
    def run(lib):
        ds = lib.utils.data.TensorDataset(lib.arange(10))
        it = iter(lib.utils.data.DataLoader(ds, batch_size=3, drop_last=True))
        first = next(it)[0].tolist()
        return len(it), first, [b[0].tolist() for b in it], iter(it) is it
    assert run(tg) == run(torch)


@pytest.mark.parametrize("batch", [[object(), object()], "strings"])
def test_collate_refusal_message_as_torch(batch):
    import numpy as np

    if batch == "strings":
        batch = [np.array(["a"]), np.array(["b"])]
    with pytest.raises(TypeError) as theirs:
        torch.utils.data.default_collate(batch)
    with pytest.raises(TypeError) as ours:
        tg.utils.data.default_collate(batch)
    assert str(ours.value) == str(theirs.value)


def test_batched_fetch_through_getitems_as_torch():
    def run(lib):
        calls = []

        class Batched(lib.utils.data.Dataset):
            def __len__(self):
                return 7

            def __getitem__(self, i):
                calls.append(("one", i))
                return i

            def __getitems__(self, indices):
                calls.append(("many", list(indices)))
                return [10 * i for i in indices]

        ds = Batched()
        out = [b.tolist() for b in lib.utils.data.DataLoader(ds, batch_size=3)]
        sub = lib.utils.data.Subset(ds, [6, 5, 4, 3])
        out += [b.tolist() for b in lib.utils.data.DataLoader(sub, batch_size=2)]
        out += [lib.utils.data.Subset(list(range(5)), [4, 2]).__getitems__([1, 0])]
        return out, calls
    assert run(tg) == run(torch)
