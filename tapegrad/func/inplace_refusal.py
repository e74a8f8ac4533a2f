"""PyTorch's words when an in-place op writes a batched operand into a tensor vmap does not
map over (``y.mul_(a)``, ``y[i] = a``, ``y += a`` with ``a`` batched, ``y`` captured): its
batching rules word it three ways, by op, and its ``add_`` family fails on the broadcast."""

from ..tensor import Tensor

# PyTorch's binary in-place batching rule: "inplace arithmetic"
_ARITHMETIC = frozenset("sub_ mul_ div_ true_divide_ multiply_ divide_ clamp_min_ clamp_max_ "
                        "copy_ logical_and_ logical_or_ logical_xor_".split())
_OWN_NAME = frozenset("fill_ index_fill_ index_put_ index_add_ scatter_add_ "
                      "scatter_reduce_".split())  # (rules of their own: the name as is)
_BROADCAST = frozenset("add_ copysign_ atan2_ arctan2_".split())  # (decomposed: shapes differ)


def _op_name(frame):
    """The in-place method the user called, from the first tapegrad frame below the user's."""
    name, loc = frame.f_code.co_name, frame.f_locals
    if name in ("method", "fn"):  # (a method made from an op: its closure holds the op)
        name = getattr(loc.get("f"), "__name__", name)
    elif name == "either":  # (masked_fill_, index_fill_, index_put_)
        name = getattr(loc.get("method"), "__name__", name).lstrip("_")
        if name == "masked_fill_":
            args = loc.get("args") or ()
            value = args[1] if len(args) > 1 else (loc.get("kwargs") or {}).get("value")
            return name if isinstance(value, Tensor) else "copy_"
    elif name == "compare_into":
        name = getattr(loc.get("op"), "__name__", name)
    elif name == "setitem":
        key = loc.get("key")
        arrays = any(isinstance(k, (Tensor, list)) or hasattr(k, "__array__")
                     for k in (key if isinstance(key, tuple) else (key,)))
        return "index_put_" if arrays else "copy_"
    return name if name.endswith("_") else name + "_"


def method_name(name, args):
    """The name PyTorch's refusal gives in-place method ``name`` (``mul_``) called on a
    batched tensor with ``args``: ``masked_fill_`` of a number is its ``copy_``'s."""
    if name == "masked_fill_" and not (len(args) > 1 and isinstance(args[1], Tensor)):
        return "copy_"
    return name


def message(frames, level, size):
    """The refusal for the user's call in ``frames`` (below the user's last frame), at vmap
    ``level`` over ``size`` examples."""
    target = next((f.f_locals["x"] for f in frames if isinstance(f.f_locals.get("x"), Tensor)),
                  None)
    return text(_op_name(frames[0]), level, size, None if target is None else target.shape)


def text(name, level, size, shape=None):
    """The refusal of in-place op ``name`` (``mul_``) into a tensor of ``shape`` not batched at
    vmap ``level`` (over ``size`` examples)."""
    if name in _BROADCAST and shape is not None:
        shape = list(shape)
        return f"output with shape {shape} doesn't match the broadcast shape {[size] + shape}"
    label, where = "inplace arithmetic", "in a vmap"
    if name not in _ARITHMETIC:
        label = name if name in _OWN_NAME else f"aten::{name}"
        where = "in a vmap" if name in _OWN_NAME else f"at level {level}"
    return (f"vmap: {label}(self, *extra_args) is not possible because there exists a Tensor "
            "`other` in extra_args that has more elements than `self`. This happened due to "
            f"`other` being vmapped over but `self` not being vmapped over {where}. Please try "
            f"to use out-of-place operators instead of {label}.")
