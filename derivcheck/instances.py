"""Random instances for the checks, and how far apart two values are.

An instance gives every dimension a size, every symbol values drawn from its
assumptions' sampler and every generic function random coefficients.  Values
are float64 numbers, which are exact rationals: the same instance is used in
float64 and at 50 digits, so a float failure can be re-checked at the very
same point.  Instances whose pre-activations sit near a kink (relu, step, abs)
or outside a function's domain (log, sqrt) are redrawn.
"""
from __future__ import annotations

import dataclasses
import functools
import itertools
import zlib

import mpmath
import numpy as np

from . import expr as E
from .assumptions import sampler_for
from .evaluate import FLOAT, WATCHED_NODES, Env, EvaluationError, Ties, at_sizes, evaluate
from .functions import generic

__all__ = ["claim_rng", "draw", "to_mp", "discrepancy", "concrete_shape", "NoInstance"]

MAX_TRIES = 40


class NoInstance(EvaluationError):
    """No instance away from kinks and inside the functions' domains was found."""


def claim_rng(seed: int, claim_id: str, *path: int) -> np.random.Generator:
    """The claim's own generator: the same seed and id give the same instances."""
    return np.random.default_rng([seed, zlib.crc32(claim_id.encode()), *path])


def sizes_rng(seed: int, dims) -> np.random.Generator:
    """Sizes depend on the seed and the set of dimensions only, so claims over the
    same dimensions are checked at the same sizes (and share compiled derivatives)."""
    return np.random.default_rng([seed, zlib.crc32(",".join(sorted(d.name for d in dims)).encode())])


def concrete_shape(e: E.Expr, sizes: dict) -> tuple[int, int]:
    return tuple(int(at_sizes(d, sizes)) for d in E.shape(e))


# Evaluating with zero derivatives lets the sampler look at every function
# application, including those inside a derivative's f, without differentiating.
WATCHING = dataclasses.replace(
    FLOAT, derivative=lambda node, env, be: np.zeros(concrete_shape(node, env.sizes)))


def watched_roots(exprs) -> list[tuple[E.Expr, bool]]:
    """(root, whether it is differentiated): the claim's sides, and the function of every derivative.
    A kink matters only where something is differentiated (relu(0) = 0 is a fine value)."""
    return list(_watched_roots(tuple(exprs)))


# The trees are immutable and asked the same questions at every point: answers cached per tuple of trees.

@functools.lru_cache(maxsize=4096)
def _watched_roots(exprs: tuple) -> tuple:
    roots = [(e, False) for e in exprs]
    for e in exprs:
        for node in E.walk(e):
            if isinstance(node, (E.Grad, E.Jacobian, E.Directional)):
                roots.append((node.f, True))
    return tuple(roots)


def _needs_watch(exprs) -> bool:
    """Whether a draw can land on a kink, outside a domain or on a singular matrix: only then is the
    instance evaluated in float64 before it is used (most claims have nothing to watch)."""
    return _watch_needed(tuple(exprs))


@functools.lru_cache(maxsize=4096)
def _watch_needed(exprs: tuple) -> bool:
    for e in exprs:
        for node in E.walk(e):
            if isinstance(node, E.Apply) and node.fn.watched:
                return True
            if isinstance(node, (E.Inv, E.Det, *WATCHED_NODES)):
                return True
            if isinstance(node, E.Pow) and not (isinstance(node.b, E.Scalar) and node.b.value.is_Integer
                                                and node.b.value >= 0):
                return True
    return False


def _acceptable(watch, kinks: bool) -> bool:
    """Every watched argument where its watcher admits it: finite, inside the domains and, where something
    is differentiated (``kinks``), off the kinks and the ties of a max."""
    return all(watcher.admits(np.asarray(arg, dtype=float), kinks) for watcher, arg in watch)


