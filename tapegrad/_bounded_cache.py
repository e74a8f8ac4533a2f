"""Dicts of computed values (per-op plans, tables, masks) that empty themselves when full: plans
keyed by shape are reused across the steps of a training loop, and the bound keeps a program
whose shapes keep changing from growing memory without limit."""


def bounded_cache(maxsize):
    """A plain dict, read with ``get`` (a hit costs what a dict's does: no subclass, no call of
    ours), and ``keep(key, value)``, which stores what a miss computed, emptying the dict first
    when it holds ``maxsize`` values, and returns ``value``. No lock: two threads missing at
    once compute the same value twice, harmlessly."""
    cache = {}

    def keep(key, value):
        if len(cache) >= maxsize:
            cache.clear()
        cache[key] = value
        return value

    return cache, keep
