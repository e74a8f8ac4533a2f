"""``tapegrad.func``: function transforms with ``torch.func``'s names.

``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``linearize``, ``jacrev``, ``jacfwd``,
``hessian``, ``vmap`` (and JAX's ``value_and_grad``); ``functional_call`` and
``stack_module_state`` make modules functions of their (stacked) parameters, and
``replace_all_batch_norm_modules_`` drops batch norm's running statistics for ``vmap``.
Arguments and outputs may be pytrees (nested tuples, lists, dicts of tensors, arrays and
numbers); transforms compose. Forward mode (``jvp``, ``jacfwd``) is the double-vjp trick on the
re-taping sweep.

Example:
    >>> import tapegrad as tg
    >>> tg.func.grad(tg.func.grad(lambda a: a ** 3))(2.0)  # numbers in, numbers out
    12.0
"""

from .pytree import tree_flatten, tree_map, tree_unflatten
from .custom import custom_jvp, custom_vjp
from .functional_call import functional_call
from .stacking import stack_module_state
from .batch_norm import replace_all_batch_norm_modules_
from .jacobians import hessian, jacfwd, jacrev
from .transforms import grad, grad_and_value, jvp, linearize, value_and_grad, vjp
from .vmap import vmap

__all__ = ["grad", "grad_and_value", "value_and_grad", "vjp", "jvp", "linearize", "jacrev",
           "jacfwd", "hessian", "vmap", "custom_vjp", "custom_jvp", "tree_flatten",
           "tree_unflatten", "tree_map", "functional_call", "stack_module_state",
           "replace_all_batch_norm_modules_"]


def _install():
    """Hand the autograd layer what it needs from here (it may not import upwards)."""
    from .. import autograd
    from ..autograd import functional
    from ..autograd import function
    from ..ops import elementwise
    from .batched import _running
    from .function_vmap import lowered_transforms, transforms_active, vmapped_apply
    from .vmap import batched_grad, dispatch_unary

    autograd._batched_grad = batched_grad
    autograd._transforms_active = transforms_active
    function._lowered_transforms = lowered_transforms
    function._vmapped_apply = vmapped_apply
    function._vmap_running = elementwise._vmap_running = _running
    elementwise._vmap_dispatch = dispatch_unary
    functional._vectorized_jacobian = _functional_jacobian
    _random_functions_batch_aware()
    import sys

    from . import batching_creation

    batching_creation.install(sys.modules[__name__.rsplit(".", 1)[0]])


def _random_functions_batch_aware():
    """``tg.rand``, ``randn``, ``randint``, ``rand_like``, ``randn_like``,
    ``nn.functional.dropout``, and ``bernoulli``/``normal`` of tensors honour ``vmap``'s
    ``randomness`` (``func/randomness.py``)."""
    import sys

    from .. import creation
    from ..nn import functional as nn_functional
    from . import randomness

    fns = randomness.batch_aware(creation.rand, creation.randn, creation.randint,
                                 creation.rand_like, creation.randn_like, nn_functional.dropout)
    top = sys.modules[__name__.rsplit(".", 1)[0]]  # the package, still being initialised
    for f in fns[:-1]:
        setattr(creation, f.__name__, f)
        setattr(top, f.__name__, f)
    nn_functional.dropout = fns[-1]
    from .. import torch_names

    names = torch_names.FUNCTIONS
    names["randperm"], names["multinomial"] = randomness.batch_aware_sampling(
        names["randperm"], names["multinomial"])
    from ..tensor import Tensor

    Tensor.multinomial = names["multinomial"]  # (p.multinomial(n) too)
    from .batched import RULES

    RULES.update(randomness.SAMPLER_RULES)


def _functional_jacobian(func, inputs, strategy):
    """``autograd.functional.jacobian(vectorize=True)``: jacrev or jacfwd over every input."""
    from ..tensor import Tensor

    jf = jacfwd if strategy == "forward-mode" else jacrev
    box = {}

    def f(*xs):
        out = func(*xs)
        box["tuple"] = isinstance(out, tuple)
        if box["tuple"]:
            for i, o in enumerate(out):
                if not isinstance(o, Tensor):
                    raise TypeError("The outputs of the user-provided function given to "
                                    "jacobian must be either a Tensor or a tuple of Tensors but "
                                    f"the value at index {i} has type {type(o)}.")
        return out

    res = jf(f, argnums=tuple(range(len(inputs))))(*inputs)
    return box["tuple"], (tuple(res) if box["tuple"] else (res,))


_install()
