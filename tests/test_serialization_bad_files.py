"""tg.load refuses what is not a save file with torch.load's exception types: EOFError for an
empty file, pickle.UnpicklingError for bytes that do not start a zip archive (torch reads them
as a legacy pickle), RuntimeError for a truncated or damaged archive."""

import io
import pickle

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _torch_file():
    buf = io.BytesIO()
    torch.save({"a": torch.arange(10.0), "b": [1, 2]}, buf)
    return buf.getvalue()


def _tg_file():
    buf = io.BytesIO()
    tg.save({"a": tg.arange(10.0), "b": [1, 2]}, buf)
    return buf.getvalue()


CASES = {
    "empty": lambda: b"",
    "random": lambda: b"\x00" + np.random.default_rng(0).bytes(300),
    "text": lambda: b"# a text file, not a checkpoint\nx = 1\n",
    "json": lambda: b'{"weights": [1, 2, 3]}\n',
    "truncated torch file": lambda: _torch_file()[: len(_torch_file()) // 2],
    "truncated tapegrad file": lambda: _tg_file()[: len(_tg_file()) // 2],
    "zip header only": lambda: _torch_file()[:10],
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("as_path", [False, True])
def test_bad_file_exception_types_match_torch(case, as_path, tmp_path):
    data = CASES[case]()
    with pytest.raises(Exception) as want:
        torch.load(io.BytesIO(data), weights_only=True)
    assert want.type in (EOFError, pickle.UnpicklingError, RuntimeError)
    if as_path:
        path = tmp_path / "f.pt"
        path.write_bytes(data)
        src = str(path)
    else:
        src = io.BytesIO(data)
    with pytest.raises(Exception) as got:
        tg.load(src)
    assert got.type is want.type  # (not a subclass: pytest.raises alone would take one)


def test_damaged_entry_is_runtime_error():
    data = bytearray(_tg_file())
    at = data.index(b"\x93NUMPY")  # a byte inside an array entry: its CRC no longer matches
    data[at + 60] ^= 0xFF
    with pytest.raises(RuntimeError):
        tg.load(io.BytesIO(bytes(data)))


def test_file_object_read_from_its_position():
    buf = io.BytesIO()
    buf.write(b"header")
    tg.save(tg.arange(3.0), buf)
    buf.seek(6)
    assert tg.load(buf).tolist() == [0.0, 1.0, 2.0]
