"""tg.compile against the same program run eagerly, call after call: outputs, parameters and
``.grad`` must be equal (programs as users write them, each once found to differ)."""

import warnings

import numpy as np

import tapegrad as tg


def _same(a, b):
    a, b = (None if t is None else np.asarray(t.detach().numpy()) for t in (a, b))
    assert (a is None) == (b is None)
    if a is not None:
        assert a.dtype == b.dtype and np.array_equal(a, b), (a, b)


def _both(make, inputs):
    """``make()`` -> (fn, tensors to compare); every call's output and tensors, eager and
    compiled (no fallback warning allowed)."""
    trails = []
    for compiled in (False, True):
        fn, watched = make()
        if compiled:
            fn = tg.compile(fn)
        trail = []
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for args in inputs:
                out = fn(*args)
                trail.append([out] + [t.detach().clone() for t in watched] +
                             [None if t.grad is None else t.grad.clone() for t in watched])
        trails.append(trail)
    for eager, replay in zip(*trails):
        for a, b in zip(eager, replay):
            _same(a, b)
    return fn


def test_backward_into_a_grad_that_exists_when_the_function_starts():
    # backward adds into an existing .grad in place: the program must start from its value
    # before that backward, not after it
    rng = np.random.default_rng(0)

    def make():
        w = tg.tensor(np.full(3, 0.9), requires_grad=True)

        def step(x):
            h = (x * w).tanh()
            h.sum().backward()
            return h.detach()
        return step, [w]

    fn = _both(make, [(tg.tensor(rng.standard_normal(3)),) for _ in range(5)])
    assert fn._count == 2  # .grad None, then a .grad to add into: both replayed


def _replays_or_warns(body, n=4):
    """``body(x, t)`` (an array and a tensor argument) compiled: each call's value is eager's,
    replayed or run eagerly with the fallback warning."""
    fn = tg.compile(body)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for i in range(n):
            r = np.random.default_rng(i)
            x, t = r.standard_normal(3), tg.tensor(r.standard_normal(3))
            _same(body(x, t), fn(x, t))
    return fn, [str(w.message) for w in seen if "tg.compile" in str(w.message)]


def test_from_numpy_of_an_array_argument_is_an_input():
    # it was baked in as the first call's array: every replay returned the first result
    fn, msgs = _replays_or_warns(lambda x, t: tg.from_numpy(x) * 2 + t)
    assert msgs == [] and fn._count == 1


def test_tensors_in_a_factory_s_data_or_fill_value_are_not_baked_in():
    # tg.tensor([a, b]) of 0-d tensors and tg.full(size, t) read values the tracer does not
    # see: a replay returned the first call's numbers
    for body in (lambda x, t: tg.tensor([t.sum(), t.max()]) * 2,
                 lambda x, t: tg.full((3,), t.sum()) * t):
        fn, msgs = _replays_or_warns(body)
        assert len(msgs) == 1 and "baked in" in msgs[0], msgs


def test_numpy_scalars_from_an_array_argument_are_not_baked_in():
    # x.mean(), x[1]: NumPy computes them from the argument, out of the tracer's sight
    for body in (lambda x, t: t * x.mean(), lambda x, t: t + x[1],
                 lambda x, t: np.sin(t) + x.sum(), lambda x, t: tg.tensor(x[0]) * t):
        fn, msgs = _replays_or_warns(body)
        assert len(msgs) == 1 and "NumPy scalar" in msgs[0], msgs


def test_numpy_scalar_constants_still_compile_without_arrays():
    fn = tg.compile(lambda t: t * np.float64(0.5) + np.float32(2))
    for i in range(3):
        t = tg.tensor(np.arange(3.0) + i)
        _same(t * np.float64(0.5) + np.float32(2), fn(t))
    assert fn._count == 1


def _train(after=None, before=None, opt=tg.optim.Adam):
    def make():
        r = np.random.default_rng(1)
        model = tg.nn.Sequential(tg.nn.Linear(3, 4), tg.nn.Tanh(), tg.nn.Linear(4, 1)).double()
        for p in model.parameters():
            with tg.no_grad():
                p.copy_(tg.tensor(r.standard_normal(p.shape)))
        o = opt(model.parameters(), lr=0.1)

        def step(x, y):
            if before is not None:
                before(model, o)
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            o.step()
            if after is not None:
                after(model, o)
            return loss.detach()
        return step, list(model.parameters())
    return make


