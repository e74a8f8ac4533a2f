"""PyTorch's node names of the in-place shape ops (``x.t_()`` is ``TBackward1``,
``x.unsqueeze_(0)`` ``UnsqueezeBackward1``, ``x.transpose_(0, 1)`` ``TransposeBackward1``,
``x.squeeze_()`` ``SqueezeBackward3``, with dims 4 and 5): tapegrad records them as the view op
that gives the new shape, named as its out-of-place node."""

import re

from .node_names import name_node, named

_OUT_OF_PLACE = re.compile(r"(T|Unsqueeze|Transpose|Squeeze)Backward(\d)")


def named_in_place(shape_op):
    """``shape_op`` (an in-place shape op) whose recorded view is named as PyTorch's in-place
    node; a call that recorded nothing new keeps the tensor's node."""
    def fn(x, *args, **kwargs):
        before = (x._seg, x._rec)
        r = shape_op(x, *args, **kwargs)
        if r._seg is None or (r._seg, r._rec) == before or not r.requires_grad:
            return r
        m = _OUT_OF_PLACE.fullmatch(r.grad_fn.name())
        if m:
            name = f"{m[1]}Backward{int(m[2]) + (3 if m[1] == 'Squeeze' else 1)}"
            entry = named(r._seg, r._rec)
            if entry is None:
                name_node(r, name)
            else:
                r._seg.node_names[r._rec] = (name,) + tuple(entry[1:])
        return r

    fn.__name__ = fn.__qualname__ = shape_op.__name__
    fn.__doc__ = shape_op.__doc__
    return fn
