"""Plain-text printer: expressions back in the claim-file vocabulary.

One method per node type (``_print_<Node>``), as in SymPy's printers; the
output parses back to the same expression.
"""
from __future__ import annotations

import sympy

from . import expr as E
from .precedence import ATOM, POWER, PRODUCT, SUM, UNARY, bracketed, is_minus_one, is_reciprocal

__all__ = ["to_text"]



class TextPrinter:
    def doprint(self, e: E.Expr) -> str:
        return self._print(e)[0]

    def _print(self, e: E.Expr) -> tuple[str, int]:
        return getattr(self, f"_print_{type(e).__name__}")(e)

    def _wrap(self, e: E.Expr, level: int, strict: bool = False) -> str:
        text, prec = self._print(e)
        return f"({text})" if bracketed(prec, level, strict) else text

    def _print_Symbol(self, e):
        return e.name, ATOM

    def _print_Defined(self, e):
        return e.name, ATOM

    def _print_Scalar(self, e):
        v = sympy.sympify(e.value)
        text = sympy.sstr(v)
        if v.is_Atom and not (v.is_Number and (v < 0 or not v.is_Integer)):  # 1/2 binds like a product
            return text, ATOM
        return text, PRODUCT if not v.is_Add else SUM

    def _print_Fill(self, e):
        if e.kind == "eye":
            return f"eye({e.rows})", ATOM
        return f"{e.kind}({e.rows}, {e.cols})", ATOM

    def _print_Add(self, e):
        left = self._wrap(e.a, SUM)
        if isinstance(e.b, E.Mul) and is_minus_one(e.b.a):
            return f"{left} - {self._wrap(e.b.b, SUM, strict=True)}", SUM
        return f"{left} + {self._wrap(e.b, SUM)}", SUM

    def _print_Mul(self, e):
        if is_minus_one(e.a):
            return f"-{self._wrap(e.b, UNARY, strict=True)}", UNARY  # -(-x), not --x
        if is_reciprocal(e.b):
            return f"{self._wrap(e.a, PRODUCT)} / {self._wrap(e.b.a, PRODUCT, strict=True)}", PRODUCT
        return f"{self._wrap(e.a, PRODUCT)} * {self._wrap(e.b, PRODUCT, strict=True)}", PRODUCT

    def _print_MatMul(self, e):
        return f"{self._wrap(e.a, PRODUCT)} @ {self._wrap(e.b, PRODUCT, strict=True)}", PRODUCT

    def _print_Pow(self, e):
        if is_minus_one(e.b):
            return f"1 / {self._wrap(e.a, PRODUCT, strict=True)}", PRODUCT
        return f"{self._wrap(e.a, POWER, strict=True)}**{self._wrap(e.b, POWER)}", POWER

    def _print_Transpose(self, e):  # (2).T: 2.T would read as the number 2.
        return f"{self._wrap(e.a, ATOM, strict=isinstance(e.a, E.Scalar))}.T", ATOM

    def _call(self, name, *args):
        return f"{name}({', '.join(self.doprint(a) if isinstance(a, E.Expr) else str(a) for a in args)})", ATOM

    def _print_Apply(self, e):
        return self._call(e.fn.name, e.a)

    def _print_Softmax(self, e):
        return self._call("softmax", e.a)

    def _print_Sum(self, e):
        return self._call("sum", e.a) if e.axis is None else self._call("sum", e.a, e.axis)

    def _print_Trace(self, e):
        return self._call("trace", e.a)

    def _print_Det(self, e):
        return self._call("det", e.a)

    def _print_Inv(self, e):
        return self._call("inv", e.a)

    def _print_Diag(self, e):
        return self._call("diag", e.a)

    def _print_Inner(self, e):
        return self._call("inner", e.a, e.b)

    def _print_Extreme(self, e):
        return self._call(e.which, e.a) if e.axis is None else self._call(e.which, e.a, e.axis)

    def _print_ExtremeMask(self, e):
        name = f"{e.which}_mask"
        return self._call(name, e.a) if e.axis is None else self._call(name, e.a, e.axis)

    def _print_ApplyMatrix(self, e):
        return self._call(e.fn.name, e.a)

    def _print_MatPow(self, e):
        return self._call("matrix_power", e.a, sympy.sstr(e.exponent))

    def _print_Kron(self, e):
        return self._call("kron", e.a, e.b)

    def _print_Vec(self, e):
        return self._call("vec", e.a)

    def _print_OuterSum(self, e):
        return self._call("outer_sum", e.a, e.b)

    def _print_Grad(self, e):
        return self._call("grad", e.f, e.wrt)

    def _print_Jacobian(self, e):
        return self._call("jacobian", e.f, e.wrt)

    def _print_Directional(self, e):
        return self._call("directional", e.f, e.wrt, e.direction)


def to_text(e: E.Expr) -> str:
    return TextPrinter().doprint(e)
