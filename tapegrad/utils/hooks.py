"""Hook handles (``torch.utils.hooks``): what ``register_*_hook`` returns, and the ordered
dicts the hooks live in."""

import weakref


class RemovableHandle:
    """Returned by ``register_*_hook``: ``remove()`` unregisters the hook (twice is fine);
    also a context manager that removes it on exit."""

    next_id = 0

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        extra = extra_dict if isinstance(extra_dict, (list, tuple)) else \
            ([extra_dict] if extra_dict is not None else [])
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extra)

    def remove(self):
        for ref in (self.hooks_dict_ref, *self.extra_dict_ref):
            d = ref()
            if d is not None and self.id in d:
                del d[self.id]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def add_hook(hooks, hook, prepend=False, extra=()):
    """Store ``hook`` in the ordered dict ``hooks`` (first if ``prepend``); flag it in each
    dict of ``extra`` (with_kwargs, always_call)."""
    handle = RemovableHandle(hooks, extra_dict=list(extra))
    hooks[handle.id] = hook
    for d in extra:
        d[handle.id] = True
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle
