"""tg.load of a torch file whose tensor record reaches outside its storage (a damaged or
hostile file) raises torch.load's errors instead of viewing memory outside the storage."""

import collections
import io
import pickle
import zipfile

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


class _Storage:
    pass


_STORAGE = _Storage()


class _Record:
    def __init__(self, offset, size, stride):
        self.args = (offset, size, stride)

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2,
                (_STORAGE, *self.args, False, collections.OrderedDict()))


def _torch_file(offset, size, stride):
    """A torch.save-format zip of one float32 tensor record over a 4-element storage."""
    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return ("storage", torch.FloatStorage, "0", "cpu", 4) if obj is _STORAGE else None

    pkl = io.BytesIO()
    Pickler(pkl, protocol=2).dump(_Record(offset, size, stride))
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("archive/data.pkl", pkl.getvalue())
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/version", "3\n")
        z.writestr("archive/data/0", np.arange(4, dtype=np.float32).tobytes())
    return b.getvalue()


@pytest.mark.parametrize("offset,size,stride", [
    (0, (100000,), (1,)), (10, (2,), (1,)), (3, (2,), (1,)), (0, (2, 2), (3, 1)),
    (0, (2,), (-1,)), (-1, (2,), (1,))])
def test_record_outside_storage_raises_torch_error(offset, size, stride):
    data = _torch_file(offset, size, stride)
    with pytest.raises(RuntimeError) as ref:
        torch.load(io.BytesIO(data), weights_only=True)
    with pytest.raises(RuntimeError) as got:
        tg.load(io.BytesIO(data))
    assert str(got.value) == str(ref.value)


@pytest.mark.parametrize("offset,size,stride", [
    (0, (4,), (1,)), (1, (3,), (1,)), (0, (2, 2), (2, 1)), (0, (2, 2), (1, 2)), (7, (0,), (1,)),
    (0, (3, 0), (1, 1))])
def test_record_inside_storage_loads_as_torch(offset, size, stride):
    data = _torch_file(offset, size, stride)
    ref = torch.load(io.BytesIO(data), weights_only=True)
    got = tg.load(io.BytesIO(data))
    assert tuple(got.shape) == tuple(ref.shape)
    np.testing.assert_array_equal(got.numpy(), ref.numpy())
