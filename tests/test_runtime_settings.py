"""The first lines of PyTorch scripts: thread counts (NumPy's BLAS), seeding and the default
generator (``tg.random``), ``tg.Size`` and the deterministic-algorithms flag, with PyTorch's
values and errors."""

import os
import pickle
import subprocess
import sys
import types

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import _threads


def _error(fn, *args, **kwargs):
    with pytest.raises(Exception) as info:
        fn(*args, **kwargs)
    return type(info.value), str(info.value)


# ---- threads ------------------------------------------------------------------------------

@pytest.fixture
def blas_threads_kept():
    before = _threads.blas_threads()
    yield before
    if before is not None:
        _threads.set_blas_threads(before)


def test_set_num_threads_sets_what_numpys_blas_reports(blas_threads_kept):
    if blas_threads_kept is None:  # no BLAS to reach (not Linux, not OpenBLAS, no threadpoolctl)
        with pytest.warns(UserWarning, match="no BLAS whose thread count can be set"):
            tg.set_num_threads(1)
        assert tg.get_num_threads() == os.cpu_count()
        return
    assert tg.get_num_threads() == blas_threads_kept
    tg.set_num_threads(1)
    assert tg.get_num_threads() == _threads.blas_threads() == 1
    tg.set_num_threads(np.int64(2))  # (any integer type, as torch)
    assert tg.get_num_threads() == 2
    a = np.random.default_rng(0).standard_normal((64, 64))
    assert np.array_equal(tg.tensor(a) @ tg.tensor(a), a @ a)  # BLAS still works


def test_threads_through_threadpoolctl_when_it_is_importable(monkeypatch):
    calls, info = [], [{"user_api": "openmp", "num_threads": 8, "filepath": "/x/libgomp.so"},
                       {"user_api": "blas", "num_threads": 4, "filepath": "/x/scipy/libblas.so"},
                       {"user_api": "blas", "num_threads": 3, "filepath": "/x/numpy/libblas.so"}]

    def threadpool_limits(limits, user_api):
        calls.append((limits, user_api))
        for d in info:
            if d["user_api"] == user_api:
                d["num_threads"] = limits

    fake = types.SimpleNamespace(threadpool_info=lambda: [dict(d) for d in info],
                                 threadpool_limits=threadpool_limits)
    monkeypatch.setitem(sys.modules, "threadpoolctl", fake)
    assert tg.get_num_threads() == 3  # NumPy's BLAS first
    tg.set_num_threads(5)
    assert calls == [(5, "blas")] and tg.get_num_threads() == 5
    assert info[0]["num_threads"] == 8  # OpenMP pools are not BLAS's
    assert _threads.set_blas_threads(1) == "threadpoolctl"


def test_set_num_threads_errors_as_torch(torch):
    kept = torch.get_num_threads()
    try:
        for bad in (0, -1, 1.5, "2", True):
            assert _error(tg.set_num_threads, bad) == _error(torch.set_num_threads, bad), bad
    finally:
        torch.set_num_threads(kept)
    assert _error(tg.set_num_threads, 1 << 40) == (ValueError, "Overflow when unpacking long")


def test_benchmark_helper_pins_blas_through_the_package():
    # in a child whose BLAS starts on 2 threads (importing the helper module sets environment
    # variables, which this process keeps out of)
    bench = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "asv_benchmarks")
    root = os.path.dirname(bench)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="2",
               PYTHONPATH=os.pathsep.join([bench, root, os.environ.get("PYTHONPATH", "")]))
    code = ("import numpy, tapegrad as tg; before = tg.get_num_threads(); "
            "from benchmarks.common import blas_one_thread; "
            "print(before, blas_one_thread(), tg.get_num_threads(), sep='|')")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.strip().split("|")
    if _threads.blas_threads() is None:  # no BLAS reachable on this platform
        assert out[1] == "environment variables only"
    else:
        assert out[0] == "2" and out[1] != "environment variables only" and out[2] == "1"


# ---- seeds and the default generator --------------------------------------------------------

