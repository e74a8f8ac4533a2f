"""L-BFGS with an optional strong-Wolfe line search: a port of ``torch.optim.LBFGS``.

The update and the line search follow PyTorch's implementation (itself after minFunc) step for
step, with PyTorch's rounding of its vector updates and dot products (``_fused``), so in float64
a run reproduces PyTorch's iterates to the last bit on problems of up to 15 parameters.

CUDA parameters: the flat vectors (gradient, directions, curvature history) stay in host memory
and the rounding above runs there; parameters and gradients are copied across at each function
evaluation (two synchronising copies per parameter), so iterates follow the CPU's.
"""

import math

import numpy as np

from ..grad_mode import enable_grad, no_grad
from ..tensor import Tensor, _make
from ._fused import axpy as _axpy
from ._fused import dot as _dot
from .optimizer import Optimizer, check_tensor_lr, _arr, _as_real, _touch


def _host(t):
    """``t``'s values as an ndarray: its storage on the CPU, a host copy of a CUDA tensor; a
    complex one as its (re, im) pairs, as PyTorch's L-BFGS views complex parameters as real."""
    return _as_real(t._data.host() if t.is_cuda else t._arr())


def _held(v, dtype):
    """A state entry as PyTorch keeps it: an array or a number of ``dtype`` as a tensor (lists
    element by element); ints and ``None`` as they are."""
    if isinstance(v, list):
        return [_held(x, dtype) for x in v]
    if isinstance(v, (np.ndarray, np.generic, float)):
        return _make(np.asarray(v, dtype) if np.ndim(v) == 0 else v)
    return v


def _unheld(v):
    """``_held`` undone: tensors (saved, or loaded from a state dict) as host values."""
    if isinstance(v, list):
        return [_unheld(x) for x in v]
    if isinstance(v, Tensor):
        a = np.asarray(v._data.host() if v.is_cuda else v._arr())
        return a[()] if a.ndim == 0 else a
    return v


def _real_size(p):
    """The number of real values of parameter ``p`` and their dtype."""
    real = np.empty(0, p.dtype).real.dtype
    return p.numel() * (2 if p.dtype.kind == "c" else 1), real


def _write_back(p, data):
    """Store host values ``data`` into CUDA parameter ``p``."""
    with no_grad():
        p.detach().copy_(_make(data))


def _float(v):
    return float(v.detach()) if hasattr(v, "detach") else float(v)


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    d_norm = float(np.abs(d).max())
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = _dot(g_new, d)

    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket = [t_prev, t]
            bracket_f = [f_prev, f_new]
            bracket_g = [g_prev, g_new.copy()]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket = [t]
            bracket_f = [f_new]
            bracket_g = [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket = [t_prev, t]
            bracket_f = [f_prev, f_new]
            bracket_g = [g_prev, g_new.copy()]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                               bounds=(min_step, max_step))
        t_prev = tmp
        f_prev = f_new
        g_prev = g_new.copy()
        gtd_prev = gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = _dot(g_new, d)
        ls_iter += 1

    if ls_iter == max_ls:
        bracket = [0, t]
        bracket_f = [f, f_new]
        bracket_g = [g, g_new]

    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1],
                               bracket_f[1], bracket_gtd[1])
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = _dot(g_new, d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            bracket[high_pos] = t
            bracket_f[high_pos] = f_new
            bracket_g[high_pos] = g_new.copy()
            bracket_gtd[high_pos] = gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos] = bracket[low_pos]
                bracket_f[high_pos] = bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos] = t
            bracket_f[low_pos] = f_new
            bracket_g[low_pos] = g_new.copy()
            bracket_gtd[low_pos] = gtd_new

    t = bracket[low_pos]
    f_new = bracket_f[low_pos]
    g_new = bracket_g[low_pos]
    return f_new, g_new, t, ls_func_evals


