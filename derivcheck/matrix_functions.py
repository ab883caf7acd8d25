"""Matrix functions (expm, logm, sqrtm): one table, one row per function.

A row gives, like an elementwise function's (functions.py):

- ``numpy``: the float64 value, by SciPy (scipy.linalg.expm, logm, sqrtm: the well-kept ones);
- ``mpmath``: the value at the working precision, by mpmath's own expm, logm, sqrtm;
- ``exact``: the value computed with arithmetic only (+, −, ×, ÷ on object arrays), so that it runs
  unchanged on dual numbers: this is what forward mode differentiates (to any order), and it is
  checked against ``mpmath`` by the tests.  Series are summed and iterations run until every part of
  every entry (values and derivatives alike) has stopped changing at the working precision, with
  guard digits;
- ``admits``: where the samplers may draw the argument (logm and sqrtm need no eigenvalue on the
  closed negative real axis: their principal branches are analytic only off it);
- ``latex``/``mathml``: notation; ``code``: the NumPy code form for kernels.

Derivatives are never written by hand here: the exact stage differentiates ``exact`` by forward
mode, the float64 stage takes finite differences of ``numpy``.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import mpmath
import numpy as np

from .dual import magnitude, size
from .functions import scipy_function

__all__ = ["MatrixFunction", "MATRIX_FUNCTIONS", "inverse", "eliminate"]

GUARD_DIGITS = 20
EXPM_SCALE = 10  # expm's series is summed for ‖A / 2^s‖ ≤ 2^−10
SPECTRUM_MARGIN = 1e-3  # relative distance kept between an eigenvalue and the negative real axis
MAX_STEPS = 200


class MatrixDomainError(ArithmeticError):
    """The argument is outside the function's domain (for example a real logarithm that does not exist)."""


# ---------------------------------------------------------------- arithmetic on object arrays


def _identity(n: int) -> np.ndarray:
    out = np.full((n, n), mpmath.mpf(0), dtype=object)
    np.fill_diagonal(out, mpmath.mpf(1))
    return out


def eliminate(a: np.ndarray, rhs: np.ndarray | None):
    """Gaussian elimination with partial pivoting in whatever scalar arithmetic the entries have
    (mpmath or dual numbers); returns det(a) and, if given, a⁻¹·rhs."""
    a = a.copy()
    n = a.shape[0]
    x = None if rhs is None else rhs.copy()
    det = mpmath.mpf(1)
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: magnitude(a[r, col]))
        if magnitude(a[pivot, col]) == 0:
            if x is not None:
                raise ZeroDivisionError("singular matrix")
            return mpmath.mpf(0), None
        if pivot != col:
            a[[col, pivot]] = a[[pivot, col]]
            if x is not None:
                x[[col, pivot]] = x[[pivot, col]]
            det = -det
        det = det * a[col, col]
        for r in range(col + 1, n):
            factor = a[r, col] / a[col, col]
            a[r, col:] = a[r, col:] - factor * a[col, col:]
            if x is not None:
                x[r] = x[r] - factor * x[col]
    if x is not None:
        for r in reversed(range(n)):
            x[r] = (x[r] - (a[r, r + 1:] @ x[r + 1:] if r + 1 < n else 0)) / a[r, r]
    return det, x


def inverse(a: np.ndarray) -> np.ndarray:
    return eliminate(a, _identity(a.shape[0]))[1]


def _norm1(a) -> mpmath.mpf:
    """The 1-norm (largest column sum) of the values at the point."""
    return max(sum((magnitude(x) for x in a[:, j]), mpmath.mpf(0)) for j in range(a.shape[1]))


def _settled(change, total) -> bool:
    return size(change) <= mpmath.mpf(10) ** -(mpmath.mp.dps - 2) * max(size(total), mpmath.mpf(1))


def _expm(a: np.ndarray) -> np.ndarray:
    """Scaling and squaring: the Taylor series of exp(A / 2^s) with ‖A / 2^s‖ ≤ 2^−EXPM_SCALE, squared s
    times (a small norm needs few terms: each squaring costs one product, each term one too)."""
    n = a.shape[0]
    with mpmath.workdps(mpmath.mp.dps + GUARD_DIGITS):
        norm = _norm1(a)
        s = max(0, int(mpmath.ceil(mpmath.log(norm, 2))) + EXPM_SCALE) if norm > 0 else 0
        b = a / mpmath.mpf(2) ** s
        total, term = _identity(n), _identity(n)
        for k in range(1, MAX_STEPS):
            term = (term @ b) / k
            total = total + term
            if _settled(term, total):
                break
        for _ in range(s):
            total = total @ total
    return total


