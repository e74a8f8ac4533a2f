"""Random ops inside ``vmap``: the ``randomness`` flag of ``torch.func.vmap``.

* ``'error'`` (the default): a random op raises PyTorch's error.
* ``'same'``: one draw, shared by every example of the batch.
* ``'different'``: each example draws its own values. ``tg.rand``, ``randn``, ``randint``,
  ``rand_like``, ``randn_like`` and ``nn.functional.dropout`` (so ``nn.Dropout``) draw the
  whole batch at once and return a batched tensor; ``bernoulli`` and ``normal`` of tensors
  are made of those draws (their batching rules below); ``randperm`` and ``multinomial`` draw
  per example.

Every draw from tapegrad's generator goes through a guard that knows which vmaps run on this
thread: a random op without a per-example form (``nn.init``, ...) raises under ``'error'`` and
``'different'`` instead of silently giving every example the same values.
"""

import threading

import numpy as np

from .. import creation
from ..size import keyword_size

ERROR_MSG = ("vmap: called random operation while in randomness error mode. Please either use "
             "the 'same' or 'different' randomness flags on vmap or perform the randomness "
             "operation out of vmap")
DIFFERENT_MSG = ("vmap: randomness='different' has no per-example form for this random "
                 "operation; use randomness='same' or draw outside vmap")


class _Modes(threading.local):
    def __init__(self):
        self.stack = []  # per running vmap, outermost first: (randomness, level, batch size)
        self.drawing = 0  # > 0 while a batch-aware random function draws


_modes = _Modes()


class _Guarded:
    """``creation._rng`` while vmaps may run: a draw checks this thread's vmap modes."""

    def __init__(self, rng):
        self._rng = rng

    def __getattr__(self, name):
        attr = getattr(self._rng, name)
        if callable(attr) and _modes.stack and not _modes.drawing:
            modes = {m for m, _, _ in _modes.stack}
            if "error" in modes:
                raise RuntimeError(ERROR_MSG)
            if "different" in modes:
                raise RuntimeError(DIFFERENT_MSG)
        return attr


def guard():
    """Route draws through the guard (again after ``manual_seed`` replaced the generator)."""
    if type(creation._rng) is not _Guarded:
        creation._rng = _Guarded(creation._rng)


class running:
    """``with running(randomness, level, size):`` around the body of one vmap."""

    def __init__(self, randomness, level, size):
        self.entry = (randomness, level, size)

    def __enter__(self):
        guard()
        _modes.stack.append(self.entry)

    def __exit__(self, *exc):
        _modes.stack.pop()


def _plan():
    """None outside vmap or when every level shares draws; else the batch levels to draw
    for, outermost first: (level, size, different?)."""
    if not _modes.stack:
        return None
    modes = [m for m, _, _ in _modes.stack]
    if "error" in modes:
        raise RuntimeError(ERROR_MSG)
    if "different" not in modes:
        return None
    return [(level, size, m == "different") for m, level, size in _modes.stack]


def _batched(plan, draw):
    """``draw(batch_shape)`` (a tensor with those leading dims) as a batched tensor: one
    independent draw per example of the 'different' levels, shared along the 'same' ones."""
    from .batched import BatchedTensor

    lead = tuple(size if diff else 1 for _, size, diff in plan)
    _modes.drawing += 1
    try:
        t = draw(lead)
    finally:
        _modes.drawing -= 1
    full = tuple(size for _, size, _ in plan)
    if lead != full:
        from ..creation import tensor

        t = tensor(np.ascontiguousarray(np.broadcast_to(t.numpy(), full + tuple(t.shape[
            len(full):]))), requires_grad=t.requires_grad)
    for level, _, _ in plan:
        t = BatchedTensor(t, level)
    return t


def _size_of(size):
    return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else \
        tuple(size)


def _keyword_size(name, sizes, kw):
    """``size=``, PyTorch's keyword for the sizes; any other keyword is refused as Python does."""
    size = kw.pop("size", None)
    if kw:
        raise TypeError(f"{name}() got an unexpected keyword argument '{next(iter(kw))}'")
    return keyword_size(name, sizes, size)


