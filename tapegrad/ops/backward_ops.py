"""Ops that derivative formulas record under ``create_graph``.

A re-taped derivative is a graph of its own, differentiated again for Hessians; a formula
spelled out in several ops costs a record (and a later sweep step) per op. These are the
formulas PyTorch also records as one node (tanh's, sigmoid's), each a binary op with its own
first and second derivatives: ``x`` is the incoming gradient, ``y`` the value the forward
saved. ``depends`` keeps a derivative that only compares saved values (relu's) connected to
them, as PyTorch's graph does; ``link`` marks an op built of several records as such a node.
"""

import weakref

import numpy as np

from ..registry import Op, defop
from ..tensor import _make, _wrap
from . import record as R
from .elementwise import _binary

_DEPENDS = int(Op.DEPENDS)


def _tanh_backward_np(g, out):
    return g * (1.0 - out * out)


def _tanh_backward_py(g, out):
    return g * (1.0 - out * out)


# PyTorch's tanh_backward(grad, output) and its derivatives (TanhBackwardBackward0)
tanh_backward = _binary(Op.TANH_BACKWARD, "tanh_backward", _tanh_backward_np, _tanh_backward_py,
                        ("x", "y"), "g * (1.0 - y * y)", "g * (-2.0 * y * x)",
                        "TanhBackwardBackward0")


def _sigmoid_backward_np(g, out):
    return g * out * (1.0 - out)


def _sigmoid_backward_py(g, out):
    return g * out * (1.0 - out)


# PyTorch's sigmoid_backward(grad, output) and its derivatives (SigmoidBackwardBackward0)
sigmoid_backward = _binary(Op.SIGMOID_BACKWARD, "sigmoid_backward", _sigmoid_backward_np,
                           _sigmoid_backward_py, ("x", "y"), "g * y * (1.0 - y)",
                           "g * x * (1.0 - 2.0 * y)", "SigmoidBackwardBackward0")


# ---- a derivative's value depending on saved values with a zero derivative ----------------

def _depends_vjp_np(g, inputs, out, shapes, name=None, unused=False):
    g = np.asarray(g)
    return (g,) + tuple(None if unused else np.zeros(s, g.dtype) for s in shapes)


def _depends_vjp(g, inputs, out, shapes, name=None, unused=False):
    return (g,) + tuple(None if unused else _make(np.zeros(s, g.dtype)) for s in shapes)


def _depends_jvp_np(tangents, inputs, out, shapes, name=None, unused=False):
    return 0.0 if tangents[0] is None else tangents[0]


defop(Op.DEPENDS, "_depends", "python", "ThresholdBackwardBackward0", vjp=_depends_vjp,
      vjp_np=_depends_vjp_np, jvp_np=_depends_jvp_np)


def depends(value, deps, name=None, unused=False, saves=False):
    """``value`` (a CPU tensor that requires no grad) recorded as depending on the tensors
    ``deps`` with a zero derivative.

    Under ``create_graph`` PyTorch records a derivative as an op whose inputs include the values
    its formula reads (relu's ``threshold_backward(grad, result)``), so the derivative requires
    grad whenever they do, with zero gradients for them, also where the formula only compares
    them (relu, hardtanh, a max pool's scatter): a gradient penalty on a ReLU layer then
    differentiates to zeros, not to an error. The re-taping sweep links such values here.
    ``name``: the node's name (``grad_fn``); ``unused``: the deps get no gradient at all (None,
    as PyTorch's double backward of ``grid_sample`` gives its input), not zeros. ``saves``:
    ``deps`` and the result count as saved by the node (changing one in place raises at
    backward), as PyTorch's node of a composition keeps them (hypot's)."""
    params = {"shapes": tuple(tuple(d.shape) for d in deps)}
    if name is not None:
        params["name"] = name
    if unused:
        params["unused"] = True
    return R.python_result(_wrap(value._data), _DEPENDS, (value,) + tuple(deps), params=params,
                           save_inputs=range(1, len(deps) + 1) if saves else (), save_out=saves)


# segment -> {record id: (node name or None, double-backward name or None, unused)}: the
# records ``link`` marked. Kept beside the tape (weakly: it goes with its segment), so
# recording an op that is not marked costs nothing.
_links = weakref.WeakKeyDictionary()


def link(t, name=None, grad_name=None, unused=False):
    """Mark ``t``'s op, built of several records, as one node of PyTorch's graph: its derivative
    is an op of the op's inputs (``softshrink_backward(grad, self)``, a max pool's
    ``max_pool2d_with_indices_backward(grad, self, ...)``), so under ``create_graph`` the
    gradient of a constant seed still requires grad when the input does (zero second
    derivative), where the composition's own rules (selects of a constant mask, scatters)
    would give a constant. The re-taping sweep links the VJP of ``t``'s record to that
    record's inputs. ``name``: PyTorch's name for ``t.grad_fn`` (None: the record's own);
    ``grad_name``: the derivative's (default ``<name minus 0>Backward0``, PyTorch's rule);
    ``unused``: the second derivative for the input is None, not zeros. Returns ``t``."""
    seg = t._seg
    if seg is not None:
        recs = _links.get(seg)
        if recs is None:
            recs = _links[seg] = {}
        recs[t._rec] = (name, grad_name, unused)
    return t


def links_of(seg):
    """``{record id: (name, grad_name, unused)}`` of the records of ``seg`` that ``link``
    marked, or None."""
    return _links.get(seg)


def double_name(name):
    """PyTorch's name of the derivative node of the node ``name``: ``SoftshrinkBackward0`` ->
    ``SoftshrinkBackwardBackward0``."""
    return name[:-1] + "Backward0" if name.endswith("Backward0") else name
