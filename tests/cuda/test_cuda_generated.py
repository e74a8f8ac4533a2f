"""The committed CUDA kernels module is what the generator writes for today's registry (no
numba-cuda needed: the generator only writes text)."""

import tapegrad  # noqa: F401  (fills the op registry)
from tapegrad.engine.cuda import _gen_kernels


def test_generated_cuda_kernels_are_up_to_date():
    assert _gen_kernels.TARGET.read_text() == _gen_kernels.render(), (
        "engine/cuda/_kernels_generated.py is stale: run "
        "python -m tapegrad.engine.cuda._gen_kernels")


def test_generated_kernels_are_cached_and_paste_python_forwards():
    text = _gen_kernels.render()
    assert "@cuda.jit(cache=True)\ndef ew_vjp(" in text
    assert "@cuda.jit(device=True)\ndef _pyf_" in text  # sigmoid, relu, maximum...
    assert "exec(" not in text