def test_manual_seed_returns_the_default_generator_and_seeds_the_draws():
    g = tg.manual_seed(7)
    assert g is tg.default_generator is tg.random.default_generator
    assert isinstance(g, tg.Generator) and tg.initial_seed() == g.initial_seed() == 7
    x = tg.randn(4)
    assert tg.randn(4, generator=tg.default_generator).tolist() != x.tolist()  # one stream
    g.manual_seed(7)
    assert tg.randn(4).tolist() == x.tolist()
    tg.random.manual_seed(7)
    assert tg.randn(4, generator=tg.default_generator).tolist() == x.tolist()


def test_seed_reseeds_from_entropy_and_reports_it():
    s = tg.seed()
    assert isinstance(s, int) and 0 <= s < 1 << 64 and tg.initial_seed() == s
    x = tg.rand(3)
    tg.manual_seed(s)
    assert tg.rand(3).tolist() == x.tolist()
    assert tg.random.seed() != s  # (fresh entropy: equal with probability 2**-63)


def test_rng_state_round_trips_through_every_name():
    tg.manual_seed(0)
    state = tg.random.get_rng_state()
    assert state.dtype == tg.uint8 and tg.default_generator.get_state().tolist() == state.tolist()
    x = tg.rand(5)
    tg.set_rng_state(state)
    assert tg.rand(5).tolist() == x.tolist()
    tg.random.set_rng_state(state)
    assert tg.rand(5).tolist() == x.tolist()


def test_fork_rng_restores_state_and_initial_seed():
    tg.manual_seed(5)
    x = tg.rand(3)
    tg.manual_seed(5)
    with tg.random.fork_rng():
        tg.rand(10)
        tg.manual_seed(9)
        assert tg.initial_seed() == 9
    assert tg.initial_seed() == 5 and tg.rand(3).tolist() == x.tolist()
    with tg.random.fork_rng(enabled=False):
        tg.rand(1)
    assert tg.rand(3).tolist() != x.tolist()


def test_seed_values_and_errors_as_torch(torch):
    kept = torch.get_rng_state()
    try:
        for seed in (-1, -(1 << 63), (1 << 64) - 1, 3.7, "12", True, np.int64(4)):
            tg.manual_seed(seed)
            torch.manual_seed(seed)
            assert tg.initial_seed() == torch.initial_seed(), seed
        for bad in (1 << 64, -(1 << 63) - 1, None):
            assert _error(tg.manual_seed, bad) == _error(torch.manual_seed, bad), bad
        for bad in (1.5, "5", True):
            assert _error(tg.Generator().manual_seed, bad) == \
                _error(torch.Generator().manual_seed, bad), bad
        assert tg.Generator().manual_seed(-1).initial_seed() == \
            torch.Generator().manual_seed(-1).initial_seed()
    finally:
        torch.set_rng_state(kept)
    public = {n for n in dir(torch.random) if not n.startswith("_")}
    assert set(tg.random.__all__) <= public


def test_nn_init_draws_from_a_given_generator():
    g = tg.Generator().manual_seed(0)
    a, b = tg.empty(5), tg.empty(5)
    tg.nn.init.uniform_(a, generator=g)
    tg.nn.init.uniform_(b, generator=g.manual_seed(0))
    assert a.tolist() == b.tolist() and 0 <= a.min().item() and a.max().item() < 1
    with pytest.raises(TypeError, match="generator must be a tapegrad.Generator"):
        tg.nn.init.normal_(a, generator=3)


# ---- Size -------------------------------------------------------------------------------------

def test_size_as_torch_size(torch):
    s, t = tg.Size([2, 3]), torch.Size([2, 3])
    assert s == t == (2, 3) and (2, 3) == s and hash(s) == hash((2, 3))
    assert repr(s) == repr(t).replace("torch", "tapegrad") == str(s)
    assert s.numel() == t.numel() and tg.Size().numel() == torch.Size().numel() == 1
    assert tg.Size([0, 4]).numel() == 0
    for got, want in ((s[1:], t[1:]), (s + (4,), t + (4,)), ((1,) + s, (1,) + t),
                      (s * 2, t * 2), (2 * s, 2 * t), (s + s, t + t)):
        assert isinstance(got, tg.Size) and got == want
    assert type(s[0]) is int and s.index(3) == 1 and s.count(2) == 1
    assert tg.Size([True, np.int64(3), tg.tensor(4)]) == torch.Size([True, np.int64(3), 4])
    assert tg.Size(np.array([5, 6])) == (5, 6)
    for bad in ([1.5], ["a"], 3):
        kind, msg = _error(torch.Size, bad)
        assert _error(tg.Size, bad) == (kind, msg.replace("torch", "tapegrad")), bad
    assert pickle.loads(pickle.dumps(s)) == s and type(pickle.loads(pickle.dumps(s))) is tg.Size


