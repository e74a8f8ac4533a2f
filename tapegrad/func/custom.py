"""``custom_vjp`` and ``custom_jvp``: a function with your own derivative rule (JAX style).

``f = custom_vjp(fun); f.defvjp(fwd, bwd)``: ``fwd(*args) -> (out, residuals)``,
``bwd(residuals, g) -> one cotangent per argument``. ``f = custom_jvp(fun); f.defjvp(rule)``:
``rule(primals, tangents) -> (out, tangent_out)``, linear in the tangents. Both become a
custom ``Function`` that batches under ``vmap`` op by op (``generate_vmap_rule``). Forward mode
calls a JVP rule as the Function's ``jvp``; its reverse derivative is taken by differentiating
the rule with respect to its tangents (the rule is linear in them), so a ``custom_jvp``
function works with every transform.
"""

import functools

from .. import grad_mode as _gm
from ..autograd import Function
from ..autograd import grad as _grad
from ..tensor import Tensor

__all__ = ["custom_vjp", "custom_jvp"]


class custom_vjp:  # noqa: N801 (JAX's name)
    """``fun`` whose reverse derivative is ``bwd`` (see the module doc).

    Example:
        >>> import tapegrad as tg
        >>> f = tg.custom_vjp(lambda x: x.sin())
        >>> f.defvjp(lambda x: (x.sin(), x.cos()), lambda c, g: (2 * g * c,))
        >>> tg.grad(lambda x: f(x).sum())(tg.tensor([0.0]))
        tensor([2.])
    """

    def __init__(self, fun):
        functools.update_wrapper(self, fun)
        self.fun, self.fwd, self.bwd = fun, None, None

    def defvjp(self, fwd, bwd):
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args):
        if self.fwd is None:
            raise AttributeError("No VJP defined for custom_vjp function "
                                 f"{getattr(self.fun, '__name__', 'f')} using defvjp.")
        fwd, bwd, n = self.fwd, self.bwd, len(args)

        class _CustomVJP(Function):
            generate_vmap_rule = True  # fwd and bwd are tapegrad code: their ops batch

            @staticmethod
            def forward(ctx, *xs):
                out, ctx.residuals = fwd(*xs)
                return out

            @staticmethod
            def backward(ctx, *gs):
                res = bwd(ctx.residuals, gs[0] if len(gs) == 1 else gs)
                res = res if isinstance(res, tuple) else (res,)
                if len(res) != n:
                    raise RuntimeError(f"Custom VJP bwd rule must produce a tuple of length "
                                       f"{n} (one cotangent per argument), got {len(res)}")
                return res

        _CustomVJP._backward_name = f"{getattr(self.fun, '__name__', 'f')}Backward"
        return _CustomVJP.apply(*args)


class custom_jvp:  # noqa: N801 (JAX's name)
    """``fun`` whose forward derivative is ``rule`` (see the module doc).

    Example:
        >>> import tapegrad as tg
        >>> f = tg.custom_jvp(lambda x: x.exp())
        >>> f.defjvp(lambda p, t: (p[0].exp(), 3 * t[0]))
        >>> tg.func.jvp(f, (tg.tensor([0.0]),), (tg.tensor([1.0]),))[1]
        tensor([3.])
    """

    def __init__(self, fun):
        functools.update_wrapper(self, fun)
        self.fun, self.rule = fun, None

    def defjvp(self, rule):
        self.rule = rule

    def __call__(self, *args):
        if self.rule is None:
            raise AttributeError("No JVP defined for custom_jvp function "
                                 f"{getattr(self.fun, '__name__', 'f')} using defjvp.")
        fun, rule = self.fun, self.rule
        held = {}

        class _CustomJVP(Function):
            generate_vmap_rule = True  # fun and the rule are tapegrad code: their ops batch

            @staticmethod
            def forward(ctx, *xs):
                held["xs"] = xs  # the inputs themselves: a create_graph backward needs them
                return fun(*xs)

            @staticmethod
            def jvp(ctx, *ts):  # forward mode calls the rule itself
                return rule(tuple(held["xs"]), ts)[1]

            @staticmethod
            def backward(ctx, *gs):
                create = _gm.is_grad_enabled()
                xs = [x if create or not isinstance(x, Tensor) else x.detach()
                      for x in held["xs"]]
                from .vmap import like  # batched zeros for batched inputs

                ts = [like(x, 0.0, requires_grad=True) if isinstance(x, Tensor) and
                      x.dtype.kind == "f" else None for x in xs]
                with _gm.enable_grad():
                    _, tout = rule(tuple(xs), tuple(ts))
                    touts = tout if isinstance(tout, tuple) else (tout,)
                    live = [t for t in ts if t is not None]
                    pairs = [(o, g) for o, g in zip(touts, gs) if o._rg]
                    got = _grad([o for o, _ in pairs], live, [g for _, g in pairs],
                                allow_unused=True, create_graph=create) if pairs else \
                        (None,) * len(live)
                it = iter(got)
                return tuple(next(it) if t is not None else None for t in ts)

        _CustomJVP._backward_name = f"{getattr(self.fun, '__name__', 'f')}Backward"
        return _CustomJVP.apply(*args)
