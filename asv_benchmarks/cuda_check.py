"""GPU check of tapegrad's CUDA backend: speed against the hardware, and correctness.

Run on a machine with an NVIDIA GPU and numba-cuda (pip install 'tapegrad[cuda]'):

    python asv_benchmarks/cuda_check.py            # full sizes, < 2 min on a GPU
    NUMBA_ENABLE_CUDASIM=1 python asv_benchmarks/cuda_check.py --tiny   # dry run, no GPU
    python asv_benchmarks/cuda_check.py --ptx      # compile every kernel for sm_90, no GPU

``--ptx`` needs NVVM and NVRTC only (``pip install nvidia-nvvm nvidia-cuda-nvrtc``, their
``lib`` folders on ``LD_LIBRARY_PATH``): it type-checks and compiles each kernel of the kernel
modules for the real target (float32 and float64 data), which the simulator cannot.

1. elementwise forward + backward on 10^7 float32 elements, as a fraction of the GPU's peak
   memory bandwidth (from the device's memory clock and bus width);
2. a 4096 x 4096 float32 matmul (tiled shared-memory kernel), in TFLOP/s, against torch's
   cuBLAS when torch with CUDA is installed;
3. a tape of 10^4 small records (8-element tensors): forward and backward time per record,
   the backward both with one launch per record and one per dependency level (the level
   interpreter), and torch.cuda's; then 2000-record tapes of 2^10, 2^14 and 2^18 elements,
   for the size where one launch per record catches up (see docs/ARCHITECTURE.md, "CUDA");
4. per-op forward + backward on a 2048 x 2048 float32 tensor (cat, amax, max(dim), prod,
   cumsum, var, std, softmax, indexing with repeated indices, index_add, x[key] = v, a
   Hessian-vector product), checked against tapegrad on the CPU (float64) and timed against
   torch.cuda when torch with CUDA is installed.

Every part checks its values (against NumPy or torch) and the script exits 1 if any check
fails. Timings synchronise the device (``tg.cuda.synchronize``) and take the best of a few
runs after a warm-up run that compiles the kernels.
"""

import argparse
import sys
import time

import numpy as np

import tapegrad as tg


def best(fn, reps):
    fn()  # warm-up: compiles the kernels
    tg.cuda.synchronize()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        tg.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return min(times)


def peak_bandwidth():
    """Peak DRAM bandwidth in bytes/s from the device attributes (DDR: two transfers/clock)."""
    from numba import cuda

    dev = cuda.get_current_device()
    try:
        clock_khz = dev.MEMORY_CLOCK_RATE
        bus_bits = dev.GLOBAL_MEMORY_BUS_WIDTH
    except AttributeError:  # the simulator has no such attributes
        return None
    return 2.0 * clock_khz * 1e3 * bus_bits / 8


def check(name, ok, failures):
    print(f"  check {name}: {'ok' if ok else 'FAILED'}")
    if not ok:
        failures.append(name)


def elementwise(n, reps, failures):
    print(f"elementwise, {n:.0e} float32 elements")
    a = np.random.default_rng(0).standard_normal(n).astype(np.float32)
    x = tg.tensor(a, device="cuda", requires_grad=True)
    with tg.no_grad():
        fwd = best(lambda: tg.exp(x), reps)
    bw = peak_bandwidth()
    moved = 2 * 4 * n  # read x, write exp(x)
    line = f"  forward exp(x): {fwd * 1e3:.3f} ms, {moved / fwd / 1e9:.1f} GB/s"
    if bw:
        line += f" ({100 * moved / fwd / bw:.0f}% of peak {bw / 1e9:.0f} GB/s)"
    print(line)

    def step():
        x._grad = None
        (tg.exp(x) * 2.0).sum().backward()

    both = best(step, reps)
    # forward: exp (r4 w4), its float64 saved copy (r4 w8), mul (r4 w4), sum (r4);
    # backward: arena zero (w8 x3), seeds, mul and exp VJPs (r8 r8 w8 each), grad cast (r8 w4)
    moved = n * (8 + 12 + 8 + 4 + 24 + 24 + 24 + 12)
    line = f"  forward + backward of (exp(x) * 2).sum(): {both * 1e3:.3f} ms, " \
           f"~{moved / both / 1e9:.1f} GB/s"
    if bw:
        line += f" ({100 * moved / both / bw:.0f}% of peak)"
    print(line)
    g = x.grad.cpu().numpy()
    idx = np.random.default_rng(1).integers(0, n, 1000)
    y = tg.exp(x).detach().cpu().numpy()
    check("exp forward", np.allclose(y[idx], np.exp(a[idx]), rtol=1e-5), failures)
    check("gradient 2 exp(x)", np.allclose(g[idx], 2 * np.exp(a[idx]), rtol=1e-5), failures)