def _on_edge(watch) -> set:
    """The watchers whose arguments sit exactly on a kink, tie or domain edge (see exactly_on_edge)."""
    return {f"ties of {w.name}" if isinstance(w, Ties) else f"{w.name} on a kink or domain edge" for w, arg in watch
            if getattr(w, "exactly_on_edge", None) and w.exactly_on_edge(np.asarray(arg, dtype=float))}


def draw(exprs, sizes: dict, rng: np.random.Generator, fixed: dict | None = None, scale: float = 1.0) -> Env:
    """A float64 instance for ``exprs`` at ``sizes``.  ``fixed`` gives some symbols their values
    (a configuration of the discrete symbols being enumerated); the others are drawn, and redrawn
    while a function's argument sits on a kink or outside its domain.  ``scale`` multiplies the
    draws of the domains that are cones (the real line, positive entries, symmetric matrices...):
    points far out, where a shifted kink (relu(X - 10)) changes sides."""
    symbols = E.symbols_of(*exprs)
    roots = watched_roots(exprs) if _needs_watch(exprs) else []
    fixed = fixed or {}
    avoided: set = set()
    for _ in range(MAX_TRIES):
        values = {}
        for name, s in symbols.items():
            if name in fixed:
                values[name] = fixed[name]
                continue
            r, c = concrete_shape(s, sizes)
            domain = sampler_for(name, s.assume)
            values[name] = domain.draw(rng, r, c) * (scale if domain.scalable else 1.0)
        params = {g: generic(g).sample_parameters(rng) for g in E.generics_of(*exprs)}
        env = Env(sizes, values, params)
        watch: list = []
        try:
            acceptable = True
            with np.errstate(all="ignore"):
                for root, differentiated in roots:
                    watch = []
                    value = evaluate(root, env, WATCHING, watch)
                    if not np.all(np.isfinite(value)):
                        raise EvaluationError("not finite")
                    if not _acceptable(watch, kinks=differentiated):
                        acceptable = False
                        avoided |= _on_edge(watch)
        except (EvaluationError, ValueError, ZeroDivisionError, FloatingPointError):
            continue
        if acceptable:
            env.avoided = frozenset(avoided)
            return env
    raise NoInstance("no instance found away from kinks and inside the domains of "
                     + ", ".join(sorted({fn.name for fn, _ in watch})) if watch else
                     "no instance with finite values found")


# ---------------------------------------------------------------- kinks

def kinked_nodes(exprs) -> list:
    """The applications of functions with kinks (relu, step, abs): the claim is piecewise there, and
    each piece must be visited (a random point decides only where everything is smooth)."""
    return list(_kinked_nodes(tuple(exprs)))


@functools.lru_cache(maxsize=4096)
def _kinked_nodes(exprs: tuple) -> tuple:
    out, seen = [], set()
    for root, _ in watched_roots(exprs):
        for node in E.walk(root):
            if isinstance(node, E.Apply) and node.fn.kinks and id(node) not in seen:
                seen.add(id(node))
                out.append(node)
    return tuple(out)


def kink_sides(nodes, exprs, env: Env) -> set:
    """{(node id, kink, side)} for the sides of its kinks each node's argument took at this instance."""
    wanted = {id(n): n for n in nodes}
    out = set()

    def observe(node, value, ev):
        if id(node) in wanted:
            arg = np.asarray(ev(node.a), dtype=float)
            for k in node.fn.kinks:
                if np.any(arg < k):
                    out.add((id(node), k, "below"))
                if np.any(arg > k):
                    out.add((id(node), k, "above"))

    observe_float(exprs, env, observe)
    return out


def observe_float(exprs, env: Env, observe) -> None:
    """Evaluate the claim's sides and the functions it differentiates in float64, calling
    ``observe(node, value, ev)`` for every node (evaluate.evaluate); a value float64 cannot compute
    ends the pass quietly (what was observed so far stands)."""
    try:
        with np.errstate(all="ignore"):
            for root, _ in watched_roots(exprs):
                evaluate(root, env, WATCHING, observe=observe)
    except (EvaluationError, ArithmeticError, ValueError, TypeError):
        pass


