"""``replace_all_batch_norm_modules_``: batch norm without running statistics, for ``vmap``.

A batch norm module that tracks running statistics updates them in place, which a batch of
models (or examples) under ``vmap`` cannot share; without them it normalises every call with
its batch's statistics, in training and in eval mode alike.

Example:
    >>> import tapegrad as tg
    >>> net = tg.nn.Sequential(tg.nn.Linear(3, 4), tg.nn.BatchNorm1d(4))
    >>> _ = tg.func.replace_all_batch_norm_modules_(net)
    >>> net[1].running_mean is None, net[1].track_running_stats
    (True, False)
"""

__all__ = ["replace_all_batch_norm_modules_"]


def replace_all_batch_norm_modules_(root):
    """Set ``running_mean``, ``running_var`` and ``num_batches_tracked`` to None and
    ``track_running_stats`` to False in every batch norm module of ``root`` (``root`` too),
    in place; returns ``root`` (``torch.func``'s)."""
    from ..nn.normalization import _BatchNorm

    for module in root.modules():
        if isinstance(module, _BatchNorm) and module.track_running_stats:
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return root
