"""Assumptions on symbols and dimensions: what values and sizes the checks may use.

``SAMPLERS`` is the one table of random-instance generators.  Each row names
the assumptions its values satisfy; a symbol gets the row that covers all of
its assumptions and adds the fewest others.  Assumptions only constrain sampling: derivatives are
always taken w.r.t. unconstrained entries.

Sizes: every dimension gets a distinct size (so a transpose cannot hide behind
a square shape), drawn so that the claim's dimension relations (``m > n``) hold.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["ASSUMPTIONS", "SAMPLERS", "validate", "sampler_for", "size_assignments", "UnsatisfiableError"]


class UnsatisfiableError(ValueError):
    """The assumptions or relations cannot be met together."""


def _default(rng, r, c):
    return rng.standard_normal((r, c))


def _binary(rng, r, c):
    return rng.integers(0, 2, size=(r, c)).astype(float)


def _probability(rng, r, c):
    return rng.uniform(0.05, 0.95, size=(r, c))


def _positive(rng, r, c):
    return rng.uniform(0.25, 2.0, size=(r, c))


def _one_hot_rows(rng, r, c):
    out = np.zeros((r, c))
    out[np.arange(r), rng.integers(0, c, size=r)] = 1.0
    return out


def _one_hot_columns(rng, r, c):
    return _one_hot_rows(rng, c, r).T.copy()  # one example per column (column-vector documents)


def _rows_sum_to_one(rng, r, c):
    # Entries are multiples of 2**-20, so the last column 1 - (sum of the others)
    # is exact in float64 and each row sums to exactly one, also at 50 digits.
    w = rng.uniform(0.1, 1.0, size=(r, c))
    p = np.round(w / w.sum(axis=1, keepdims=True) * 2**20) / 2**20
    p[:, -1] = 1.0 - p[:, :-1].sum(axis=1)
    return p


def _symmetric(rng, r, c):
    a = rng.standard_normal((r, c))
    return (a + a.T) / 2


def _symmetric_invertible(rng, r, c):
    # symmetric and diagonally dominant, hence invertible and well conditioned
    return _symmetric(rng, r, c) + r * np.eye(r) * rng.choice([-1.0, 1.0])


def _spd(rng, r, c):
    a = rng.standard_normal((r, c))
    s = a @ a.T + r * np.eye(r)
    return (s + s.T) / 2  # exactly symmetric despite the product's rounding


def _invertible(rng, r, c):
    return rng.standard_normal((r, c)) + r * np.eye(r)


@dataclass(frozen=True)
class Sampler:
    name: str
    satisfies: frozenset
    square: bool
    draw: Callable[[np.random.Generator, int, int], np.ndarray]


SAMPLERS: list[Sampler] = [
    Sampler("one_hot_rows", frozenset({"one_hot_rows", "binary", "rows_sum_to_one"}), False, _one_hot_rows),
    Sampler("one_hot_columns", frozenset({"one_hot_columns", "binary"}), False, _one_hot_columns),
    Sampler("binary", frozenset({"binary"}), False, _binary),
    Sampler("rows_sum_to_one", frozenset({"rows_sum_to_one", "probability", "positive"}), False, _rows_sum_to_one),
    Sampler("probability", frozenset({"probability", "positive"}), False, _probability),
    Sampler("positive", frozenset({"positive"}), False, _positive),
    Sampler("spd", frozenset({"spd", "symmetric", "invertible"}), True, _spd),
    Sampler("symmetric_invertible", frozenset({"symmetric", "invertible"}), True, _symmetric_invertible),
    Sampler("symmetric", frozenset({"symmetric"}), True, _symmetric),
    Sampler("invertible", frozenset({"invertible"}), True, _invertible),
    Sampler("default", frozenset(), False, _default),
]

ASSUMPTIONS = frozenset().union(*(s.satisfies for s in SAMPLERS))


def validate(name: str, assume) -> None:
    unknown = [a for a in assume if a not in ASSUMPTIONS]
    if unknown:
        raise ValueError(f"unknown assumption {unknown[0]!r} on {name}; known: {', '.join(sorted(ASSUMPTIONS))}")
    sampler_for(name, frozenset(assume))


def sampler_for(name: str, assume: frozenset) -> Sampler:
    """The sampler that covers ``assume`` and adds the fewest other properties
    (an unconstrained symbol gets Gaussian entries, not one-hot rows)."""
    covering = [s for s in SAMPLERS if assume <= s.satisfies]
    if covering:
        return min(covering, key=lambda s: len(s.satisfies - assume))
    raise UnsatisfiableError(f"no sampler satisfies {', '.join(sorted(assume))} together (on {name})")


# ---------------------------------------------------------------- sizes


def _holds(relations, sizes: dict) -> bool:
    return all(bool(r.subs(sizes)) for r in relations)


def size_assignments(dim_symbols, relations, pool, count: int, rng: np.random.Generator) -> list[dict]:
    """Up to ``count`` different assignments of distinct sizes from ``pool``.

    The first uses the smallest sizes in name order where the relations allow;
    the others are random permutations, so a claim that only works for one
    ordering of the sizes is caught.
    """
    names = sorted(dim_symbols, key=lambda s: s.name)
    if not names:
        return [{}]
    if len(names) > len(pool):
        pool = list(pool) + list(range(max(pool) + 1, max(pool) + 1 + len(names) - len(pool)))
    # the smallest sizes first; the wider pool only if the relations leave too few
    candidates = []
    for perm in itertools.islice(itertools.permutations(pool[: len(names)]), 5040):
        sizes = dict(zip(names, perm))
        if _holds(relations, sizes):
            candidates.append(sizes)
    if len(candidates) < count:
        for combo in itertools.islice(itertools.permutations(pool, len(names)), 200000):
            sizes = dict(zip(names, combo))
            if sizes not in candidates and _holds(relations, sizes):
                candidates.append(sizes)
                if len(candidates) >= max(count, 50):
                    break
    if not candidates:
        raise UnsatisfiableError("no sizes satisfy the relations " + ", ".join(map(str, relations)))
    chosen = [candidates[0]]
    rest = candidates[1:]
    order = rng.permutation(len(rest)) if rest else []
    for i in order:
        if len(chosen) >= count:
            break
        chosen.append(rest[int(i)])
    return chosen

