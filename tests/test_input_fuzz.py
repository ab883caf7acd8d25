"""Hostile input (issue 11): random expression strings, random bytes and random TOML documents thrown
at the parser, the loader and the command line.  Never a traceback, never a hang: an expression is
built or refused with ExpressionError; a file loads (a claim that cannot be read carries an error that
names file, line and claim) or raises ClaimFileError naming the file; the command line exits 0, 1 or 2."""
import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from derivcheck import cli, dims, matrix
from derivcheck.catalog import ClaimFileError, load_file
from derivcheck.claims import KINDS
from derivcheck.parse import ExpressionError, Scope, parse_expression
from derivcheck.timelimit import StageTimeout, time_limit

FUZZ = settings(max_examples=120, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
HANG = 20.0  # seconds: far beyond what any input here needs; past it the test fails as a hang

m, n = dims("m n")
SCOPE = Scope(dims={"m": m, "n": n}, symbols={"X": matrix("X", m, n), "W": matrix("W", n, 1),
                                              "S": matrix("S", n, n)})

TOKENS = ["X", "W", "S", "m", "n", "y", "Ｘ", "α", "x²", "1", "2", "0.5", "1e308", "-", "+", "*", "/", "@", "**",
          ".T", ".shape", "(", ")", "[", "]", ",", " ", "tanh(", "sum(", "sum(X, 1)", "softmax(", "grad(", "ones(m, n)",
          "eye(n)", "inv(", "lambda: ", "__import__('os')", "'s'", "True", "if", "\n", "\\", "\x00", "#", "X.T @ X",
          "-" * 50, ".T" * 40, "+ X" * 30]
ATOMS = st.sampled_from(["X", "W", "S", "m", "n", "2", "0.5", "ones(m, n)", "eye(n)", "X.T @ X"])


def _compound(children):
    return st.one_of(
        st.tuples(children, st.sampled_from([" + ", " - ", " * ", " / ", " @ "]), children).map(
            lambda t: f"({t[0]}{t[1]}{t[2]})"),
        children.map(lambda c: f"{c}.T"), children.map(lambda c: f"-{c}"), children.map(lambda c: f"{c}**2"),
        st.tuples(st.sampled_from(["tanh", "sigmoid", "exp", "log", "sum", "trace", "softmax", "relu", "inv"]),
                  children).map(lambda t: f"{t[0]}({t[1]})"))


WELL_WRITTEN = st.recursive(ATOMS, _compound, max_leaves=10)  # in the vocabulary; shapes may or may not fit
MUTATED = st.tuples(WELL_WRITTEN, st.sampled_from(TOKENS), st.integers(0, 60)).map(
    lambda t: t[0][:t[2]] + t[1] + t[0][t[2]:])  # one token dropped in anywhere
EXPRESSIONS = st.one_of(WELL_WRITTEN, MUTATED, st.lists(st.sampled_from(TOKENS), max_size=25).map("".join),
                        st.text(max_size=40))


def _bounded(run):
    try:
        with time_limit(HANG):
            return run()
    except StageTimeout:
        pytest.fail("hang: no answer within the bound")


@FUZZ
@given(EXPRESSIONS)
def test_random_expressions_are_built_or_refused(text):
    def run():
        try:
            parse_expression(text, SCOPE)
        except ExpressionError as exc:
            assert str(exc)
    _bounded(run)


# ---------------------------------------------------------------- random files

NAMES = st.sampled_from(["m", "n", "X", "W", "y", "Z", "L", "α", "Ｘ", "1x", "sum", "for", "a-b", ""])
NUMBERS = st.one_of(st.integers(-3, 300), st.floats(allow_nan=True, allow_infinity=True), st.booleans())
SCALARS = st.one_of(NUMBERS, EXPRESSIONS, NAMES)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(NAMES, inner, max_size=3)), max_leaves=8)
_ID = st.from_regex(r"[a-z][a-z0-9._]{0,8}", fullmatch=True)
IDS = st.one_of(_ID, _ID, _ID, _ID, _ID, st.text(max_size=8), st.integers())  # mostly usable ids
REQUIRED = {"identity": ("lhs", "rhs"), "gradient": ("f", "wrt", "claimed"), "jacobian": ("f", "wrt", "claimed"),
            "directional": ("f", "wrt", "direction", "claimed"), "value": ("expr", "at", "equals"),
            "derivation": ("steps",)}
NAMED = st.one_of(st.sampled_from(["W", "X", "L", "S", "Q", "W + 1", "dW"]), VALUES)
FIELDS = {"wrt": NAMED, "direction": NAMED, "steps": st.one_of(st.lists(EXPRESSIONS, max_size=4), VALUES),
          "at": st.one_of(st.fixed_dictionaries({}, optional={"m": NUMBERS, "n": NUMBERS, "X": VALUES, "W": VALUES}),
                          VALUES),
          "equals": VALUES, "tolerance": NUMBERS, "expect": st.sampled_from(["holds", "fails", "maybe"]),
          "source": SCALARS, "note": SCALARS}


