"""``tg.backends.mps``: Apple's Metal backend, which tapegrad does not have."""


def is_available():
    """Whether MPS tensors can be used: never in tapegrad."""
    return False


def is_built():
    """Whether tapegrad was built with MPS: no."""
    return False
