"""``tapegrad.func``: function transforms with ``torch.func``'s names.

``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``linearize``, ``jacrev``, ``jacfwd``,
``hessian``, ``vmap`` (and JAX's ``value_and_grad``). Arguments and outputs may be pytrees
(nested tuples, lists, dicts of tensors, arrays and numbers); transforms compose. Forward mode
(``jvp``, ``jacfwd``) is the double-vjp trick on the re-taping sweep.

Example:
    >>> import tapegrad as tg
    >>> tg.func.grad(tg.func.grad(lambda a: a ** 3))(2.0)
    tensor(12.)
"""

from .pytree import tree_flatten, tree_map, tree_unflatten
from .transforms import (grad, grad_and_value, hessian, jacfwd, jacrev, jvp, linearize,
                         value_and_grad, vjp)
from .vmap import vmap

__all__ = ["grad", "grad_and_value", "value_and_grad", "vjp", "jvp", "linearize", "jacrev",
           "jacfwd", "hessian", "vmap", "tree_flatten", "tree_unflatten", "tree_map"]


def _install():
    """Hand the autograd layer what it needs from here (it may not import upwards)."""
    from .. import autograd
    from .vmap import batched_grad

    autograd._batched_grad = batched_grad


_install()