class LBFGS(Optimizer):
    """L-BFGS; ``step(closure)`` re-evaluates the loss (the closure calls ``zero_grad``,
    computes the loss, calls ``backward`` and returns the loss).

    Example:
        >>> import tapegrad as tg
        >>> x = tg.tensor([-1.5, 2.0], requires_grad=True)
        >>> opt = tg.optim.LBFGS([x], line_search_fn="strong_wolfe")
        >>> def closure():
        ...     opt.zero_grad()
        ...     loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        ...     loss.backward()
        ...     return loss
        >>> for _ in range(5):
        ...     _ = opt.step(closure)
        >>> [round(v, 4) for v in x.tolist()]
        [1.0, 1.0]
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]
        self._numel_cache = None

    def __setstate__(self, state):
        # a pickled or deep-copied LBFGS (a Dask task's argument, copy.deepcopy) gets the
        # flat-parameter list back; PyTorch's loses it and its step raises AttributeError
        super().__setstate__(state)
        self._params = self.param_groups[0]["params"]
        self._numel_cache = None

    def _numel(self):
        if self._numel_cache is None:
            self._numel_cache = sum(_real_size(p)[0] for p in self._params)
        return self._numel_cache

    def _gather_flat_grad(self):
        views = []
        for p in self._params:
            n, real = _real_size(p)
            if p.grad is None:
                views.append(np.zeros(n, dtype=real))
            else:
                views.append(np.asarray(_host(p.grad), dtype=real).reshape(-1))
        return np.concatenate(views)

    def _add_grad(self, step_size, update):
        offset = 0
        for p in self._params:
            numel = _real_size(p)[0]
            data = _host(p)
            part = update[offset:offset + numel]
            if data.flags.c_contiguous:
                _axpy(data.reshape(-1), step_size, part)  # a view: updated in place
            else:
                data += step_size * part.reshape(data.shape)
            if p.is_cuda:
                _write_back(p, data)
            _touch(p)
            offset += numel

    def _clone_param(self):
        return [_host(p).copy() for p in self._params]

    def _set_param(self, params_data):
        for p, pdata in zip(self._params, params_data):
            if p.is_cuda:
                _write_back(p, pdata)
            else:
                _arr(p)[...] = pdata
            _touch(p)

    def _directional_evaluate(self, closure, x, t, d):
        self._add_grad(t, d)
        loss = _float(closure())
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    def step(self, closure):
        """One L-BFGS step (up to ``max_iter`` iterations); returns the first loss."""
        if closure is None:
            raise RuntimeError("LBFGS requires a closure")
        raw_closure = closure

        def closure():
            with enable_grad():
                return raw_closure()

        group = self.param_groups[0]
        lr = group["lr"]
        max_iter = group["max_iter"]
        max_eval = group["max_eval"]
        tolerance_grad = group["tolerance_grad"]
        tolerance_change = group["tolerance_change"]
        line_search_fn = group["line_search_fn"]
        history_size = group["history_size"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = closure()
        loss = _float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1

        flat_grad = self._gather_flat_grad()
        opt_cond = np.abs(flat_grad).max() <= tolerance_grad
        if opt_cond:
            return orig_loss

        # (the state holds tensors, as PyTorch's; the iteration runs on their arrays)
        d = _unheld(state.get("d"))
        t = _unheld(state.get("t"))
        old_dirs = _unheld(state.get("old_dirs"))
        old_stps = _unheld(state.get("old_stps"))
        ro = _unheld(state.get("ro"))
        H_diag = _unheld(state.get("H_diag"))
        prev_flat_grad = _unheld(state.get("prev_flat_grad"))
        prev_loss = state.get("prev_loss")
        al = _unheld(state.get("al"))

        one = np.float32(1.0) if _real_size(self._params[0])[1] == np.float32 else 1.0
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs = []
                old_stps = []
                ro = []
                H_diag = 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = _dot(y, s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(one / ys)  # (float32 scalars stay float32, as PyTorch's)
                    H_diag = ys / _dot(y, y)
                num_old = len(old_dirs)
                if al is None:
                    al = [None] * history_size
                q = -flat_grad
                for i in range(num_old - 1, -1, -1):
                    al[i] = _dot(old_stps[i], q) * ro[i]
                    _axpy(q, -al[i], old_dirs[i])
                d = r = q * H_diag
                for i in range(num_old):
                    be_i = _dot(old_dirs[i], r) * ro[i]
                    _axpy(r, al[i] - be_i, old_stps[i])

            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                prev_flat_grad[...] = flat_grad
            prev_loss = loss

            if state["n_iter"] == 1:
                t = min(1.0, one / np.abs(flat_grad).sum().astype(flat_grad.dtype)) * lr
                t = t.astype(flat_grad.dtype) if isinstance(t, np.generic) else t
            else:
                t = lr

            gtd = _dot(flat_grad, d)
            if gtd > -tolerance_change:
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = self._clone_param()

                def obj_func(x, t, d):
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd,
                    max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                if n_iter != max_iter:
                    loss = _float(closure())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1

            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter:
                break
            if current_evals >= max_eval:
                break
            if opt_cond:
                break
            if np.abs(d * t).max() <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        dtype = flat_grad.dtype
        if al is not None:
            state["al"] = _held(al, dtype)
        state["d"] = _held(d, dtype)
        state["t"] = _held(t, dtype) if isinstance(t, np.generic) else t
        state["old_dirs"] = _held(old_dirs, dtype)
        state["old_stps"] = _held(old_stps, dtype)
        state["ro"] = _held(ro, dtype)
        state["H_diag"] = _held(H_diag, dtype)
        state["prev_flat_grad"] = _held(prev_flat_grad, dtype)
        state["prev_loss"] = prev_loss
        return orig_loss
