"""The function tables, row by row: every row of functions.FUNCTIONS is checked as a whole (float64 form
against the exact definition, derivatives of every order through nested dual numbers, domain and kinks,
notation, the vocabulary's call, a gradient claim through every stage), so that adding a function is
adding a row: these tests pick it up by themselves."""
import mpmath
import numpy as np
import pytest
import sympy

from derivcheck import dims, expr as E, matrix
from derivcheck.check import check
from derivcheck.claims import gradient
from derivcheck.dual import Dual, call
from derivcheck.functions import DOMAINS, FUNCTIONS
from derivcheck.notation import to_latex, to_mathml
from derivcheck.parse import Scope, parse_expression
from derivcheck.printing import to_text
from derivcheck.verdict import HOLDS
from derivcheck.vocabulary import CALLS

ROWS = sorted(FUNCTIONS)
_x = sympy.Symbol("x", real=True)


def _points(fn) -> list[float]:
    """Points inside the row's domain, away from its kinks."""
    low = DOMAINS[fn.domain]
    return [-1.3, 0.4, 2.2] if low is None else [low + 0.3, low + 1.7, low + 3.1]


@pytest.mark.parametrize("name", ROWS)
def test_float64_form_agrees_with_the_exact_definition(name):
    fn = FUNCTIONS[name]
    for x in _points(fn):
        want = float(sympy.N(fn.exact(sympy.Float(x, 30)), 30))
        got = float(fn.numpy(np.array([x]))[0])
        assert abs(got - want) <= 1e-13 * max(1.0, abs(want)), (name, x, got, want)


@pytest.mark.parametrize("name", ROWS)
def test_nested_dual_numbers_give_the_second_derivative_of_the_exact_definition(name):
    """f(x + ε₁ + ε₂) carries f″(x) in its ε₁ε₂ part: what Hessians need from every row."""
    fn = FUNCTIONS[name]
    second = sympy.diff(fn.exact(_x), _x, 2).replace(sympy.DiracDelta, lambda *a: 0)
    with mpmath.workdps(50):
        for x in _points(fn):
            inner = Dual(mpmath.mpf(x), mpmath.mpf(1), 1)
            z = Dual(inner, Dual(mpmath.mpf(1), mpmath.mpf(0), 1), 2)
            got = call(fn, z).d.d
            want = sympy.N(second.subs(_x, sympy.Float(x, 60)), 50)
            assert abs(got - mpmath.mpf(str(want))) < mpmath.mpf(10) ** -40 * max(1, abs(got)), (name, x)


@pytest.mark.parametrize("name", ROWS)
def test_domain_and_kinks_are_where_the_samplers_keep_away(name):
    fn = FUNCTIONS[name]
    assert fn.admits(np.array(_points(fn)))
    low = DOMAINS[fn.domain]
    if low is not None:
        assert fn.watched and not fn.admits(np.array([low - 0.5, low + 1.0]))
    for kink in fn.kinks:
        assert fn.watched and not fn.admits(np.array([kink, 1.0]))
    assert not fn.admits(np.array([np.nan]))


@pytest.mark.parametrize("name", ROWS)
def test_every_row_is_a_call_of_the_vocabulary_printed_and_written_as_notation(name):
    fn = FUNCTIONS[name]
    m, n = dims("m n")
    X = matrix("X", m, n)
    e = parse_expression(f"{name}(X) + 1", Scope(dims={"m": m, "n": n}, symbols={"X": X}))
    assert name in CALLS and isinstance(e.a, E.Apply) and e.a.fn is fn
    assert to_text(e) == f"{name}(X) + 1"
    latex, mathml = to_latex(e), to_mathml(e)
    if fn.layout == "call":
        assert (fn.latex or "\\operatorname{" + name.replace("_", "\\_") + "}") in latex
        assert f">{fn.mathml or name}<" in mathml
    else:
        assert {"sqrt": "\\sqrt", "abs": "\\left|"}[fn.layout] in latex


@pytest.mark.parametrize("name", sorted(n for n, f in FUNCTIONS.items() if f.prime is not None))
def test_the_written_rule_as_a_gradient_claim_holds_and_twice_it_fails(name):
    """A gradient claim written with the row's rule goes through the prover (or the concrete stages)
    and holds; the same claim off by a factor 2 is refuted."""
    fn = FUNCTIONS[name]
    m, n = dims("m n")
    domain = {None: (), 0.0: ("positive",)}.get(DOMAINS[fn.domain], ("positive",))
    P = matrix("P", m, n, assume=domain)
    f = E.Sum(E.Apply(fn, P))
    rule = E.as_expr(fn.prime(P, E.Apply(fn, P), lambda other, a: E.Apply(FUNCTIONS[other], a)))
    rule = rule if E.shape(rule) == (m, n) else E.Mul(rule, E.Fill("ones", m, n))  # step's 0 * P is a matrix
    good = check(gradient(f"{name}.rule", f, P, rule))
    assert good.verdict.status in HOLDS, (name, good.verdict.reason)
    if name != "step":  # step′ = 0: twice zero is zero
        bad = check(gradient(f"{name}.twice", f, P, 2 * rule))
        assert bad.verdict.status == "refuted", (name, bad.verdict.reason)


@pytest.mark.parametrize("name", ROWS)
def test_kernel_code_forms_compute_the_row(name):
    """The NumPy code a generated kernel writes for the row (its code form, or SymPy's printer of the
    exact definition) and its in-place form compute the row's float64 values."""
    import scipy.special
    from sympy.printing.numpy import NumPyPrinter

    from derivcheck.kernels import _runtime as rt

    fn = FUNCTIONS[name]
    x = np.array(_points(fn) * 2).reshape(2, 3)
    namespace = {"numpy": np, "scipy": scipy, "rt": rt, "x": x.copy()}
    code = fn.code.format("x") if fn.code else NumPyPrinter().doprint(fn.exact(sympy.Symbol("x")))
    assert np.allclose(eval(code, namespace), fn.numpy(x), rtol=1e-13, atol=0), (name, code)
    if fn.inplace:
        out = eval(fn.inplace.format("x"), namespace)
        assert out is namespace["x"] and np.allclose(out, fn.numpy(x), rtol=1e-13, atol=0), (name, fn.inplace)
