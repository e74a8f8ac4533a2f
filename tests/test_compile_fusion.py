"""The replay's fusions give eager's results: ``sum(a * b)`` as one einsum, sums through
``np.add.reduce``, and parameter updates computed straight into the parameter, including the
cases where that must not happen (a tensor read after another write changed it, two writes to
one tensor, a value that is also returned or kept as ``.grad``)."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

R = np.random.default_rng(11)


def _np(v):
    return v.detach().numpy() if isinstance(v, tg.Tensor) else np.asarray(v)


def _twins(make, calls, rtol=1e-9):
    """Run ``make()``'s step eagerly and compiled on each argument tuple of ``calls``; results
    and every state tensor (and its .grad) must agree; returns the compiled step."""
    fe, se = make()
    fc, sc = make()
    step = tg.compile(fc)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for args in calls:
            re, rc = fe(*args), step(*args)
            for a, b in zip(re if isinstance(re, tuple) else (re,),
                            rc if isinstance(rc, tuple) else (rc,)):
                np.testing.assert_allclose(_np(b), _np(a), rtol=rtol, atol=1e-12)
            for a, b in zip(se, sc):
                np.testing.assert_allclose(_np(b), _np(a), rtol=rtol, atol=0)
                if a.grad is not None or b.grad is not None:
                    np.testing.assert_allclose(_np(b.grad), _np(a.grad), rtol=rtol)
    assert step._count == 1
    return step


def _source(step):
    return "\n".join(p.source for ps in step._cache.values() for p in ps)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sum_of_products_over_axes_matches_eager(dtype):
    def make():
        R = np.random.default_rng(1)  # the same state for both twins
        w = tg.tensor(R.standard_normal((4, 3, 5)).astype(dtype), requires_grad=True)

        def f(x):
            w.grad = None
            q = w * x
            a = (q * q).sum(2)  # a square summed over the last axis
            b = (w * x).sum((0, 2))  # over two axes
            c = (x * x).sum()  # over everything: a number
            loss = a.sum() + b.sum() * 0.5 + c
            loss.backward()
            return a, b, c

        return f, [w]

    calls = [(tg.tensor(R.standard_normal((4, 3, 5)).astype(dtype)),) for _ in range(3)]
    step = _twins(make, calls, 1e-9 if dtype == np.float64 else 1e-5)  # float32: rounding
    assert "_einsum(" in _source(step)


def test_broadcast_gradient_of_a_product_sums_back_to_the_parameter_shape():
    def make():
        R = np.random.default_rng(1)
        b = tg.tensor(R.standard_normal((1, 3)), requires_grad=True)

        def f(x, y):
            b.grad = None
            ((x * b) * y).sum().backward()  # d/db: sum over rows of x * y
            return b.grad.clone()

        return f, [b]

    _twins(make, [(tg.tensor(R.standard_normal((6, 3))), tg.tensor(R.standard_normal((6, 3))))
                  for _ in range(3)])


def test_sgd_update_is_written_into_the_parameter_and_matches_eager():
    def make():
        R = np.random.default_rng(1)
        ps = [tg.tensor(R.standard_normal(s) * 0.1, requires_grad=True)
              for s in ((5, 4), (4,))]
        opt = tg.optim.SGD(ps, lr=0.05)

        def step(x):
            opt.zero_grad()
            loss = (tg.tanh(x @ ps[0] + ps[1]) ** 2).mean()
            loss.backward()
            opt.step()
            return loss.detach()

        return step, ps

    R2 = np.random.default_rng(3)
    step = _twins(make, [(tg.tensor(R2.standard_normal((8, 5))),) for _ in range(4)])
    assert "out=T" in _source(step) or "_sub_scaled[" in _source(step)


def test_updates_reading_tensors_written_before_them_keep_eager_order():
    """``p`` is updated, then ``q`` reads the new ``p``; ``r`` is updated twice; ``s`` keeps the
    old value of ``p`` (read before the write): each must see what eager sees."""
    def make():
        R = np.random.default_rng(1)
        p, q, r = (tg.tensor(R.standard_normal(3) if i == 0 else np.ones(3) * i,
                             requires_grad=True) for i in range(3))
        s = tg.tensor(np.zeros(3))

        def step(x):
            for t in (p, q, r):
                t.grad = None
            old = p * 1.0
            (tg.sin(p * x) + q * r).sum().backward()
            with tg.no_grad():
                s.copy_(old)
                p.sub_(0.1 * p.grad)
                q.sub_(p * 0.5)  # the updated p
                r.sub_(0.2 * r.grad)
                r.sub_(r * 0.1)  # the updated r
                s.add_(p - old)  # old p, after p changed
            return old

        return step, [p, q, r, s]

    _twins(make, [(tg.tensor(R.standard_normal(3)),) for _ in range(4)])


def test_update_also_returned_or_kept_is_not_fused_away():
    def make():
        R = np.random.default_rng(1)
        w = tg.tensor(R.standard_normal(4), requires_grad=True)

        def step(x):
            w.grad = None
            (w * x).sum().backward()
            new = w - 0.1 * w.grad
            with tg.no_grad():
                w.copy_(new)
            return new.detach() * 1.0, w.grad

        return step, [w]

    _twins(make, [(tg.tensor(R.standard_normal(4)),) for _ in range(3)])


def _assigned(step):
    """``{value name: expression}`` of the generated lines ``vN = ...``."""
    out = {}
    for line in _source(step).splitlines():
        name, eq, expr = line.strip().partition(" = ")
        if eq and name.startswith("v") and name[1:].isdigit():
            out[name] = expr
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mean_gradient_scales_by_a_number_not_by_a_constant_array(dtype):
    """The cotangent of a mean, ``1/n`` broadcast to the input's shape, is a constant made
    from constants: the replay multiplies by the number ``1/n``."""
    def make():
        R = np.random.default_rng(1)
        w = tg.tensor(R.standard_normal((5, 4)).astype(dtype), requires_grad=True)

        def step(x):
            w.grad = None
            loss = ((x @ w - 1.0) ** 2).mean()
            loss.backward()
            return loss.detach()

        return step, [w]

    calls = [(tg.tensor(R.standard_normal((8, 5)).astype(dtype)),) for _ in range(3)]
    step = _twins(make, calls, 1e-9 if dtype == np.float64 else 1e-5)
    exprs = _assigned(step).values()
    assert any(repr(1 / 32) in e for e in exprs)  # 8 * 4 elements
    assert not any("np.multiply(_k" in e or " * _k" in e for e in exprs)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gradient_of_a_broadcast_subtrahend_negates_after_the_sum(dtype):
    """``d/db sum(f(x - b))`` for a broadcast ``b`` is ``-sum_to(f'(...))``: the replay sums
    first and negates the small result, and agrees with eager."""
    def make():
        R = np.random.default_rng(2)
        b = tg.tensor(R.standard_normal((1, 3, 4)).astype(dtype), requires_grad=True)
        c = tg.tensor(R.standard_normal(4).astype(dtype), requires_grad=True)

        def step(x):
            b.grad = None
            c.grad = None
            y = tg.tanh(x - b) + tg.sin(x - c)
            (y * y).sum().backward()
            return y.detach()

        return step, [b, c]

    calls = [(tg.tensor(R.standard_normal((6, 3, 4)).astype(dtype)),) for _ in range(3)]
    step = _twins(make, calls, 1e-9 if dtype == np.float64 else 1e-5)
    exprs = _assigned(step)
    negs = [e for e in exprs.values() if e.startswith(("_a_neg(", "np.negative("))]
    assert len(negs) == 2
    for e in negs:  # each negates a sum (of products: an einsum), never the full gradient
        arg = e[e.index("(") + 1:].split(",")[0].rstrip(")")
        assert exprs[arg].startswith(("_reduce(", "_sum_to(", "_sum(", "_einsum(",
                                      "np.reshape(_einsum("))


def test_negation_also_read_elsewhere_is_kept():
    """``-g`` summed and also used: the sum of the negation stays as recorded."""
    def make():
        R = np.random.default_rng(3)
        b = tg.tensor(R.standard_normal(4), requires_grad=True)

        def step(x):
            b.grad = None
            d = x - b
            (d * d).sum().backward()
            return (-(d * 2.0)).detach(), (-(d * 2.0)).sum(0).detach()

        return step, [b]

    _twins(make, [(tg.tensor(R.standard_normal((5, 4))),) for _ in range(3)])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_square_gradient_doubles_the_small_factor(dtype):
    """``d/dy sum(y * y, axis)`` is ``g * y + g * y`` with ``g`` broadcast from the sum's
    shape: the replay doubles ``g`` before broadcasting (one pass over the small array
    instead of one over the product) and agrees with eager."""
    def make():
        R = np.random.default_rng(4)
        w = tg.tensor(R.standard_normal((6, 4, 5)).astype(dtype), requires_grad=True)

        def step(x):
            w.grad = None
            y = x * w
            loss = tg.exp(-(y * y).sum(2) * 0.5).mean()
            loss.backward()
            return loss.detach()

        return step, [w]

    calls = [(tg.tensor(R.standard_normal((6, 4, 5)).astype(dtype)),) for _ in range(3)]
    step = _twins(make, calls, 1e-9 if dtype == np.float64 else 1e-5)
    exprs = _assigned(step)
    assert not any(e.startswith("np.add(") and e.split("(")[1].split(",")[0] ==
                   e.split(", ")[1] for e in exprs.values())  # no x + x left
    doubled = [k for k, e in exprs.items() if "2.0" in e]
    assert doubled and all(f"({k}, (6, 4, 1))" in "".join(exprs.values()) for k in doubled)


def test_square_gradient_with_a_full_size_factor_is_left_alone():
    """Both factors full-size (nothing smaller to double): as recorded, same values."""
    def make():
        R = np.random.default_rng(5)
        w = tg.tensor(R.standard_normal((3, 4)), requires_grad=True)

        def step(x):
            w.grad = None
            y = x * w
            (y * y * x).sum().backward()
            return w.grad.clone()

        return step, [w]

    _twins(make, [(tg.tensor(R.standard_normal((3, 4))),) for _ in range(3)])


def test_sgd_step_as_one_loop_gives_eager_bits_for_every_layout_and_dtype():
    """``p - lr * g`` into ``p`` is one compiled loop for float64 parameters of rank 1 and 2
    (C-ordered or not) and NumPy otherwise (rank 3, float32): the same bits as eager either
    way, also after the gradient's values change."""
    shapes = [((4, 3), np.float64, False), ((3,), np.float64, False), ((4, 3), np.float64, True),
              ((2, 3, 2), np.float64, False), ((4, 3), np.float32, False)]

    def make():
        R = np.random.default_rng(6)
        ps = []
        for shape, dtype, transposed in shapes:
            a = R.standard_normal(shape[::-1] if transposed else shape).astype(dtype)
            ps.append(tg.tensor(a.T if transposed else a, requires_grad=True))
        opt = tg.optim.SGD(ps, lr=0.1)

        def step(x):
            opt.zero_grad()
            loss = sum((tg.sin(p * x) ** 2).sum() for p in ps)
            loss.backward()
            opt.step()
            return loss.detach()

        return step, ps

    fe, pe = make()
    fc, pc = make()
    assert not pc[2].detach().numpy().flags.c_contiguous
    step = tg.compile(fc)
    for k in range(4):
        x = tg.tensor([0.5 + 0.25 * k])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fe(x), step(x)
        for a, b in zip(pe, pc):
            np.testing.assert_array_equal(b.detach().numpy(), a.detach().numpy())
            np.testing.assert_array_equal(b.grad.numpy(), a.grad.numpy())
    src = _source(step)
    assert src.count("_sub_scaled[2]") == 2 and src.count("_sub_scaled[1]") == 1
    assert src.count("out=T") == 2  # rank 3 and float32: NumPy's two calls


def test_sgd_step_after_gradients_accumulate_reads_the_sum():
    """Two backwards accumulate into ``.grad`` (the second copies into the first's array)
    before the step: the update reads the accumulated gradient, as eager does."""
    def make():
        R = np.random.default_rng(7)
        w = tg.tensor(R.standard_normal((3, 2)), requires_grad=True)
        opt = tg.optim.SGD([w], lr=0.1)

        def step(x):
            opt.zero_grad()
            (tg.tanh(w * x) ** 2).sum().backward()
            (w * x).sum().backward()
            opt.step()
            return w.grad.clone()

        return step, [w]

    _twins(make, [(tg.tensor(R.standard_normal((3, 2))),) for _ in range(3)], rtol=0)


def test_tanh_gradient_as_one_loop_gives_eager_bits():
    """``g * (1 - y*y)`` through ``tanh`` is one compiled loop for float64 arrays of rank 1
    and 2 (into ``g`` when nothing else reads it, else a new array) and NumPy for rank 3:
    every gradient the same bits as eager."""
    def make():
        R = np.random.default_rng(8)
        ws = [tg.tensor(R.standard_normal(s), requires_grad=True)
              for s in ((5, 3), (4,), (2, 3, 2))]

        def step(x):
            for w in ws:
                w.grad = None
            h = tg.tanh(x @ ws[0])  # its gradient dies in the loop
            u = tg.tanh(ws[1] * 0.5)
            v = tg.tanh(ws[2] * 1.5)
            # u's gradient also reaches ws[1] directly: the loop writes a new array
            loss = tg.sin(h).sum() + tg.sin(u + ws[1]).sum() + tg.sin(v).sum()
            loss.backward()
            return loss.detach()

        return step, ws

    fe, we = make()
    fc, wc = make()
    step = tg.compile(fc)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for k in range(3):
            x = tg.tensor(np.random.default_rng(k).standard_normal((2, 5)))
            np.testing.assert_array_equal(step(x).numpy(), fe(x).numpy())
            for a, b in zip(we, wc):
                np.testing.assert_array_equal(b.grad.numpy(), a.grad.numpy())
    src = _source(step)
    assert src.count("_tanh_bw[2]") == 1 and src.count("_tanh_bw[1]") == 1
    assert src.count("np.subtract(1.0") == 1  # rank 3
    assert "_empty_like(" in src
