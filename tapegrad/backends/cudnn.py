"""``tg.backends.cudnn``: PyTorch's cuDNN switches, kept and read back. tapegrad does not use
cuDNN (its convolutions are its own, deterministic), so they change nothing."""

enabled = True
benchmark = False
benchmark_limit = 10
deterministic = False
allow_tf32 = True


def is_available():
    """Whether cuDNN can be used: never, tapegrad does not call it."""
    return False


def version():
    """cuDNN's version: None, as PyTorch's where it has no cuDNN."""
    return None