def _batches(n=5):
    r = np.random.default_rng(2)
    return [(tg.tensor(r.standard_normal((5, 3))), tg.tensor(r.standard_normal((5, 1))))
            for _ in range(n)]


def test_a_grad_changed_unseen_after_an_optimizer_step_rejects_the_trace():
    # after a step the tracer stops following .grad: setting it to None or scaling it through
    # NumPy there was left out of the replay (the next call then added into a stale .grad)
    from tapegrad.optim.optimizer import zero_grads

    def scale(model, o):
        for p in model.parameters():
            p._grad._data *= 0.5

    for after in (lambda model, o: zero_grads(model.parameters()), scale):
        fn = tg.compile(_train(after)()[0])
        want, _ = _train(after)()
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            for x, y in _batches():
                _same(want(x, y), fn(x, y))
        msgs = [str(w.message) for w in seen]
        assert len(msgs) == 1 and "does not see" in msgs[0], msgs


def _replayed(make, programs):
    """Compiled against eager over a few batches, parameters and .grad after each call."""
    fn = _both(make, _batches())
    assert fn._count == programs


def test_module_zero_grad_is_replayed():
    # Module.zero_grad sets .grad without the property: unseen, it was left out of the replay
    # (at the end of a step the next call then added into a stale .grad), and at the start
    # every call recorded again
    _replayed(_train(after=lambda model, o: model.zero_grad()), 1)
    _replayed(_train(before=lambda model, o: model.zero_grad()), 1)


def test_zero_grad_without_set_to_none_is_replayed():
    # .grad filled with zeros in place (None the first time: it stays None), as eager does
    for zero in (lambda model, o: o.zero_grad(set_to_none=False),
                 lambda model, o: model.zero_grad(set_to_none=False)):
        _replayed(_train(before=zero, opt=tg.optim.SGD), 2)


def test_a_returned_grad_is_the_grad_tensor_itself():
    # eager returns the .grad object (zeroing it in place zeroes the gradient); a replay
    # returned a new tensor with its values
    w = tg.tensor(np.arange(3.0), requires_grad=True)
    opt = tg.optim.SGD([w], lr=0.1)  # (replayed as nodes: .grad may be read after it)

    @tg.compile
    def step(x):
        opt.zero_grad()
        ((x - w) ** 2).sum().backward()
        opt.step()
        return w, w.grad

    for i in range(3):
        p, g = step(tg.tensor(np.ones(3) * i))
        assert p is w and g is w.grad
    assert step._count == 1