def _sqrtm(a: np.ndarray) -> np.ndarray:
    """The principal square root by the product form of the Denman–Beavers iteration (one inverse per step):
    Y ← Y (I + M⁻¹)/2, M ← (I + (M + M⁻¹)/2)/2 from Y = M = A, so that Y → A^½ and M → I."""
    n = a.shape[0]
    with mpmath.workdps(mpmath.mp.dps + GUARD_DIGITS):
        identity = _identity(n)
        y, m = a, a
        for _ in range(MAX_STEPS):
            m_inv = inverse(m)
            y_next = y @ (identity + m_inv) / 2
            m = (identity + (m + m_inv) / 2) / 2
            done = _settled(y_next - y, y_next)
            y = y_next
            if done:
                return y
    raise MatrixDomainError("the square-root iteration did not converge (an eigenvalue on the negative real axis?)")


def _logm(a: np.ndarray) -> np.ndarray:
    """Inverse scaling and squaring: square roots until A^(1/2^k) is near I, then
    log(I + X) = 2 atanh(X (2I + X)⁻¹) by its series, times 2^k."""
    n = a.shape[0]
    with mpmath.workdps(mpmath.mp.dps + GUARD_DIGITS):
        r, k = a, 0
        while _norm1(r - _identity(n)) > 0.25:
            r, k = _sqrtm(r), k + 1
            if k > 64:
                raise MatrixDomainError("no real logarithm: the square roots do not approach I")
        x = r - _identity(n)
        y = x @ inverse(2 * _identity(n) + x)
        y2 = y @ y
        total, power = y, y
        for j in range(3, 2 * MAX_STEPS, 2):
            power = power @ y2
            term = power / j
            total = total + term
            if _settled(term, total):
                break
        return total * mpmath.mpf(2) ** (k + 1)


def _with_mpmath(fn):
    def call(a: np.ndarray) -> np.ndarray:
        return np.array(fn(mpmath.matrix(a.tolist())).tolist(), dtype=object)

    return call


def _real(fn):
    """SciPy's function with a real result (or MatrixDomainError), its accuracy warnings silenced: the
    float64 stage only screens, and any suspicion is decided at 50 digits."""
    def call(a: np.ndarray) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out = fn(a)
        if np.iscomplexobj(out):
            if np.max(np.abs(out.imag), initial=0.0) > 1e-8 * max(1.0, np.max(np.abs(out.real), initial=0.0)):
                raise MatrixDomainError("the result is not real")
            out = out.real
        return np.asarray(out, dtype=float)

    return call


def _anywhere(arg: np.ndarray, kinks: bool = True) -> bool:
    return bool(np.all(np.isfinite(arg)))


def _off_negative_axis(arg: np.ndarray, kinks: bool = True) -> bool:
    """No eigenvalue on (or near) the closed negative real axis, where the principal branch is not analytic."""
    if not _anywhere(arg):
        return False
    eig = np.linalg.eigvals(arg)
    margin = SPECTRUM_MARGIN * max(1.0, float(np.max(np.abs(eig), initial=0.0)))
    return not np.any((eig.real <= margin) & (np.abs(eig.imag) <= margin))


@dataclass(frozen=True, eq=False)
class MatrixFunction:
    """A function of a square matrix (one row of MATRIX_FUNCTIONS)."""

    name: str
    numpy: Callable[[np.ndarray], np.ndarray]
    mpmath: Callable[[np.ndarray], np.ndarray]
    exact: Callable[[np.ndarray], np.ndarray]
    admits: Callable[..., bool]  # (float64 argument, kinks) -> inside the domain
    latex: str
    mathml: str
    code: str

    @property
    def watched(self) -> bool:
        return True


MATRIX_FUNCTIONS: dict[str, MatrixFunction] = {f.name: f for f in [
    MatrixFunction("expm", _real(scipy_function("linalg", "expm")), _with_mpmath(mpmath.expm), _expm, _anywhere,
                   "\\operatorname{expm}", "expm", "scipy.linalg.expm({0})"),
    MatrixFunction("logm", _real(scipy_function("linalg", "logm")), _with_mpmath(mpmath.logm), _logm, _off_negative_axis,
                   "\\operatorname{logm}", "logm", "scipy.linalg.logm({0}).real"),
    MatrixFunction("sqrtm", _real(scipy_function("linalg", "sqrtm")), _with_mpmath(mpmath.sqrtm), _sqrtm, _off_negative_axis,
                   "\\operatorname{sqrtm}", "sqrtm", "scipy.linalg.sqrtm({0}).real"),
]}