def test_size_works_where_shapes_go():
    s = tg.Size([2, 3])
    x = tg.zeros(s)
    assert x.shape == s and tg.randn(s).shape == s and tg.ones(*s).shape == s
    assert x.reshape(tg.Size([3, 2])).shape == (3, 2) and x.view(tg.Size([6])).shape == (6,)
    assert x.new_zeros(s).shape == s and tg.full(s, 1.0).shape == s
    assert tg.zeros(3).expand(tg.Size([2, 3])).shape == (2, 3)
    assert tg.Size(x.shape).numel() == x.numel()


# ---- deterministic algorithms ---------------------------------------------------------------

@pytest.fixture
def deterministic_off():
    yield
    tg.use_deterministic_algorithms(False)


def test_deterministic_flag_as_torch(torch, deterministic_off):
    try:
        for mode, warn_only in ((True, False), (True, True), (False, False), (False, True)):
            tg.use_deterministic_algorithms(mode, warn_only=warn_only)
            torch.use_deterministic_algorithms(mode, warn_only=warn_only)
            assert tg.are_deterministic_algorithms_enabled() is \
                torch.are_deterministic_algorithms_enabled() is mode
            assert tg.is_deterministic_algorithms_warn_only_enabled() is \
                torch.is_deterministic_algorithms_warn_only_enabled()
            assert tg.get_deterministic_debug_mode() == torch.get_deterministic_debug_mode()
        for mode in ("default", "warn", "error", 0, 1, 2):
            tg.set_deterministic_debug_mode(mode)
            torch.set_deterministic_debug_mode(mode)
            assert tg.get_deterministic_debug_mode() == torch.get_deterministic_debug_mode()
            assert tg.are_deterministic_algorithms_enabled() is \
                torch.are_deterministic_algorithms_enabled()
            assert tg.is_deterministic_algorithms_warn_only_enabled() is \
                torch.is_deterministic_algorithms_warn_only_enabled()
        for bad in (1, "x", None):
            assert _error(tg.use_deterministic_algorithms, bad) == \
                _error(torch.use_deterministic_algorithms, bad), bad
        assert _error(tg.use_deterministic_algorithms, True, warn_only=1) == \
            _error(torch.use_deterministic_algorithms, True, warn_only=1)
        assert _error(tg.use_deterministic_algorithms, True, True) == \
            _error(torch.use_deterministic_algorithms, True, True)
        for bad in (3, "x", 1.0, None):
            assert _error(tg.set_deterministic_debug_mode, bad) == \
                _error(torch.set_deterministic_debug_mode, bad), bad
    finally:
        torch.use_deterministic_algorithms(False)


def test_accumulating_ops_add_in_index_order(deterministic_off):
    # what makes the flag a no-op on the CPU: repeated targets add in index order, so the
    # results are those of a sequential loop, to the last bit
    tg.use_deterministic_algorithms(True)
    rng = np.random.default_rng(0)
    src = rng.standard_normal(2000) * 10.0 ** rng.integers(-8, 8, 2000)
    idx = rng.integers(0, 3, 2000)
    want = np.zeros(3)
    for i, v in zip(idx, src):
        want[i] += v
    got = tg.zeros(3).index_add(0, tg.tensor(idx), tg.tensor(src))
    assert got.numpy().tobytes() == want.tobytes()
    got = tg.zeros(3).scatter_add(0, tg.tensor(idx), tg.tensor(src))
    assert got.numpy().tobytes() == want.tobytes()
    w = tg.zeros(3, requires_grad=True)
    (w[tg.tensor(idx)] * tg.tensor(src)).sum().backward()  # the gather's VJP scatters
    assert w.grad.numpy().tobytes() == want.tobytes()
