"""``default_collate`` keeps each field's samples as zip gives them: strings inside collated
tuples or lists come back as a tuple (PyTorch's type), strings of a dict field as a list."""

import tapegrad as tg
from tapegrad.utils.data import DataLoader, default_collate


def _collate_program(lib):
    collate = lib.utils.data.default_collate
    from_tuples = collate([(1, "a"), (2, "b")])
    from_lists = collate([[1.5, "x"], [2.5, "y"]])
    from_dicts = collate([{"s": "p"}, {"s": "q"}])
    loader = lib.utils.data.DataLoader([(i, f"n{i}") for i in range(3)], batch_size=2)
    batches = [b[1] for b in loader]
    return [(type(v).__name__, v) for v in (from_tuples[1], from_lists[1], from_dicts["s"],
                                            *batches)]


def test_strings_keep_the_container_zip_makes():
    assert _collate_program(tg) == [("tuple", ("a", "b")), ("tuple", ("x", "y")),
                                    ("list", ["p", "q"]), ("tuple", ("n0", "n1")),
                                    ("tuple", ("n2",))]
    assert default_collate(["a", "b"]) == ["a", "b"]
    assert [type(b).__name__ for b in DataLoader(["a", "b", "c"], batch_size=2)] == ["list"] * 2


def test_strings_match_torch(torch):
    assert _collate_program(tg) == _collate_program(torch)
