"""Why a gradient is wrong: the repair vocabulary, and where the wrong entries are.

Each repair proposes a corrected gradient C (the sign flipped, transposed, a
named factor divided out, another parameter's gradient, a bias gradient summed
over the batch, …).  A proposal is kept only when C agrees with every probe
already made, and it is shown only after one more probe along a fresh direction
agrees too: every diagnosis is checked before it is shown, as diagnose.py does
for claims.  The repairs are a table (``VALUE_REPAIRS``, ``SHAPE_REPAIRS``), one
row per idea, tried in order.

Where: the error G − ∇f is located by probes along directions restricted to
halves, quarters, … of the rows and of the columns (a bisection: a few dozen
probes for one wrong row among a thousand, whatever the size), then the few
entries left are measured one by one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from .engine import Checker, Outcome
from .result import Entry

__all__ = ["Finding", "shape_candidates", "explain", "ENTRYWISE_LIMIT"]

ENTRYWISE_LIMIT = 24  # variables this small are measured entry by entry
MAX_FOUND = 8  # rows (columns, entries) located before the error counts as spread out
MAX_ENTRIES = 16  # entries measured one by one after locating


@dataclass
class Finding:
    diagnosis: str = ""
    where: str = ""
    entries: list = field(default_factory=list)


# ---------------------------------------------------------------- shapes


def _fmt(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _transposed(G, shape):
    if G.ndim == 2 and G.T.shape == tuple(shape) and G.shape != tuple(shape):
        yield f"transposed: the code returns shape {_fmt(G.shape)} for a {_fmt(shape)} variable", lambda g: g.T


def _not_summed(G, shape):
    shape = tuple(shape)
    if G.ndim == len(shape) + 1 and G.shape[1:] == shape:
        yield (f"not summed over the batch: the code returns shape {_fmt(G.shape)}, one row per example, "
               f"for a {_fmt(shape)} variable"), lambda g: g.sum(axis=0)
    if G.ndim == len(shape):
        axes = [a for a in range(G.ndim) if shape[a] == 1 and G.shape[a] != 1]
        if len(axes) == 1 and all(G.shape[a] == shape[a] for a in range(G.ndim) if a != axes[0]):
            yield (f"not summed over the batch: the code returns shape {_fmt(G.shape)} for a {_fmt(shape)} "
                   f"variable (sum over axis {axes[0]})"), lambda g, a=axes[0]: g.sum(axis=a, keepdims=True)


SHAPE_REPAIRS = (_transposed, _not_summed)


def shape_candidates(G: np.ndarray, shape):
    """[(text, transform)] turning a gradient returned in the wrong shape into one of the right shape."""
    return [c for rule in SHAPE_REPAIRS for c in rule(G, shape)]


# ---------------------------------------------------------------- values


def _sign(G, ctx):
    yield "sign flipped: the code returns the negative of the gradient", -G


def _transpose(G, ctx):
    if G.ndim == 2 and G.shape[0] == G.shape[1] and G.shape[0] > 1:
        yield "transposed: the code returns the transpose of the gradient (a square variable)", G.T


def _swapped(G, ctx):
    for other, H in ctx["others"].items():
        if isinstance(H, np.ndarray) and H.shape == G.shape and not np.array_equal(H, G):
            yield f"swapped with {other}: the code returns {other}'s gradient for {ctx['name']} (and the other way round)", H


def _zero(G, ctx):
    if G.size and not np.any(G):
        yield "zero where it should not be: the code returns all zeros, but the loss changes along it", None


def _factor(G, ctx):
    k = ctx["fitted"]
    if k is None or not np.isfinite(k) or k == 0:
        return
    for value, name in ctx["factors"]:
        if abs(k / value - 1) < 1e-2:
            yield f"scaled by {name}: the code's gradient is {_plain(value)} times the true one", G / value
    yield f"scaled by {_plain(k)}: the code's gradient is {_plain(k)} times the true one (no named factor fits)", G / k


VALUE_REPAIRS = (_sign, _transpose, _swapped, _zero, _factor)


def _plain(k: float) -> str:
    q = Fraction(k).limit_denominator(64)
    if abs(float(q) - k) <= 1e-6 * abs(k):
        return str(q)
    return f"{k:.4g}"


def named_factors(batch, sizes) -> list:
    """(value, name) for the scale factors a backward pass typically gets wrong."""
    out = [(2.0, "2"), (0.5, "1/2")]
    if batch and batch > 2:
        out += [(float(batch), f"N = {batch} (the batch size)"), (1.0 / batch, f"1/N = 1/{batch} (N the batch size)")]
    for n, where in sizes:
        if n > 2 and n != batch:
            out += [(float(n), f"{n} ({where})"), (1.0 / n, f"1/{n} ({where})")]
    return out


def _fit(checker: Checker, probes, G) -> float | None:
    """k with claimed ≈ k · truth along the probes made (least squares)."""
    c = np.array([float(np.vdot(G, p.direction)) for p in probes])
    d = np.array([p.derivative for p in probes])
    if not np.all(np.isfinite(d)) or not np.any(d):
        return None
    return float(np.dot(c, d) / np.dot(d, d))


# ---------------------------------------------------------------- checking a proposal


def _fits(checker: Checker, probes, C) -> bool:
    return all(checker.agrees(p, C) for p in probes)


def _confirmed(checker: Checker, outcome: Outcome, name: str, C) -> bool:
    """One fresh probe: the proposal must predict a direction it was not fitted to."""
    p = checker.probe(outcome.point, name, C, checker.direction(C.shape))
    return np.isfinite(p.derivative) and checker.agrees(p, C)


def _zero_confirmed(checker: Checker, outcome: Outcome, name: str, G) -> bool:
    p = checker.probe(outcome.point, name, G, checker.direction(G.shape))
    return np.isfinite(p.derivative) and not checker.agrees(p, G)


def repair(checker: Checker, outcome: Outcome, name: str, G, ctx: dict, probes=None) -> str:
    """The first repair that explains every probe and one fresh one, or ''."""
    probes = outcome.probes if probes is None else probes
    ctx = dict(ctx, fitted=_fit(checker, probes, G), name=name)
    for rule in VALUE_REPAIRS:
        for text, C in rule(G, ctx):
            if C is None:
                if _zero_confirmed(checker, outcome, name, G):
                    return text
                continue
            if _fits(checker, probes, C) and _confirmed(checker, outcome, name, C):
                return text
    return ""


# ---------------------------------------------------------------- where


def _mask(shape, axis, indices) -> np.ndarray:
    m = np.zeros(shape)
    index = [slice(None)] * len(shape)
    index[axis] = list(indices)
    m[tuple(index)] = 1.0
    return m


def _off(checker: Checker, outcome: Outcome, name: str, G, mask) -> bool:
    p = checker.probe(outcome.point, name, G, checker.direction(G.shape, mask))
    return np.isfinite(p.derivative) and not checker.agrees(p, G)


def _bisect(checker, outcome, name, G, indices: list, mask_of):
    """The ``indices`` where the error lives, or None when there are more than MAX_FOUND.

    A half is probed only when needed: if the left half of an off set agrees, the error is in the right one."""
    found = []

    def visit(indices):  # indices is known to hold some of the error
        if len(found) > MAX_FOUND:
            return
        if len(indices) == 1:
            found.append(indices[0])
            return
        half = len(indices) // 2
        left, right = indices[:half], indices[half:]
        if _off(checker, outcome, name, G, mask_of(left)):
            visit(left)
            if _off(checker, outcome, name, G, mask_of(right)):
                visit(right)
        else:
            visit(right)

    visit(list(indices))
    return None if len(found) > MAX_FOUND else sorted(found)


def _span(checker, outcome, name, G, count: int, mask_of) -> tuple[int, int]:
    """The first and the last index holding some of the error: two binary searches over prefixes and
    suffixes, 2·log2(count) probes whatever the number of off indices."""
    lo, hi = 0, count - 1  # the prefix [0, hi] is off
    while lo < hi:
        mid = (lo + hi) // 2
        if _off(checker, outcome, name, G, mask_of(range(0, mid + 1))):
            hi = mid
        else:
            lo = mid + 1
    first = lo
    lo, hi = first, count - 1  # the suffix [lo, count) is off
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _off(checker, outcome, name, G, mask_of(range(mid, count))):
            lo = mid
        else:
            hi = mid - 1
    return first, lo


def _located(checker, outcome, name, G, count: int, mask_of) -> tuple[list, bool]:
    """(indices, exact): the off indices one by one when the span holds few, else the span itself."""
    first, last = _span(checker, outcome, name, G, count, mask_of)
    if last - first + 1 <= 2 * MAX_FOUND:
        found = _bisect(checker, outcome, name, G, list(range(first, last + 1)), mask_of)
        if found is not None:
            return found, True
    return list(range(first, last + 1)), False


def _words(indices: list, exact: bool, count: int, noun: str) -> str:
    if exact:
        return f"{noun}{'s' if len(indices) > 1 else ''} {_list(indices)} of {count}"
    return f"{noun}s {indices[0]}–{indices[-1]} of {count}"


def _entrywise(checker: Checker, outcome: Outcome, name: str, G, indices) -> list:
    """(index, claimed, true, off) measured along each unit direction."""
    out = []
    for idx in indices:
        unit = np.zeros(G.shape)
        unit[idx] = 1.0
        p = checker.probe(outcome.point, name, G, unit)
        weight = p.direction[idx]
        if not np.isfinite(p.derivative) or weight == 0:
            continue
        out.append((tuple(int(i) for i in idx), float(G[idx]), p.derivative / weight, not checker.agrees(p, G)))
    return out


def _list(items, limit=6) -> str:
    items = list(items)
    text = ", ".join(str(i) for i in items[:limit])
    return text + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _where_from_entries(shape, off) -> str:
    """Words for a set of off entries: whole rows, whole columns, or the entries."""
    if not off:
        return ""
    if len(shape) == 2 and shape[0] > 1 and shape[1] > 1:
        rows = sorted({i for i, _ in off})
        cols = sorted({j for _, j in off})
        if len(off) == len(rows) * shape[1]:
            return f"whole row{'s' if len(rows) > 1 else ''} {_list(rows)} of {shape[0]}"
        if len(off) == len(cols) * shape[0]:
            return f"whole column{'s' if len(cols) > 1 else ''} {_list(cols)} of {shape[1]}"
    flat = [idx if len(idx) > 1 else idx[0] for idx in sorted(off)]
    return f"entr{'ies' if len(off) > 1 else 'y'} {_list(flat)}"


def locate(checker: Checker, outcome: Outcome, name: str, G) -> tuple[str, list, np.ndarray | None]:
    """(words for where the error is, [Entry] largest first, mask of the region or None)."""
    shape = G.shape
    if G.size <= ENTRYWISE_LIMIT:
        measured = _entrywise(checker, outcome, name, G, list(np.ndindex(*shape)))
        off = [m for m in measured if m[3]]
        mask = np.zeros(shape)
        for m in off:
            mask[m[0]] = 1.0
        return _where_from_entries(shape, {m[0] for m in off}), _entries(off), (mask if off else None)
    if not (len(shape) == 2 and shape[0] > 1 and shape[1] > 1):
        found, exact = _located(checker, outcome, name, G, G.size, lambda ix: _flat_mask(shape, ix))
        mask = _flat_mask(shape, found)
        measured = _entrywise(checker, outcome, name, G, [np.unravel_index(i, shape) for i in found]) \
            if exact and len(found) <= MAX_ENTRIES else []
        off = [m for m in measured if m[3]]
        words = _where_from_entries(shape, {m[0] for m in off}) if off else _words(found, exact, G.size, "entrie")
        return words + _rest(checker, outcome, name, G, 1 - mask), _entries(off), mask
    rows, rows_exact = _located(checker, outcome, name, G, shape[0], lambda ix: _mask(shape, 0, ix))
    cols, cols_exact = _located(checker, outcome, name, G, shape[1], lambda ix: _mask(shape, 1, ix))
    mask = _mask(shape, 0, rows) * _mask(shape, 1, cols)
    every_col, every_row = len(cols) == shape[1], len(rows) == shape[0]
    off = []
    if rows_exact and cols_exact and len(rows) * len(cols) <= MAX_ENTRIES and not (every_col or every_row):
        off = [m for m in _entrywise(checker, outcome, name, G, [(i, j) for i in rows for j in cols]) if m[3]]
    if off:
        words = _where_from_entries(shape, {m[0] for m in off})
    elif every_col and not every_row:
        words = _words(rows, rows_exact, shape[0], "row") + (", across all columns" if cols_exact
                                                              else ", spanning all columns")
    elif every_row and not every_col:
        words = _words(cols, cols_exact, shape[1], "column") + (", across all rows" if rows_exact
                                                                 else ", spanning all rows")
    elif every_row and every_col:
        words = "spread over the whole matrix"
    else:
        words = _words(rows, rows_exact, shape[0], "row") + " × " + _words(cols, cols_exact, shape[1], "column")
    return words + _rest(checker, outcome, name, G, 1 - mask), _entries(off), mask


def _flat_mask(shape, indices) -> np.ndarray:
    m = np.zeros(int(np.prod(shape)))
    m[list(indices)] = 1.0
    return m.reshape(shape)


def _rest(checker, outcome, name, G, mask) -> str:
    """'; elsewhere it agrees' when a probe confined to the rest agrees (a checked statement)."""
    if not np.any(mask):
        return ""
    if _off(checker, outcome, name, G, mask):
        return "; other entries are off too"
    return "; elsewhere it agrees"


def _entries(off) -> list:
    items = [Entry(idx, claimed, true) for idx, claimed, true, _ in off]
    return sorted(items, key=lambda e: -abs(e.claimed - e.true))[:MAX_ENTRIES]


def _region_factor(probes, G, inside) -> float | None:
    """k with G = k·∇f on the region, the rest taken as right (least squares over the probes made)."""
    G_in = np.where(inside, G, 0.0)
    G_out = G - G_in
    a = np.array([float(np.vdot(G_in, p.direction)) for p in probes])
    b = np.array([p.derivative - float(np.vdot(G_out, p.direction)) for p in probes])
    if not np.all(np.isfinite(b)) or not np.any(b):
        return None
    return float(np.dot(a, a) / np.dot(a, b))


def _region_repairs(G, mask, ctx, probes):
    """Repairs confined to the located region: a sign or a factor on those entries, or zeros there."""
    inside = mask.astype(bool)
    if not np.any(G[inside]):
        yield "zero where it should not be: the code returns zeros there, but the loss changes", None
    flipped = G.copy()
    flipped[inside] = -flipped[inside]
    yield "sign flipped in those entries", flipped
    k = _region_factor(probes, G, inside)
    named = [(v, label) for v, label in ctx["factors"] if k and abs(k / v - 1) < 1e-2]
    if k and np.isfinite(k) and np.count_nonzero(inside) >= 3:  # a free factor fits one or two entries trivially
        named.append((k, _plain(k)))
    for value, label in named:
        scaled = G.copy()
        scaled[inside] = scaled[inside] / value
        yield f"scaled by {label} in those entries", scaled


def explain(checker: Checker, outcome: Outcome, name: str, G, ctx: dict) -> Finding:
    """The diagnosis and the location of a wrong gradient (each claim checked by probes)."""
    text = repair(checker, outcome, name, G, ctx)
    if text:
        return Finding(text)
    where, entries, mask = locate(checker, outcome, name, G)
    finding = Finding("", where, entries)
    if mask is not None and np.any(mask):
        for text, C in _region_repairs(G, mask, ctx, outcome.probes):
            if C is None:
                if "elsewhere it agrees" in where:
                    finding.diagnosis = text
                    break
                continue
            if _fits(checker, outcome.probes, C) and _confirmed(checker, outcome, name, C):
                finding.diagnosis = text
                break
    return finding