def batch_aware(raw_rand, raw_randn, raw_randint, raw_rand_like, raw_randn_like, raw_dropout):
    """The public random functions made aware of ``randomness`` (plain calls go straight
    through)."""

    def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, **kw):
        if kw:  # PyTorch's keyword: rand(size=(2, 3))
            size = _keyword_size("rand", size, kw)
        plan = _plan()
        if plan is None:
            return raw_rand(*size, generator=generator, dtype=dtype, device=device,
                            requires_grad=requires_grad)
        return _batched(plan, lambda lead: raw_rand(lead + _size_of(size), dtype=dtype,
                                                    device=device, requires_grad=requires_grad))

    def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, **kw):
        if kw:  # PyTorch's keyword: randn(size=(2, 3))
            size = _keyword_size("randn", size, kw)
        plan = _plan()
        if plan is None:
            return raw_randn(*size, generator=generator, dtype=dtype, device=device,
                             requires_grad=requires_grad)
        return _batched(plan, lambda lead: raw_randn(lead + _size_of(size), dtype=dtype,
                                                     device=device,
                                                     requires_grad=requires_grad))

    def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None,
                requires_grad=False):
        plan = _plan()
        if plan is None:
            return raw_randint(low, high, size, generator=generator, dtype=dtype, device=device)
        low, high, size = creation.randint_args(low, high, size)
        return _batched(plan, lambda lead: raw_randint(low, high, lead + size, dtype=dtype,
                                                       device=device))

    def dropout(input, p=0.5, training=True, inplace=False):
        plan = _plan() if training and 0.0 < p < 1.0 else None
        if plan is None:
            return raw_dropout(input, p, training, inplace)
        def mask(lead):
            keep = creation.draws().random(lead + tuple(input.shape)) < (1.0 - p)
            return creation.tensor((keep * (1.0 / (1.0 - p))).astype(input.dtype))

        return _batched(plan, mask) * input  # the batched operand first: its rule applies

    def like(draw, raw_like):
        def fn(input, dtype=None, device=None, requires_grad=False, memory_format=None):
            if not _modes.stack:
                return raw_like(input, dtype=dtype, device=device, requires_grad=requires_grad)
            return draw(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)

        return fn

    rand_like = like(rand, raw_rand_like)
    randn_like = like(randn, raw_randn_like)
    for f, raw in ((rand, raw_rand), (randn, raw_randn), (randint, raw_randint),
                   (rand_like, raw_rand_like), (randn_like, raw_randn_like),
                   (dropout, raw_dropout)):
        f.__doc__, f.__name__, f.raw = raw.__doc__, raw.__name__, raw
    return rand, randn, randint, rand_like, randn_like, dropout



# ---- batching rules of the samplers of tensors: made of the batch-aware draws above ----------

def _values(t):
    """The array under every vmap level of ``t`` (for argument checks)."""
    while hasattr(t, "_phys"):
        t = t._phys
    return np.asarray(t._data) if hasattr(t, "_data") else np.asarray(t)


def _sampler_rule(sample):
    def rule(level, name, raw, args, kwargs):
        if kwargs.get("generator") is not None:
            return NotImplemented  # a generator of the user's: per example (guarded)
        return sample(*args, **kwargs)

    return rule


def _bernoulli(input, p=None, *, generator=None):
    prob = _values(input) if p is None else np.asarray(float(p))
    if ((prob < 0) | (prob > 1)).any() or np.isnan(prob).any():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    u = creation.rand_like(input, dtype=np.float64)
    return (u < (input.detach() if p is None else float(p))).to(input.dtype)


def _normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False):
    from ..tensor import Tensor

    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if not tensors:
        return NotImplemented
    if (_values(std) < 0).any():
        raise RuntimeError("normal expects all elements of std >= 0.0")
    shape = np.broadcast_shapes(*[tuple(t.shape) for t in tensors])
    dt = np.result_type(*[t.dtype for t in tensors])
    noise = creation.randn(shape, dtype=dt)
    mean, std = (t.detach() if isinstance(t, Tensor) else t for t in (mean, std))
    return mean + std * noise  # no gradient to mean and std, as PyTorch's sampler


def _multinomial_rule(level, name, raw, args, kwargs):
    """``multinomial`` of probabilities batched at ``level`` under randomness='different' (one
    vmap): every example's rows drawn in one call. Otherwise the per-example loop."""
    input, rest = args[0], args[1:]
    if kwargs.get("generator") is not None or len(_modes.stack) != 1 or \
            _modes.stack[0][0] != "different" or getattr(input, "_vmap_level", 0) != level:
        return NotImplemented
    from .batched import BatchedTensor, _reshape

    p, raw = input._phys, getattr(raw, "raw", raw)  # (tg.multinomial: the draw itself)
    _modes.drawing += 1
    try:
        out = raw(_reshape(p, (-1, p.shape[-1])), *rest, **kwargs)
    finally:
        _modes.drawing -= 1
    return BatchedTensor(_reshape(out, tuple(p.shape[:-1]) + (out.shape[-1],)), level)


def batch_aware_sampling(raw_randperm, raw_multinomial):
    """``randperm`` and ``multinomial`` (of probabilities vmap does not map over) drawing per
    example under randomness='different', as PyTorch's."""

    def randperm(n, *, dtype=None, device=None, requires_grad=False, generator=None):
        plan = _plan() if generator is None else None
        if plan is None:
            return raw_randperm(n, dtype=dtype, device=device, requires_grad=requires_grad,
                                generator=generator)

        def draw(lead):
            perms = [raw_randperm(n, dtype=dtype).numpy() for _ in range(int(np.prod(lead)))]
            return creation.tensor(np.stack(perms).reshape(lead + (int(n),)), device=device)

        return _batched(plan, draw)

    def multinomial(input, num_samples, replacement=False, *, generator=None):
        plan = _plan() if generator is None and not hasattr(input, "_phys") else None
        if plan is None:
            return raw_multinomial(input, num_samples, replacement, generator=generator)

        def draw(lead):
            k = int(np.prod(lead))
            rows = input.reshape(-1, input.shape[-1]).repeat(k, 1)
            out = raw_multinomial(rows, num_samples, replacement)
            return out.reshape(lead + tuple(input.shape[:-1]) + (num_samples,))

        return _batched(plan, draw)

    for f, raw in ((randperm, raw_randperm), (multinomial, raw_multinomial)):
        f.__doc__, f.__name__, f.raw = raw.__doc__, raw.__name__, raw
    return randperm, multinomial


SAMPLER_RULES = {"bernoulli": _sampler_rule(_bernoulli), "normal": _sampler_rule(_normal),
                 "multinomial": _multinomial_rule}
