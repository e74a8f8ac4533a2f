"""A tensor's printed values, laid out as PyTorch lays them out (``torch/_tensor_str.py``): one
width for every element, chosen from the nonzero finite values (fixed or scientific notation,
integers with a trailing point), summarised with ``...`` past ``threshold`` elements, lines
wrapped at ``linewidth``, and the suffixes (``dtype=...``, ``grad_fn=...``) appended where they
fit. Works on NumPy arrays only."""

import math

import numpy as np


class _Formatter:
    """The width and notation of one set of values (the real or imaginary parts)."""

    def __init__(self, values, opts):
        self.opts = opts
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.max_width = True, False, 1
        flat = values.reshape(-1)
        if not self.floating:
            for v in flat.tolist():
                self.max_width = max(self.max_width, len(f"{v}"))
            return
        vals = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
        if not vals.size:
            return
        mags = np.abs(vals)
        lo, hi = float(mags.min()), float(mags.max())  # (Python's: no NumPy overflow warning)
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        self.sci_mode = (hi > 1000.0 * lo or hi > 1.0e8 or lo < 1.0e-4) \
            if opts["sci_mode"] is None else opts["sci_mode"]
        p = opts["precision"]
        for v in vals.tolist():
            if self.sci_mode:
                width = len(f"{v:.{p}e}")
            elif self.int_mode:
                width = len(f"{v:.0f}") + 1
            else:
                width = len(f"{v:.{p}f}")
            self.max_width = max(self.max_width, width)

    def format(self, value):
        p = self.opts["precision"]
        if self.floating:
            if self.sci_mode:
                s = f"{value:{self.max_width}.{p}e}"
            elif self.int_mode:
                s = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    s += "."
            else:
                s = f"{value:.{p}f}"
        else:
            s = f"{value}"
        return (self.max_width - len(s)) * " " + s


def _summarized(a, edge):
    """The elements that are printed when ``a`` is summarised (the first and last ``edge``
    along every dim)."""
    if a.ndim == 0:
        return a
    if a.shape[0] > 2 * edge:
        a = np.concatenate([a[:edge], a[-edge:]])
    if a.ndim == 1:
        return a
    return np.stack([_summarized(row, edge) for row in a]) if len(a) else a


def _element(value, f1, f2):
    if f2 is None:
        return f1.format(value)
    real = f1.format(value.real)
    imag = (f2.format(value.imag) + "j").lstrip()
    return real + imag if imag[0] in "+-" else real + "+" + imag


def _vector(a, indent, summarize, f1, f2, opts):
    width = f1.max_width + 2 + (f2.max_width + 1 if f2 is not None else 0)
    per_line = max(1, math.floor((opts["linewidth"] - indent) / width))
    edge = opts["edgeitems"]
    if summarize and not edge:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * edge:
        data = [_element(v, f1, f2) for v in a[:edge].tolist()] + [" ..."] + \
            [_element(v, f1, f2) for v in a[-edge:].tolist()]
    else:
        data = [_element(v, f1, f2) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(a, indent, summarize, f1, f2, opts):
    if a.ndim == 0:
        return _element(a.item(), f1, f2)
    if a.ndim == 1:
        return _vector(a, indent, summarize, f1, f2, opts)
    edge = opts["edgeitems"]
    if summarize and a.shape[0] > 2 * edge:
        rows = [_nested(a[i], indent + 1, summarize, f1, f2, opts) for i in range(edge)] + \
            ["..."] + [_nested(a[i], indent + 1, summarize, f1, f2, opts)
                       for i in range(len(a) - edge, len(a))]
    else:
        rows = [_nested(a[i], indent + 1, summarize, f1, f2, opts) for i in range(len(a))]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def values_str(a, indent, opts):
    """The bracketed values of array ``a``, starting at column ``indent``."""
    if a.size == 0:
        return "[]"
    summarize = a.size > opts["threshold"]
    shown = _summarized(a, opts["edgeitems"]) if summarize else a
    if a.dtype.kind == "c":
        f1, f2 = _Formatter(shown.real, opts), _Formatter(shown.imag, opts)
    else:
        f1, f2 = _Formatter(shown, opts), None
    return _nested(a, indent, summarize, f1, f2, opts)


def with_suffixes(text, suffixes, indent, linewidth):
    """``text`` with ``, suffix`` appended for each suffix, on a new line where the line would
    pass ``linewidth``, then the closing parenthesis. A ``dtype=`` suffix counts as long as
    PyTorch's (``dtype=torch.float32``), so lines break where PyTorch breaks them."""
    parts = [text]
    last = len(text) - text.rfind("\n") + 1
    for s in suffixes:
        n = len(s) + (len("torch.") if s.startswith("dtype=") else 0)
        if last + n + 2 > linewidth:
            parts.append(",\n" + " " * indent + s)
            last = indent + n
        else:
            parts.append(", " + s)
            last += n + 2
    parts.append(")")
    return "".join(parts)
