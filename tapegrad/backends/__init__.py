"""``tg.backends``, as ``torch.backends``: the switches that PyTorch programs set for the
libraries under it (``cudnn.benchmark``, ``cudnn.deterministic``, ``cuda.matmul.allow_tf32``)
and the questions they ask (``mps.is_available()``). tapegrad uses neither cuDNN nor MPS nor
TF32: the switches are kept and read back, and change nothing.

Example:
    >>> import tapegrad as tg
    >>> tg.backends.mps.is_available()
    False
    >>> tg.backends.cudnn.benchmark
    False
"""

from . import cuda, cudnn, mps  # noqa: F401 (tg.backends.<name>)

__all__ = ["cuda", "cudnn", "mps"]