# ---------------------------------------------------------------- discrete symbols

ENUMERATION_LIMIT = 256  # configurations of the discrete symbols checked one by one at each size assignment
SAMPLED_CONFIGURATIONS = 48  # beyond the limit: the extreme configurations, then random ones, up to this many


def discrete_symbols(exprs) -> dict:
    """name -> (symbol, sampler) for the symbols whose values are discrete (binary, one-hot, permutation)."""
    out = {}
    for name, s in E.symbols_of(*exprs).items():
        domain = sampler_for(name, s.assume)
        if domain.discrete:
            out[name] = (s, domain)
    return out


def configuration_count(discrete: dict, sizes: dict) -> int:
    """How many joint configurations the discrete symbols have at these sizes."""
    total = 1
    for s, domain in discrete.values():
        total *= domain.count(*concrete_shape(s, sizes))
    return total


def configurations(discrete: dict, sizes: dict, rng: np.random.Generator, limit: int = ENUMERATION_LIMIT,
                   budget: int = SAMPLED_CONFIGURATIONS):
    """(configurations to check, how many there are): every one when there are at most ``limit``,
    otherwise each symbol's extreme configurations (with the others random) and then random ones,
    ``budget`` in all.  A configuration maps symbol names to values."""
    if not discrete:
        return [{}], 1
    total = configuration_count(discrete, sizes)
    shapes = {name: concrete_shape(s, sizes) for name, (s, _) in discrete.items()}
    if total <= limit:
        names = list(discrete)
        lists = [list(discrete[n][1].every(*shapes[n])) for n in names]
        return [dict(zip(names, combo)) for combo in itertools.product(*lists)], total

    def random_config():
        return {n: d.draw(rng, *shapes[n]) for n, (_, d) in discrete.items()}

    chosen, seen = [], set()

    def add(config):
        key = tuple(config[n].tobytes() for n in sorted(config))
        if key not in seen:
            seen.add(key)
            chosen.append(config)

    for name, (_, domain) in discrete.items():
        for value in domain.extremes(rng, *shapes[name]):
            add({**random_config(), name: value})
    for _ in range(20 * budget):
        if len(chosen) >= budget:
            break
        add(random_config())
    return chosen[:budget], total


def to_mp(env: Env) -> Env:
    """The same instance as mpmath numbers (exactly: floats are rationals)."""
    conv = np.vectorize(mpmath.mpf, otypes=[object])
    values = {k: conv(v) for k, v in env.values.items()}
    params = {k: tuple(mpmath.mpf(c) for c in v) for k, v in env.params.items()}
    return Env(env.sizes, values, params, {k: conv(v) for k, v in env.overrides.items()})


_abs = np.vectorize(lambda v: float(abs(v)), otypes=[float])


def discrepancy(lhs: np.ndarray, rhs: np.ndarray, floor: float = 1e-8):
    """(largest relative difference, its entry), relative to the largest magnitude on
    either side.  ``floor`` bounds that scale from below: entries that are zero up to
    round-off must not look like large relative errors, and values that are small
    but not zero must not hide a wrong claim (a floor of 1 would)."""
    diff = _abs(lhs - rhs)
    scale = max(floor, float(_abs(lhs).max(initial=0.0)), float(_abs(rhs).max(initial=0.0)))
    idx = np.unravel_index(int(np.argmax(diff)), diff.shape)
    return float(diff[idx]) / scale, tuple(int(i) for i in idx)


def named_sizes(sizes: dict) -> dict:
    """Sizes keyed by dimension name, for evidence and counterexamples."""
    return {str(k): int(v) for k, v in sizes.items()}


def fmt_sizes(sizes: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(named_sizes(sizes).items())) or "fixed sizes"


def as_lists(env: Env, names=None) -> dict:
    """Symbol values (all, or those in ``names``) as nested lists of floats, for a counterexample."""
    return {k: np.asarray(v, dtype=float).tolist() for k, v in env.values.items() if names is None or k in names}
