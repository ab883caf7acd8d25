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


def test_new_calls_round_trip_through_the_parser_and_printer():
    p, q = dims("p q")
    scope = Scope(dims={"m": m, "n": n, "k": k, "p": p}, symbols={
        "X": X, "W": W, "b": b, "c": c, "S": matrix("S", n, n), "r": matrix("r", 1, n)})
    for text in ["max(X, 1) + min(X @ W)", "max_mask(X, 0) * X", "expm(S) @ logm(S) - sqrtm(S)",
                 "matrix_power(S, k - 1)", "matrix_power(S, -2)", "kron(S, X) @ vec(X.T @ c)",
                 "outer_sum(c, r)", "erf(X) + normal_cdf(X) * normal_pdf(X) - lgamma(exp(X))",
                 "digamma(exp(X)) + softplus(X) + log1p(exp(X)) + expm1(X)", "2 / sqrt(pi) * X",
                 "hessian(sum(exp(S @ c.T)), c)"]:
        once = to_text(parse_expression(text, scope))
        assert to_text(parse_expression(once, scope)) == once, text


def test_aliases_and_constants():
    scope = Scope(dims={"m": m, "n": n}, symbols={"X": X})
    assert to_text(parse_expression("ndtr(X) + gammaln(exp(X))", scope)) == "normal_cdf(X) + lgamma(exp(X))"
    assert parse_expression("pi * X", scope).a.value == sympy.pi
    pi = matrix("pi", m, n)  # a declared symbol named pi (a policy) wins over the constant
    assert parse_expression("pi * X", Scope(dims={"m": m, "n": n}, symbols={"X": X, "pi": pi})).a is pi


def test_second_order_kinds_in_claim_files(tmp_path):
    from derivcheck.parse import ClaimFileError, load_toml

    head = 'dims = ["n"]\n[symbols]\nx = ["n", 1]\nW = ["n", "n"]\nV = ["n", "n"]\nU = ["n", "n"]\n'
    good = tmp_path / "good.toml"
    good.write_text(head + '[[claim]]\nid = "h"\nkind = "hessian"\nf = "sum(exp(x))"\nwrt = "x"\n'
                    'claimed = "diag(exp(x))"\n[[claim]]\nid = "d2"\nkind = "second_differential"\n'
                    'f = "trace(W @ W)"\nwrt = "W"\ndirections = ["V", "U"]\nclaimed = "2 * trace(V @ U)"\n')
    h, d2 = load_toml(good)
    assert (h.kind, d2.kind, [d.name for d in d2.directions]) == ("hessian", "second_differential", ["V", "U"])
    bad = tmp_path / "bad.toml"
    bad.write_text(head + '[[claim]]\nid = "d2"\nkind = "second_differential"\nf = "trace(W @ W)"\nwrt = "W"\n'
                   'directions = "V"\nclaimed = "2 * trace(V @ V)"\n')
    (claim,) = load_toml(bad)
    assert "directions must name two symbols" in claim.error
    worse = tmp_path / "worse.toml"
    worse.write_text(head + '[[claim]]\nid = "h"\nkind = "hessian"\nf = "sum(exp(x))"\nwrt = "x"\n')
    with pytest.raises(ClaimFileError, match="needs claimed"):
        load_toml(worse)
