"""The everyday autograd tour: gradients, grad mode, higher order, in about a minute.

Run: python examples/autograd_tour.py
"""

import numpy as np

import tapegrad as tg

# 1. Gradients of a scalar function of a tensor.
x = tg.tensor([0.5, 1.0, 2.0], requires_grad=True)
y = (tg.sin(x) * x ** 2).sum()
y.backward()
print("y =", y)
print("dy/dx =", x.grad)
xv = np.array([0.5, 1.0, 2.0])
assert np.allclose(x.grad.numpy(), np.cos(xv) * xv ** 2 + 2 * xv * np.sin(xv))

# 2. Gradients accumulate; reset them between steps.
x.grad = None

# 3. No tape is recorded under no_grad (evaluation loops, parameter updates).
with tg.no_grad():
    z = x * 2
print("under no_grad:", z, "requires_grad =", z.requires_grad)

# 4. tg.autograd.grad returns gradients instead of accumulating them,
#    and create_graph=True makes them differentiable again (Hessians, gradient penalties).
s = tg.tensor(2.0, requires_grad=True)
(d1,) = tg.autograd.grad(s ** 3, s, create_graph=True)
(d2,) = tg.autograd.grad(d1, s)
print("d/ds s^3 =", d1, " d2/ds2 s^3 =", d2)
assert (d1.item(), d2.item()) == (12.0, 12.0)

# 5. Matrices, broadcasting and reductions, as in NumPy.
rng = np.random.default_rng(0)
W = tg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
b = tg.zeros(4, requires_grad=True)
X = tg.tensor(rng.standard_normal((5, 3)))
loss = tg.tanh(X @ W + b).mean()
loss.backward()
print("loss =", loss, "| W.grad shape", W.grad.shape, "| b.grad =", b.grad)

# 6. Check any gradient against finite differences.
assert tg.autograd.gradcheck(lambda w: tg.tanh(X @ w).sum(), (W.detach().requires_grad_(),))
print("gradcheck passed; tape now holds", tg.autograd.tape_stats()["records"], "records")
