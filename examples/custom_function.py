"""A custom Function: your own forward and backward, checked, and differentiated twice.

Run: python examples/custom_function.py
"""

import numpy as np

import tapegrad as tg


class SoftClip(tg.autograd.Function):
    """y = c * tanh(x / c): a smooth clip to (-c, c). Non-tensor argument ``c``."""

    @staticmethod
    def forward(ctx, x, c):
        y = c * tg.tanh(x / c)
        ctx.save_for_backward(y)
        ctx.c = c
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        # dy/dx = 1 - (y/c)^2, written in tapegrad ops so it can be differentiated again
        return grad_out * (1 - (y / ctx.c) ** 2), None


x = tg.tensor(np.linspace(-3, 3, 7), requires_grad=True)
y = SoftClip.apply(x, 2.0)
print("y =", y)
y.sum().backward()
print("dy/dx =", x.grad)

assert tg.autograd.gradcheck(lambda t: SoftClip.apply(t, 2.0), (x,))
assert tg.autograd.gradgradcheck(lambda t: SoftClip.apply(t, 2.0), (x,))

# Second derivative through the custom backward (create_graph=True re-tapes its ops).
(g,) = tg.autograd.grad(SoftClip.apply(x, 2.0).sum(), x, create_graph=True)
(h,) = tg.autograd.grad(g.sum(), x)
xv = np.linspace(-3, 3, 7)
t = np.tanh(xv / 2.0)
assert np.allclose(h.numpy(), -(1 - t ** 2) * t)  # d2/dx2 of 2 tanh(x/2)
print("second derivative =", h, "(checked against the closed form)")
