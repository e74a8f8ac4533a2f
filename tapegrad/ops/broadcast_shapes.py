"""``broadcast_shapes``: the shape a set of shapes broadcasts to, with PyTorch's checks and
words (its Python reference implementation: dims compared from the last, each argument in
turn against the common shape so far)."""

from ..size import Size


def broadcast_shapes(*shapes):
    """The shape all ``shapes`` (ints or sequences of ints) broadcast to, as a Size."""
    shapes = tuple((s,) if isinstance(s, int) else s for s in shapes if s is not None)
    for s in shapes:
        if not hasattr(s, "__len__") or not hasattr(s, "__getitem__"):
            raise RuntimeError(f"Input shapes should be of type ints, a tuple of ints, or a list "
                               f"of ints, got {s}")
    common = [1] * max((len(s) for s in shapes), default=0)
    for k, s in enumerate(shapes):
        for i in range(-1, -1 - len(s), -1):
            if s[i] == common[i]:
                continue
            if common[i] == 1:
                if s[i] < 0:
                    raise ValueError("Attempting to broadcast a dimension with negative length!")
                common[i] = s[i]
            if s[i] != 1 and s[i] != common[i]:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {s[i]} at {i}! "
                                   f"Mismatching argument at index {k} had {s}; but expected "
                                   f"shape should be broadcastable to {common}")
    return Size(int(n) for n in common)


def infer_size(*shapes):
    """The shape ``shapes`` broadcast to, with the binary ops' words on a mismatch ('The size
    of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 1', as
    PyTorch's C++ ``infer_size`` that broadcast_tensors, cross and masked_fill_ use)."""
    from .shapes import broadcast_shapes as pair

    out = ()
    for s in shapes:
        out = pair(out, (s,) if isinstance(s, int) else tuple(s))
    return out
