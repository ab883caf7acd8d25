"""Spec mode: the truth from derivcheck itself, with no finite-difference noise at all.

The loss (or a layer's output) is also written as a derivcheck expression — a
``[define]`` name of a TOML claim file, or an expression built with the Python
API.  At the code's own point (its float64 values are exact rationals) the
directional derivative along V is derivcheck's forward mode at 50 digits
(derivcheck.forward: dual numbers through the explicit scalar entries), so the
code is judged against the exact truth with a tolerance set by the code's
float round-off only (``RTOL``).  First the spec's value is compared with the
code's: a spec that does not describe the code decides nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import mpmath
import numpy as np
import sympy

from .. import expr as E
from ..evaluate import MP, Env, evaluate
from ..forward import directional_forward, forward_backend
from ..parse import ClaimFileError, load_scope
from .calling import GradcheckError, Problem

__all__ = ["Spec", "RTOL"]

DIGITS = 50
#: the code's gradient against the exact truth: relative to the derivative, by the code's dtype
RTOL = {np.dtype(np.float64): 2.0 ** -30, np.dtype(np.float32): 2.0 ** -12}
#: the code's loss against the spec's value
VALUE_RTOL = {np.dtype(np.float64): 2.0 ** -30, np.dtype(np.float32): 2.0 ** -12}


@dataclass
class Spec:
    """A derivcheck expression that the user's loss (or layer output) computes.

    ``args`` names the positional ``args`` of check_gradients in the spec's names
    (parameters and inputs are matched by their dict keys)."""

    expr: E.Expr
    args: tuple = ()
    source: str = ""

    @classmethod
    def from_toml(cls, path, loss: str, args=()) -> "Spec":
        """The definition ``loss`` of a TOML claim file's ``[define]`` block."""
        try:
            scope = load_scope(Path(path))
        except ClaimFileError as exc:
            raise GradcheckError(str(exc)) from None
        found = scope.lookup(loss)
        if not isinstance(found, (E.Defined, E.Symbol)):
            known = ", ".join(scope.defines) or "none"
            raise GradcheckError(f"{path}: no definition named {loss!r} (defined: {known})")
        return cls(found, tuple(args), f"{path}: {loss}")

    def bind(self, problem: Problem, named: dict) -> "Truth":
        return Truth(self, problem, named)


def _to_2d(a: np.ndarray, rows: int, cols: int, name: str) -> np.ndarray:
    a = np.asarray(a)
    if a.shape == (rows, cols):
        return a
    if a.size == rows * cols and tuple(s for s in a.shape if s != 1) == tuple(s for s in (rows, cols) if s != 1):
        return a.reshape(rows, cols)
    raise GradcheckError(f"the spec's {name} is {rows} × {cols} at these sizes, but the code's {name} has shape "
                         f"{a.shape}")


def _mp(a: np.ndarray) -> np.ndarray:
    return np.vectorize(lambda x: mpmath.mpf(float(x)), otypes=[object])(np.asarray(a, dtype=np.float64))


@dataclass
class Truth:
    """A spec bound to one problem: sizes inferred from the arrays, values matched by name."""

    spec: Spec
    problem: Problem
    named: dict
    notes: list = field(default_factory=list)
    mismatch: str = ""  # set when the spec does not describe the code

    def __post_init__(self):
        self.symbols = E.symbols_of(self.spec.expr)
        missing = sorted(set(self.symbols) - set(self.named) - set(self.problem.point))
        if missing:
            raise GradcheckError(f"the spec uses {', '.join(missing)}, which the code's arguments do not name "
                                 "(name positional args with Spec(..., args=(...)))")
        self.sizes = self._sizes()
        self.rtol = RTOL.get(self.problem.dtype, RTOL[np.dtype(np.float32)])
        self.backend = forward_backend()
        self.notes.append(f"truth: derivcheck's forward mode at {DIGITS} digits of {self.spec.source or 'the spec'}; "
                          f"tolerance {self.rtol:.1e} relative, the code's {self.problem.dtype} round-off")
        self.mismatch = self._compare_values()

    def _sizes(self) -> dict:
        sizes: dict = {}
        for name, s in self.symbols.items():
            a = np.asarray(self._value(name, {}))
            shape = a.shape if a.ndim == 2 else ((1, a.size) if s.rows == 1 or s.cols != 1 else (a.size, 1))
            if a.ndim == 0:
                shape = (1, 1)
            for d, n in zip((s.rows, s.cols), shape):
                d = sympy.sympify(d)
                if d.is_Integer:
                    if int(d) != n:
                        raise GradcheckError(f"the spec's {name} has {int(d)} where the code's has {n} (shape {a.shape})")
                    continue
                if d.is_Symbol:
                    if sizes.setdefault(d, n) != n:
                        raise GradcheckError(f"dimension {d} is {sizes[d]} from one array but {n} from {name} "
                                             f"(shape {a.shape})")
        return sizes

    def _value(self, name, point):
        return point[name] if name in point else (self.problem.point[name] if name in self.problem.point
                                                   else self.named[name])

    def _env(self, point) -> Env:
        values = {}
        for name, s in self.symbols.items():
            rows, cols = (int(sympy.sympify(d).xreplace(self.sizes)) for d in (s.rows, s.cols))
            values[name] = _mp(_to_2d(self._value(name, point), rows, cols, name))
        return Env(self.sizes, values)

    def _contract(self, out: np.ndarray):
        """The scalar the problem's loss is: the spec itself, or ⟨U, out⟩ for a layer."""
        if self.problem.upstream is not None:
            U = _mp(_to_2d(self.problem.upstream, *out.shape, "output"))
            return mpmath.fsum(u * o for u, o in zip(U.reshape(-1), out.reshape(-1)))
        if out.shape != (1, 1):
            raise GradcheckError(f"the spec is {out.shape[0]} × {out.shape[1]}, but the code's loss is a number")
        return out[0, 0]

    def _compare_values(self) -> str:
        with mpmath.workdps(DIGITS):
            spec_value = float(self._contract(evaluate(self.spec.expr, self._env({}), MP)))
        code_value = self.problem.value(self.problem.point)
        rtol = VALUE_RTOL.get(self.problem.dtype, VALUE_RTOL[np.dtype(np.float32)])
        if abs(spec_value - code_value) <= rtol * max(abs(spec_value), 1e-300):
            return ""
        return (f"the spec does not describe this code: at the point the code computes {code_value!r}, "
                f"the spec {spec_value!r}")

    def directional(self, point: dict, name: str, V: np.ndarray) -> float:
        """d/dt of the spec at ``point`` moved along V in variable ``name``, at 50 digits."""
        wrt = self.symbols.get(name)
        if wrt is None:
            return 0.0  # the spec does not depend on it
        with mpmath.workdps(DIGITS):
            env = self._env(point)
            direction = _mp(_to_2d(V, *env.values[name].shape, name))
            return float(self._contract(directional_forward(self.spec.expr, wrt, direction, env, self.backend)))