def test_python_values_the_function_assigns_are_assigned_by_a_replay():
    # model.train(flag) inside: a replay left .training as it was, so the model ended in the
    # other mode (its next batch-norm call outside updated, or did not update, running stats)
    def make():
        tg.manual_seed(0)
        model = tg.nn.Sequential(tg.nn.Linear(3, 4), tg.nn.BatchNorm1d(4)).double()

        def step(x, train):
            model.train(train)
            return model(x).detach()
        return step, list(model.buffers())

    r = np.random.default_rng(3)
    flags = [True, False, True, True, False, False, True]
    runs = []
    for compiled in (False, True):
        fn, _ = make()
        model = fn.__closure__[0].cell_contents
        fn = tg.compile(fn) if compiled else fn
        runs.append([(fn(tg.tensor(x), t), model.training, model[1].running_mean.clone())
                     for x, t in zip(r.standard_normal((7, 5, 3)), flags)])
        r = np.random.default_rng(3)
    for (o1, t1, m1), (o2, t2, m2) in zip(*runs):  # (nn.Linear fused eagerly: rounding)
        np.testing.assert_allclose(o2.numpy(), o1.numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(m2.numpy(), m1.numpy(), rtol=1e-12, atol=1e-12)
        assert t1 == t2


def test_a_learning_rate_set_from_an_argument_reaches_the_step():
    # group["lr"] = lr before opt.step(): a replay for lr=0.1 after a call with lr=0.05 did
    # not set it, and Adam stepped with 0.05
    def make():
        w = tg.tensor(np.arange(3.0), requires_grad=True)
        opt = tg.optim.Adam([w], lr=0.1)

        def step(x, lr):
            for group in opt.param_groups:
                group["lr"] = lr
            opt.zero_grad()
            ((x - w) ** 2).sum().backward()
            opt.step()
            return w.detach().clone()
        return step, [w]

    x = tg.tensor(np.ones(3))
    _both(make, [(x, lr) for lr in (0.1, 0.1, 0.05, 0.05, 0.1, 0.2, 0.05)])


def test_an_unsupported_op_behind_shared_wrapper_code_is_named_as_called():
    # nonzero and argmax run through code several ops share: the warning named another op
    # (logcumsumexp) or the closure factory
    # (argmax is replayed now; logical_xor runs through another shared wrapper)
    for op, name in ((lambda t: tg.nonzero(t > 0), "nonzero"),
                     (lambda t: tg.logical_xor(t > 0, t < 1), "logical_xor")):
        fn = tg.compile(op)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            _same(op(tg.tensor(np.arange(3.0) - 1)), fn(tg.tensor(np.arange(3.0) - 1)))
        msgs = [str(w.message) for w in seen]
        assert len(msgs) == 1 and f"eagerly: {name} (code several ops share)" in msgs[0], msgs


def test_a_compiled_function_called_inside_another_is_traced_through():
    # the outer trace did not look inside the inner compiled function, so the tensor it
    # captures was "computed by something the tracer does not see": always eager
    def make():
        w = tg.tensor(np.arange(3.0), requires_grad=True)
        inner = tg.compile(lambda x: (x * w).tanh())

        def outer(x):
            y = inner(x).sum()
            y.backward()
            return y.detach()
        return outer, [w]

    r = np.random.default_rng(4)
    _both(make, [(tg.tensor(r.standard_normal(3)),) for _ in range(4)])


def test_a_grad_written_through_numpy_is_named_an_unseen_write():
    # clip_grad_value_ writes into .grad through NumPy: the warning said "the program's value
    # differs from eager", as for a mistake of tg.compile's
    model = tg.nn.Linear(3, 1).double()

    @tg.compile
    def step(x):
        model.zero_grad()
        model(x).sum().backward()
        tg.nn.utils.clip_grad_value_(model.parameters(), 0.01)
        return model.weight.grad.clone()

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for i in range(2):
            assert np.all(np.abs(step(tg.tensor(np.ones((2, 3)) * (i + 1))).numpy()) <= 0.01)
    msgs = [str(w.message) for w in seen]
    assert len(msgs) == 1 and "changed by code tg.compile does not see" in msgs[0], msgs


def test_a_list_or_dict_the_function_reads_that_grows_records_again():
    # the guards checked that each captured tensor is still where it was, not that nothing
    # was added beside it: a replay ignored a weight appended to the list the function loops
    # over, a layer appended to a ModuleList, a key added to a dict
    def looped(container, values):
        def f(x):
            for w in values(container):
                x = x * w
            return x
        return f

    five = tg.tensor(np.full(2, 5.0))
    cases = [([tg.tensor(np.full(2, 2.0))], lambda c: c, lambda c: c.append(five)),
             ({"a": tg.tensor(np.full(2, 2.0))}, dict.values, lambda c: c.update(b=five))]
    for container, values, grow in cases:
        f = looped(container, values)
        fn = tg.compile(f)
        for i in range(4):
            if i == 2:
                grow(container)
            x = tg.tensor(np.full(2, i + 1.0))
            _same(f(x), fn(x))
        assert fn._count == 2
    layers = tg.nn.ModuleList([tg.nn.Linear(2, 2).double()])

    def net(x):
        for layer in layers:
            x = layer(x)
        return x.detach()
    fn = tg.compile(net)
    for i in range(4):
        if i == 2:
            layers.append(tg.nn.Linear(2, 2).double())
        x = tg.tensor(np.full((1, 2), i + 1.0))
        np.testing.assert_allclose(fn(x).numpy(), net(x).numpy(), rtol=1e-12)
    assert fn._count == 2


def test_positions_numpy_computes_from_tensor_values_are_not_baked_in():
    # np.sort, np.median, np.partition and np.compress index with positions NumPy computed
    # from the values, and np.argsort/np.argmax/np.nonzero return them: every replay took the
    # first call's order
    bodies = (lambda x, t: np.sort(t), lambda x, t: np.median(t) * t,
              lambda x, t: np.partition(t, 1), lambda x, t: np.compress(t > 0, t),
              lambda x, t: np.take_along_axis(t, np.argsort(t), 0),
              lambda x, t: t[np.argmax(t)], lambda x, t: t[np.nonzero(t > 0)])
    for body in bodies:
        fn, msgs = _replays_or_warns(body, n=4)
        assert len(msgs) == 1 and "positions computed from tensor values" in msgs[0], msgs


def test_constant_index_arrays_in_numpy_functions_still_compile():
    fn = tg.compile(lambda t: np.take(t, [2, 0]) * np.pad(t, 1, mode="reflect")[:2])
    for i in range(3):
        t = tg.tensor(np.arange(3.0) * (i + 1))
        _same(np.take(t, [2, 0]) * np.pad(t, 1, mode="reflect")[:2], fn(t))
    assert fn._count == 1


def test_chunk_split_and_unbind_are_replayed():
    # they had no handler: an LSTMCell/GRUCell unroll, an nn.LSTM, or gradient accumulation
    # over x.chunk(2) micro-batches always ran eagerly
    bodies = [lambda x: x.chunk(2)[1] * 2,
              lambda x: tg.chunk(x, 3, dim=-1)[1].exp(),
              lambda x: x.split([1, 3], dim=1)[1].sin(),
              lambda x: tg.split(x, 2)[0] + tg.split(x, 2)[2].sum(),
              lambda x: x.unbind(1)[2] * x.unbind(0)[1][2],
              lambda x: tg.stack([p.tanh() for p in x.unbind()]),
              lambda x: tg.stack([p.tanh() for p in x])]

    for body in bodies:
        def make(body=body):
            w = tg.tensor(np.linspace(-1, 1, 20).reshape(5, 4), requires_grad=True)

            def f(x):
                y = body(x * w)
                y.sum().backward()
                return y.detach()
            return f, [w]

        r = np.random.default_rng(5)
        fn = _both(make, [(tg.tensor(r.standard_normal((5, 4))),) for _ in range(3)])
        assert fn._count == 2  # (.grad None, then an existing .grad)


def test_an_lstm_cell_unroll_is_replayed():
    def make():
        tg.manual_seed(0)
        cell, head = tg.nn.LSTMCell(3, 4).double(), tg.nn.Linear(4, 1).double()
        params = list(cell.parameters()) + list(head.parameters())
        opt = tg.optim.Adam(params, lr=0.01)

        def step(xs, y):
            opt.zero_grad()
            h = c = tg.zeros(2, 4, dtype=tg.float64)
            for x in xs:
                h, c = cell(x, (h, c))
            loss = ((head(h) - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss.detach()
        return step, params

    r = np.random.default_rng(6)
    runs = []
    for compiled in (False, True):
        fn, params = make()
        fn = tg.compile(fn) if compiled else fn
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            runs.append([(fn(tg.tensor(xs), tg.tensor(y)), [p.detach().clone() for p in params])
                         for xs, y in zip(r.standard_normal((4, 3, 2, 3)),
                                          r.standard_normal((4, 2, 1)))])
        r = np.random.default_rng(6)
    for (l1, p1), (l2, p2) in zip(*runs):  # (nn.Linear is fused eagerly: rounding)
        np.testing.assert_allclose(l2.numpy(), l1.numpy(), rtol=1e-12)
        for a, b in zip(p1, p2):
            np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-12, atol=1e-15)
    assert fn._count == 1


def test_hooks_registered_after_a_trace_are_not_skipped_by_a_replay():
    # a forward hook on a module the function calls, or a tensor hook on a captured tensor,
    # registered between calls: replays ran as traced, without the hook
    layer = tg.nn.Linear(2, 2).double()

    def forward(x):
        return layer(x).detach()

    w = tg.tensor(np.arange(3.0), requires_grad=True)

    def grad_of(x):
        w.grad = None
        (x * w).sum().backward()
        return w.grad.clone()

    hooks = [(forward, lambda: layer.register_forward_hook(lambda m, i, o: o * 10), (1, 2)),
             (forward, lambda: layer.register_forward_pre_hook(lambda m, i: (i[0] + 1,)), (1, 2)),
             (grad_of, lambda: w.register_hook(lambda g: g * 100), (3,))]
    for f, register, shape in hooks:
        fn = tg.compile(f)
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")  # (a tensor hook: eager, with the warning)
            for i in range(4):
                if i == 2:
                    handle = register()
                x = tg.tensor(np.full(shape, i + 1.0))
                np.testing.assert_allclose(fn(x).numpy(), f(x).numpy(), rtol=1e-12)
        handle.remove()


def test_nan_functions_replayed_on_data_with_nans():
    # np.nansum & co. left out the NaN replacement when the recording call had no NaN: a
    # replay on data with NaNs returned nan
    for body in (lambda x, t: np.nansum(t), lambda x, t: np.nanmax(t), lambda x, t: np.nanmin(t),
                 lambda x, t: tg.nansum(t)):
        fn = tg.compile(body)
        for v in ([1.0, 2.0, 3.0], [np.nan, 1.0, 2.0], [4.0, np.nan, -1.0]):
            _same(body(None, tg.tensor(v)), fn(None, tg.tensor(v)))
        assert fn._count == 1  # (one program, which replaces the NaNs it finds)


def test_nanmax_and_nanmin_of_an_all_nan_slice_replayed_are_nan():
    # recorded on data without NaN, the replay filled an all-NaN slice with -inf/+inf and
    # returned that: NumPy's (and eager's) is NaN; with initial= it is initial (these run
    # eagerly, and the trace must not make them raise for a tensor that requires grad)
    for body, programs in ((lambda t: np.nanmax(t, axis=1), 1),
                           (lambda t: np.nanmin(t, axis=0, keepdims=True), 1),
                           (lambda t: np.nanmax(t), 1),
                           (lambda t: np.nanmax(t, axis=1, initial=0.0), 0),
                           (lambda t: np.nanmin(t, 0, initial=2.0, where=np.array([1, 0], bool)),
                            0)):
        fn = tg.compile(body)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # (NumPy's 'All-NaN slice', ...)
            for v in ([[1.0, 2.0], [-np.inf, 4.0]], [[np.nan, 1.0], [np.nan, np.nan]],
                      [[np.nan, np.nan], [np.nan, np.nan]]):
                want = body(tg.tensor(v))
                got = fn(tg.tensor(v, requires_grad=not programs and not np.isnan(v).any()))
                np.testing.assert_array_equal(got.detach().numpy(), want.numpy())
                np.testing.assert_array_equal(got.detach().numpy(), body(np.array(v)))
        assert fn._count == programs


def test_take_by_an_argmin_is_not_baked_in():
    fn, msgs = _replays_or_warns(lambda x, t: np.take(t, np.argmin(t)) * t)
    assert len(msgs) == 1 and "positions computed from tensor values" in msgs[0], msgs


def test_a_tensor_stored_in_an_attribute_that_held_a_python_value_runs_eagerly():
    # self.last = out.detach() (last None before): every replay left the trace's tensor there
    class Keeps(tg.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer, self.last = tg.nn.Linear(2, 2).double(), None

        def forward(self, x):
            out = self.layer(x)
            self.last = out.detach()
            return out

    model = Keeps()
    fn = tg.compile(lambda x: model(x).sum().detach())
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for i in range(3):
            x = tg.tensor(np.full((1, 2), float(i)))
            fn(x)
            np.testing.assert_allclose(model.last.numpy(), model.layer(x).detach().numpy())
    msgs = [str(w.message) for w in seen]
    assert len(msgs) == 1 and "stores a Tensor" in msgs[0], msgs


def test_slices_of_a_data_tensor_are_arguments_like_any_tensor():
    # step(X[i:i + 8], y[i:i + 8]): every call ran eagerly ("a view of another tensor enters
    # the function"), though a view of data that needs no grad is only read
    r = np.random.default_rng(7)
    X, Y = tg.tensor(r.standard_normal((32, 3))), tg.tensor(r.standard_normal((32, 1)))

    def make():
        w = tg.tensor(np.linspace(-1, 1, 3), requires_grad=True)
        opt = tg.optim.SGD([w], lr=0.1, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            loss = (((x * w).sum(1) - y[:, 0]) ** 2).mean()
            loss.backward()
            opt.step()
            return loss.detach()
        return step, [w]

    batches = [(X[i:i + 8], Y[i:i + 8]) for i in range(0, 32, 8)] + [(X[:, :3][::4], Y[::4])]
    fn = _both(make, batches)
    assert fn._count == 1


def test_captured_numpy_scalar_constants_compile_beside_captured_arrays():
    # a constant computed before the function (np.float64 / np.float32) beside a captured
    # index array: guarded by value, not refused as a scalar made from an array inside
    const, scale, idx = np.float64(-3.5), np.float32(0.25), np.array([2, 0, 1])
    fn = tg.compile(lambda t: (t[idx] * scale).sum() + const)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for i in range(3):
            t = tg.tensor(np.arange(3.0) + i)
            _same((t[idx] * scale).sum() + const, fn(t))
    assert [str(w.message) for w in seen if "tg.compile" in str(w.message)] == []
    assert fn._count == 1
