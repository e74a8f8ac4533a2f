"""The package's import graph points one way: tensor/tape/registry at the bottom, then the
engine (numbers only), the ops, autograd, and the public layers on top. Read statically, with
imports inside functions counted too: a lazy import hides a cycle from Python, not from a reader.
"""

import ast
from pathlib import Path

import tapegrad

PKG = Path(tapegrad.__file__).parent
BOTTOM = {"_config", "_malloc", "_numba_blas", "_numba_cache", "_pack", "_tensor_str", "registry",
          "grad_mode", "tape",
          "tape_watch", "tensor", "vecmath",
          "device", "_bounded_cache", "promotion", "size", "_legacy_tensor",
          "memory_format", "_live_segments", "_float_warnings"}
# part -> the parts it may import (besides itself)
ALLOWED = {
    "_config": set(),
    "_float_warnings": set(),  # NumPy's floating-point warnings kept inside tapegrad
    "_malloc": {"_config"},  # glibc's malloc thresholds, set once at import
    "_numba_blas": set(),  # Numba's import-time BLAS check answered without importing SciPy
    # where Numba caches compiled kernels (imported by the modules of them)
    "_numba_cache": {"_numba_blas"},
    "vecmath": {"_numba_cache"},  # numbers only: NumPy, Numba
    "_pack": set(),  # lists of Python numbers into NumPy arrays (the tape's flush, the tables)
    "size": set(),  # tg.Size and the factories' size= keyword
    "_legacy_tensor": {"size"},  # the values of Tensor(2, 3) / Tensor([1, 2])
    "memory_format": set(),  # tg.channels_last, ...: accepted and checked, layouts not tracked
    "_bounded_cache": set(),  # the per-op plan/table caches' evict-when-full dict
    "promotion": {"tensor"},  # PyTorch's result dtypes (the default dtype lives in tensor)
    "_tensor_str": set(),  # a tensor's printed values, laid out as PyTorch's (NumPy arrays)
    "registry": {"vecmath"},
    "grad_mode": set(),
    # device objects and CUDA storage (numba.cuda imported lazily): tensors hold it, the tape
    # tells device segments by it, the CUDA engine allocates through it
    "device": set(),
    "_live_segments": set(),  # a thread's live segments, held weakly (the tape's list of them)
    "tape": {"_config", "_pack", "registry", "device", "_live_segments"},
    "tape_watch": {"tape"},  # import watches of activation checkpointing
    "_deepcopy": set(),  # copy.deepcopy of tensors: their values, views and attributes
    "tensor": {"_tensor_str", "_legacy_tensor", "_deepcopy", "grad_mode", "tape", "device",
               "size"},
    # (vecmath: numbers-only loops below the engine, e.g. float32 sums accumulated in float64)
    "engine": {"_config", "_numba_cache", "_pack", "_bounded_cache", "registry", "tape", "device",
               "vecmath"},
    "creation": BOTTOM,
    # the forward of ops on CUDA tensors launches the kernels of engine/cuda (a layer below)
    "ops": BOTTOM | {"creation", "engine"},
    "autograd": BOTTOM | {"creation", "ops", "engine"},
}
# may import anything below them (cuda: the public tg.cuda functions)
TOP = {"numpy_dispatch", "func", "nn", "optim", "warmup", "linalg", "fft", "utils", "distributed",
       "cuda", "serialization", "compile", "torch_names", "special", "testing", "distributions",
       "random", "accelerator", "backends", "windows", "_serial_extra", "_serial_device"}


def _part(module):
    bits = module.split(".")
    return bits[1] if len(bits) > 1 else "__init__"


def _targets(path, module, is_pkg):
    tree = ast.parse(path.read_text(), str(path))
    pkg = module if is_pkg else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("tapegrad"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("tapegrad"):
                continue
            if node.module is None or target.count(".") == 0:
                yield from (f"{target}.{a.name}" for a in node.names)
            else:
                yield target


def import_graph():
    edges = {}
    for f in sorted(PKG.rglob("*.py")):
        rel = f.relative_to(PKG.parent).with_suffix("")
        is_pkg = rel.name == "__init__"
        module = ".".join(rel.parts[:-1] if is_pkg else rel.parts)
        src = _part(module)
        if src == "__init__":
            continue  # the public face imports everything
        for t in _targets(f, module, is_pkg):
            dst = _part(t)
            known = (PKG / dst).is_dir() or (PKG / f"{dst}.py").exists()
            if known and dst != src:
                edges.setdefault(src, set()).add(dst)
    return edges


def test_every_import_points_down():
    edges = import_graph()
    bad = []
    for src, dsts in edges.items():
        if src in TOP:
            continue
        assert src in ALLOWED, f"new part {src!r}: give it a layer in this test"
        bad += [f"{src} -> {d}" for d in sorted(dsts - ALLOWED[src])]
    assert not bad, "imports that cross the layers: " + ", ".join(bad)


def test_no_import_cycle():
    edges = import_graph()
    state = {}

    def visit(v, path):
        state[v] = 1
        for w in sorted(edges.get(v, ())):
            if state.get(w) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path + [v, w]))
            if w not in state:
                visit(w, path + [v])
        state[v] = 2

    for v in sorted(edges):
        if v not in state:
            visit(v, [])


def test_tensor_and_engine_import_alone():
    """The bottom and the engine load without the ops or autograd layers."""
    import subprocess
    import sys

    code = ("import sys, importlib; importlib.import_module('tapegrad.engine.sweep'); "
            "importlib.import_module('tapegrad.tensor'); "
            "bad = [m for m in ('tapegrad.ops', 'tapegrad.autograd', 'tapegrad.numpy_dispatch') "
            "if m in sys.modules]; print(bad)")
    # importing a submodule runs tapegrad/__init__ first, which loads everything; so load the
    # files under a fresh package object instead
    loader = (
        "import importlib.util, sys, types, pathlib\n"
        f"root = pathlib.Path({str(PKG)!r})\n"
        "pkg = types.ModuleType('tapegrad'); pkg.__path__ = [str(root)]\n"
        "sys.modules['tapegrad'] = pkg\n"
    )
    out = subprocess.run([sys.executable, "-c", loader + code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_import_loads_no_heavy_dependency():
    """``import tapegrad`` stays cheap: Numba loads with the first backward, SciPy (an optional
    accelerator of erf) and Dask only when asked for, CUDA never by itself."""
    import subprocess
    import sys

    code = ("import sys, tapegrad; "
            "print([m for m in ('numba', 'scipy', 'dask', 'distributed', 'numba.cuda', 'torch') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
