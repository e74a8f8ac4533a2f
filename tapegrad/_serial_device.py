"""Where ``tg.load`` puts each tensor it reads: the device it was saved from (its location,
"cpu" or "cuda:0"), or where ``map_location`` sends it, as ``torch.load`` does (a device or
its string for every tensor, a dict from location to location, or a callable
``(tensor_on_cpu, location)`` whose None means the saved location)."""

from .device import available, device

_NO_CUDA = ("Attempting to deserialize object on a CUDA device but torch.cuda.is_available() "
            "is False. If you are running on a CPU-only machine, please use torch.load with "
            "map_location=torch.device('cpu') to map your storages to the CPU.")


def restore(x, location):
    """``x`` (a CPU tensor just read) on the device named ``location``."""
    if location == "cpu":
        return x
    if location.split(":")[0] not in ("cpu", "cuda"):
        raise NotImplementedError(f"tg.load: tensors onto {location!r} (only 'cpu' and 'cuda')")
    dev = device(location)  # (cuda:1: tapegrad's one-device error)
    if dev.type == "cpu":
        return x
    if not available():
        raise RuntimeError(_NO_CUDA)
    return x.to(dev)


def placer(map_location):
    """``(tensor_on_cpu, location) -> tensor`` for ``map_location``."""
    if map_location is None:
        return restore
    if isinstance(map_location, dict):
        table = {str(k): str(v) for k, v in map_location.items()}
        return lambda x, loc: restore(x, table.get(loc, loc))
    if callable(map_location):
        def call(x, loc):
            r = map_location(x, loc)
            return restore(x, loc) if r is None else r
        return call
    # a device, its string, or another object naming one (torch.device): every tensor there
    target = map_location.decode() if isinstance(map_location, bytes) else str(map_location)
    return lambda x, loc: restore(x, target)
