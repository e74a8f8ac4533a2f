"""The CUDA backend of the engine: kernels generated from the op registry (``kernels``) and
the device sweep (``sweep.DeviceSweep``). Numbers only, like the rest of the engine; numba.cuda
is imported on first use (``tapegrad.device.cuda_api``), never by ``import tapegrad``."""