def _claim(kind):
    return st.fixed_dictionaries(
        {"id": IDS, "kind": st.just(kind), **{k: FIELDS.get(k, EXPRESSIONS) for k in REQUIRED.get(kind, ())}},
        optional={k: FIELDS.get(k, EXPRESSIONS) for k in ("expect", "source", "note", "tolerance", "lhs")
                  if k not in REQUIRED.get(kind, ())})


CLAIMS = st.one_of(*(_claim(k) for k in [*KINDS, "guess"]))
DOCUMENTS = st.fixed_dictionaries({}, optional={
    "dims": st.one_of(st.lists(NAMES, max_size=3), VALUES),
    "relations": st.lists(st.sampled_from(["m > n", "m >= 2", "n < 1", "m > m", "m + 1 > n * 2", "x", "m >"]),
                          max_size=2),
    "functions": st.lists(NAMES, max_size=2),
    "symbols": st.dictionaries(NAMES, st.one_of(st.lists(st.one_of(NAMES, st.integers(-1, 5)), max_size=3), VALUES),
                               max_size=4),
    "assume": st.dictionaries(NAMES, st.sampled_from(["binary", "positive", "purple", "symmetric"]), max_size=2),
    "define": st.dictionaries(NAMES, EXPRESSIONS, max_size=3),
    "claim": st.lists(CLAIMS, max_size=3),
})


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")  # JSON strings are TOML strings
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{_toml_value(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"


def to_toml(doc: dict) -> str:
    """A small TOML writer for the generated documents: top-level keys, tables, arrays of tables."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict) and k != "claim"]
    for k, v in doc.items():
        if isinstance(v, dict):
            lines += [f"[{k}]"] + [f"{_toml_value(name)} = {_toml_value(x)}" for name, x in v.items()]
    for claim in doc.get("claim", []):
        lines += ["[[claim]]"] + [f"{k} = {_toml_value(x)}" for k, x in claim.items()]
    return "\n".join(lines) + "\n"


def _load(path: Path):
    try:
        claims = load_file(path)
    except ClaimFileError as exc:
        assert str(exc).startswith(str(path)), str(exc)
        return None
    for c in claims:
        if c.error:
            assert c.error.startswith(f"{path}:") and f"claim {c.id}" in c.error, c.error
    return claims


@FUZZ
@given(st.binary(max_size=600))
def test_random_bytes_are_loaded_or_refused_naming_the_file(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("bytes") / "c.toml"
    path.write_bytes(data)
    _bounded(lambda: _load(path))


@FUZZ
@given(DOCUMENTS)
def test_random_toml_documents_are_loaded_or_refused_naming_file_line_and_claim(tmp_path_factory, doc):
    path = tmp_path_factory.mktemp("toml") / "c.toml"
    path.write_text(to_toml(doc), encoding="utf-8")
    _bounded(lambda: _load(path))


HEADER = 'dims = ["m", "n"]\nrelations = ["m > n"]\n[symbols]\nX = ["m", "n"]\nW = ["n", 1]\nS = ["n", "n"]\n' \
         '[assume]\nS = "symmetric"\n[define]\nL = "sum(tanh(X @ W))"\n'


@FUZZ
@given(st.lists(CLAIMS, min_size=1, max_size=4))
def test_random_claims_under_a_good_header_name_file_line_and_claim(tmp_path_factory, claims):
    path = tmp_path_factory.mktemp("claims") / "c.toml"
    path.write_text(HEADER + to_toml({"claim": claims}), encoding="utf-8")
    _bounded(lambda: _load(path))


VALID = '''dims = ["m", "n"]
[symbols]
X = ["m", "n"]
W = ["n", 1]
[[claim]]
id = "fuzzed"
kind = "identity"
lhs = {lhs}
rhs = {rhs}
'''


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(EXPRESSIONS, EXPRESSIONS, st.sampled_from(["c.toml", "c.py", "c.tex", "c"]))
def test_the_command_line_exits_0_1_or_2_with_a_message(tmp_path_factory, capsys, lhs, rhs, name):
    path = tmp_path_factory.mktemp("cli") / name
    path.write_text(VALID.format(lhs=json.dumps(lhs), rhs=json.dumps(rhs)), encoding="utf-8")
    code = _bounded(lambda: cli.main(["check", str(path), "--no-cache", "--jobs", "1", "--time-limit", "2",
                                      "--no-proof", "--json"]))
    out, err = capsys.readouterr()
    assert code in (0, 1, 2) and "Traceback" not in err
    if code == 2:
        assert str(path) in err
    else:
        (claim,) = json.loads(out)["claims"]
        if claim["verdict"] == "ill_formed" and "claim fuzzed" in claim["evidence"]["reason"]:
            assert f"{path}:" in claim["evidence"]["reason"]
