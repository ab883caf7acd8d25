"""Shapes, broadcasting and printing of the expression vocabulary."""
import pytest
import sympy

from derivcheck import ShapeError, dims, inner, matrix, ones, softmax, sum, trace
from derivcheck import expr as E
from derivcheck.parse import Scope, parse_expression
from derivcheck.printing import to_text

m, n, k = dims("m n k")
X = matrix("X", m, n)
W = matrix("W", n, k)
b = matrix("b", 1, k)
c = matrix("c", m, 1)


def test_shapes_follow_numpy_broadcasting_of_rows_columns_and_scalars():
    assert (X @ W + b).shape == (m, k)
    assert (1 - c).shape == (m, 1)
    assert (X @ W * 2 / m).shape == (m, k)
    assert sum(X).shape == (1, 1)
    assert sum(X, 0).shape == (1, n)
    assert sum(X, 1).shape == (m, 1)
    assert softmax(X).shape == (m, n)
    assert (X.T @ X).shape == (n, n)


@pytest.mark.parametrize("bad, message", [
    (lambda: X @ X, "(m, n) @ (m, n)"),
    (lambda: X + W, "(m, n) and (n, k)"),
    (lambda: c + b, "ambiguous"),
    (lambda: inner(X, X.T), "inner product"),
    (lambda: trace(X), "square"),
    (lambda: X ** X, "exponent"),
])
def test_shape_errors_name_both_shapes(bad, message):
    with pytest.raises(ShapeError) as info:
        E.shape(bad())
    assert message in str(info.value)


def test_dimension_names_are_scalars():
    e = X / m
    assert e.shape == (m, n)
    assert isinstance(e.b.a, E.Scalar) and e.b.a.value == m


def test_printer_round_trips_through_the_parser():
    scope = Scope(dims={"m": m, "n": n, "k": k}, symbols={"X": X, "W": W, "b": b, "c": c})
    for text in ["X @ W + b", "-(1 - c) / m", "X.T @ (X @ W)", "softmax(X @ W - b)**2", "sum(X, 0)",
                 "inner(X, X) * trace(X.T @ X)", "ones(m, 1).T @ c"]:
        once = to_text(parse_expression(text, scope))
        assert to_text(parse_expression(once, scope)) == once


def test_matrix_symbols_are_sympy_matrix_symbols():
    assert X.matrix_symbol == sympy.MatrixSymbol("X", m, n)
    assert (ones(m, 1).T @ c).shape == (1, 1)
