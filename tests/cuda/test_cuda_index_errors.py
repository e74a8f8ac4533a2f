"""Bad indices of CUDA tensors raise PyTorch's IndexErrors (as CPU tensors do), not NumPy's;
on numba-cuda's simulator (see conftest.py)."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg

KEYS = {
    "int": lambda t: 2,
    "int_in_tuple": lambda t: (0, 5),
    "negative": lambda t: -3,
    "too_many": lambda t: (0, 0, 0, 0),
    "slice_and_too_many": lambda t: (slice(None), 0, 0, 0),
    "index_tensor": lambda t: t([0, 2]),
    "list": lambda t: [0, 1, 2],
    "mask_shape": lambda t: t([True, False, True]),
    "mask_and_int": lambda t: (0, t([True, False])),
}


@pytest.mark.parametrize("name", sorted(KEYS))
def test_bad_keys_raise_pytorchs_index_error(name, torch):
    data = np.zeros((2, 3, 4))
    with pytest.raises(IndexError) as expected:
        torch.tensor(data)[KEYS[name](torch.tensor)]
    for device in ("cpu", "cuda"):
        with pytest.raises(IndexError) as got:
            tg.tensor(data, device=device)[KEYS[name](lambda v: tg.tensor(v, device=device))]
        assert str(got.value) == str(expected.value), device


SHAPE_ERRORS = {
    "argmax_of_empty": lambda t: t(np.zeros((0, 3))).argmax(),
    "argmin_of_empty": lambda t: t(np.zeros(0)).argmin(),
    "argmax_empty_dim": lambda t: t(np.zeros((0, 3))).argmax(0),
    "vector_at_vector": lambda t: t(np.ones(4)) @ t(np.ones(3)),
    "matrix_at_vector": lambda t: t(np.ones((2, 4))) @ t(np.ones(3)),
    "vector_at_matrix": lambda t: t(np.ones(4)) @ t(np.ones((3, 2))),
    "batch_at_matrix": lambda t: t(np.ones((2, 3, 4))) @ t(np.ones((3, 2))),
    "batch_at_batch": lambda t: t(np.ones((2, 3, 4))) @ t(np.ones((2, 3, 2))),
    "broadcast_batches": lambda t: t(np.ones((2, 1, 3, 4))) @ t(np.ones((5, 3, 2))),
}


@pytest.mark.parametrize("name", sorted(SHAPE_ERRORS))
def test_reduction_and_matmul_shape_errors(name, torch):
    with pytest.raises((IndexError, RuntimeError)) as expected:
        SHAPE_ERRORS[name](torch.tensor)
    for device in ("cpu", "cuda"):
        with pytest.raises(type(expected.value)) as got:
            SHAPE_ERRORS[name](lambda v: tg.tensor(v, device=device))
        assert str(got.value) == str(expected.value), device