def matmul(n, reps, failures):
    print(f"matmul, {n} x {n} float32")
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, n)).astype(np.float32)
    B = rng.standard_normal((n, n)).astype(np.float32)
    a, b = tg.tensor(A, device="cuda"), tg.tensor(B, device="cuda")
    t = best(lambda: a @ b, reps)
    flops = 2.0 * n ** 3
    print(f"  tapegrad: {t * 1e3:.2f} ms, {flops / t / 1e12:.2f} TFLOP/s")
    c = (a @ b).cpu().numpy()
    rows = rng.integers(0, n, 8)
    ref = A[rows].astype(np.float64) @ B.astype(np.float64)
    check("matmul rows vs float64 NumPy",
          np.allclose(c[rows], ref, rtol=1e-3, atol=1e-3 * n ** 0.5), failures)
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None and torch.cuda.is_available():
        ta, tb = torch.tensor(A, device="cuda"), torch.tensor(B, device="cuda")

        def run():
            ta @ tb
            torch.cuda.synchronize()

        tt = best(run, reps)
        print(f"  torch (cuBLAS): {tt * 1e3:.2f} ms, {flops / tt / 1e12:.2f} TFLOP/s; "
              f"tapegrad takes {t / tt:.1f}x as long")
        tc = (ta @ tb).cpu().numpy()
        check("matmul vs torch", np.allclose(c, tc, rtol=1e-3, atol=1e-3 * n ** 0.5), failures)
    else:
        print("  torch with CUDA not available: no cuBLAS comparison")


