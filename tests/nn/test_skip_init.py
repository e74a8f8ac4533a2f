"""tg.nn.utils.skip_init (it was missing): the module PyTorch's makes (names, shapes, dtypes,
requires_grad), its refusals, and the generator left where it was."""

import numpy as np
import pytest

import tapegrad as tg


def _made(lib, cls, *args, **kw):
    lib.manual_seed(0)
    m = lib.nn.utils.skip_init(getattr(lib.nn, cls), *args, **kw)
    after = lib.rand(4).numpy()
    lib.manual_seed(0)
    untouched = lib.rand(4).numpy()
    np.testing.assert_array_equal(after, untouched)  # no draws
    return [(n, tuple(p.shape), str(p.dtype).split(".")[-1], p.requires_grad,
             type(p).__name__) for n, p in (*m.named_parameters(), *m.named_buffers())]


@pytest.mark.parametrize("cls,args,kw", [
    ("Linear", (5, 3), {}), ("Linear", (), dict(in_features=2, out_features=4, bias=False)),
    ("Conv2d", (2, 3, 3), dict(dtype="float64")), ("GRUCell", (3, 4), {}),
    ("BatchNorm1d", (3,), {}), ("Embedding", (10, 2), dict(padding_idx=0))])
def test_skip_init_as_torch(torch, cls, args, kw):
    tkw = dict(kw, dtype=getattr(torch, kw["dtype"])) if "dtype" in kw else kw
    tgkw = dict(kw, dtype=getattr(tg, kw["dtype"])) if "dtype" in kw else kw
    old = tg.get_default_dtype()
    tg.set_default_dtype(tg.float32)  # (PyTorch's default, for the dtypes to compare)
    try:
        assert _made(tg, cls, *args, **tgkw) == _made(torch, cls, *args, **tkw)
    finally:
        tg.set_default_dtype(old)


def test_skip_init_refusals_as_torch(torch):
    for arg in (int, "ReLU", 5):
        outcomes = []
        for lib in (torch, tg):
            cls = getattr(lib.nn, arg) if isinstance(arg, str) else arg
            with pytest.raises((RuntimeError, TypeError)) as info:
                lib.nn.utils.skip_init(cls)
            outcomes.append((type(info.value), str(info.value).replace("torch.nn", "tapegrad.nn")))
        assert outcomes[1][0] is outcomes[0][0]
        if arg is not int:
            assert outcomes[1][1] == outcomes[0][1]