def small_tape(records, reps, failures, size=8):
    """A chain of ``records`` records of ``size``-element tensors, swept both ways: one launch
    per record and one launch per dependency level (engine/cuda/levels.py); torch.cuda too."""
    from tapegrad.engine.cuda import levels

    print(f"tape of {records} records of {size}-element tensors")
    x = tg.tensor(np.linspace(0.5, 1.0, size), device="cuda", requires_grad=True)

    def forward():
        y = x
        for _ in range(records // 2):
            y = y * 1.0001 + 0.001
        return y.sum()

    fwd = best(forward, reps)
    loss = forward()
    k = records // 2
    print(f"  forward {fwd / records * 1e6:.1f} us/record")
    for mode in ("records", "levels"):
        levels.MODE = mode

        def backward():
            x._grad = None
            loss.backward(retain_graph=True)

        bwd = best(backward, reps)
        print(f"  backward, one launch per {mode[:-1]}: {bwd / records * 1e6:.2f} us/record "
              f"({bwd * 1e3:.1f} ms)")
        check(f"gradient 1.0001^k ({mode}, size {size})",
              np.allclose(x.grad.cpu().numpy(), 1.0001 ** k, rtol=1e-9), failures)
    levels.MODE = "auto"
    torch = _torch_cuda()
    if torch is not None:
        tx = torch.tensor(np.linspace(0.5, 1.0, size), device="cuda", requires_grad=True)

        def tstep():
            tx.grad = None
            y = tx
            for _ in range(records // 2):
                y = y * 1.0001 + 0.001
            y.sum().backward()
            torch.cuda.synchronize()

        t = best(tstep, reps)
        print(f"  torch.cuda forward + backward: {t / records * 1e6:.2f} us/record")


def _torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def _ops(n):
    """name -> (tapegrad fn, torch fn) of one tensor; both return a tensor to backprop."""
    rows = np.random.default_rng(2).integers(0, n, n)  # repeated rows: atomics in backward

    def setitem(x, lib):
        z = x * 1.0
        z[1 : n // 2] = x[0] * 2.0
        return z

    def hvp(x, lib):
        g = lib.autograd.grad((x.tanh() ** 2).sum(), x, create_graph=True)[0]
        return g * g

    return {
        "cat": (lambda x, lib: lib.cat([x, x * 2.0], 1)),
        "amax": (lambda x, lib: lib.amax(x, 1)),
        "max(dim)": (lambda x, lib: lib.max(x, 0).values),
        "prod": (lambda x, lib: lib.prod(x * 0.01 + 1.0, 1)),
        "cumsum": (lambda x, lib: lib.cumsum(x, 1)),
        "var": (lambda x, lib: lib.var(x, 0)),
        "std": (lambda x, lib: lib.std(x, 1)),
        "softmax": (lambda x, lib: lib.softmax(x, 1)),
        "x[rows]": (lambda x, lib: x[lib.tensor(rows, device=x.device)]),
        "index_add": (lambda x, lib: lib.index_add(x, 0, lib.tensor(rows, device=x.device), x)),
        "x[key] = v": setitem,
        "hvp": hvp,
    }


def ops(n, reps, failures):
    print(f"ops, forward + backward on {n} x {n} float32")
    try:
        import torch
    except ImportError:
        torch = None
    has_torch = torch is not None and torch.cuda.is_available()
    rng = np.random.default_rng(3)
    a = rng.uniform(-1.0, 1.0, (n, n)).astype(np.float32)
    for name, fn in _ops(n).items():
        xc = tg.tensor(a.astype(np.float64), requires_grad=True)  # the reference, float64
        yc = fn(xc, tg)
        w = rng.uniform(-1.0, 1.0, yc.shape)  # an upstream gradient
        (yc * tg.tensor(w)).sum().backward()
        x = tg.tensor(a, device="cuda", requires_grad=True)
        wd = tg.tensor(w.astype(np.float32), device="cuda")

        def step(x=x, fn=fn, wd=wd):
            x._grad = None
            y = fn(x, tg)
            (y * wd).sum().backward()
            return y

        t = best(step, reps)
        y = step()
        ok = (np.allclose(y.detach().cpu().numpy(), yc.detach().numpy(), rtol=2e-3, atol=2e-3)
              and np.allclose(x.grad.cpu().numpy(), xc.grad.numpy(), rtol=2e-3, atol=2e-3))
        line = f"  {name:12s} tapegrad {t * 1e3:8.2f} ms"
        if has_torch:
            tx = torch.tensor(a, device="cuda", requires_grad=True)
            tw = torch.tensor(w.astype(np.float32), device="cuda")

            def tstep(tx=tx, fn=fn, tw=tw):
                tx.grad = None
                (fn(tx, torch) * tw).sum().backward()
                torch.cuda.synchronize()

            tt = best(tstep, reps)
            line += f", torch {tt * 1e3:8.2f} ms ({t / tt:.1f}x)"
        print(line)
        check(f"{name} values and gradient vs CPU", ok, failures)


# Argument types of each kernel for --ptx: i int64, f float64, b bool; arrays: X the data
# (float32 and float64), F float64, I int64, B bool; M int64 2-D, D float64 2-D.
KERNEL_ARGS = {
    "where_fwd": "iBXifXifX", "clamp_fwd": "iXffX", "sign_fwd": "iXX", "round_fwd": "iiXXX",
    "cast": "iXF",
    "fill": "iXi", "add_into": "iFF", "gather": "iXIXb", "scatter_add": "iFIF",
    "index_add": "iFIF", "index_gather": "iFIF", "scatter_set": "iXIX", "put": "iXiIX",
    "compare": "iiXiXiB", "finite_or_zero": "iX", "take": "iXIX",
    "row_extremum": "iiXfIFII", "row_extremum_vjp": "iiXFFbF", "row_prod": "iiXF",
    "row_prod_vjp": "iiXFF", "row_cumsum": "iiXbF", "row_var": "iiXfbF",
    "row_var_vjp": "iiXFFfbF", "rowsum": "iiiXF", "matmul": "iiiXiiiXiiiXb",
    "ew_fwd": "iiXifXifX", "ew_vjp": "iiFXiXiXiXiffFbFb", "level_vjp": "MDMiiFFI",
}


def ptx(failures):
    """Compile every kernel to PTX for sm_90 (no GPU or driver needed)."""
    import types

    import numba.cuda.dispatcher as dispatcher
    from numba import cuda
    from numba import types as nt

    from tapegrad.engine.cuda import _kernels_generated, _kernels_movement, _kernels_rows

    # device functions are compiled for the current device's architecture: sm_90 here
    dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=(9, 0))
    arr = {"F": nt.float64[::1], "I": nt.int64[::1], "B": nt.boolean[::1],
           "M": nt.int64[:, ::1], "D": nt.float64[:, ::1]}
    scalar = {"i": nt.int64, "f": nt.float64, "b": nt.boolean}
    kernels = {}
    for mod in (_kernels_movement, _kernels_rows, _kernels_generated):
        kernels.update({k: v for k, v in vars(mod).items() if hasattr(v, "py_func")
                        and not getattr(v, "targetoptions", {}).get("device")})
    check("every kernel has argument types", set(kernels) == set(KERNEL_ARGS), failures)
    for name, spec in sorted(KERNEL_ARGS.items()):
        for data in (nt.float32, nt.float64):
            sig = [arr.get(c) or scalar.get(c) or data[::1] for c in spec]
            try:
                cuda.compile_ptx(kernels[name].py_func, nt.void(*sig), cc=(9, 0))
                ok = True
            except Exception as e:  # report every kernel, not the first failure only
                print(f"  {name} ({data}): {type(e).__name__}: {e}")
                ok = False
            check(f"{name} compiles ({data})", ok, failures)
            if "X" not in spec:
                break


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tiny", action="store_true", help="small sizes (the simulator)")
    p.add_argument("--ptx", action="store_true", help="compile the kernels only (no GPU)")
    args = p.parse_args()
    failures = []
    if args.ptx:
        ptx(failures)
        print("FAILED: " + ", ".join(failures) if failures else "all kernels compile")
        return 1 if failures else 0
    if not tg.cuda.is_available():
        print("CUDA is not available here (no GPU or no numba-cuda): nothing to check")
        return 0
    from numba import cuda

    print("device:", getattr(cuda.get_current_device(), "name", "simulator"))
    if args.tiny:
        elementwise(64, 1, failures)
        matmul(8, 1, failures)
        small_tape(10, 1, failures)
        small_tape(10, 1, failures, size=64)
        ops(6, 1, failures)
    else:
        elementwise(10 ** 7, 5, failures)
        matmul(4096, 3, failures)
        small_tape(10 ** 4, 2, failures)
        for size in (2 ** 10, 2 ** 14, 2 ** 18):  # where levels stop paying (levels.py's rule)
            small_tape(2000, 2, failures, size=size)
        ops(2048, 3, failures)
    print("FAILED: " + ", ".join(failures) if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
