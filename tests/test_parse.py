"""The TOML claim format and the whitelist expression parser."""
from pathlib import Path

import pytest

from derivcheck.catalog import ClaimFileError, load_file, load_paths
from derivcheck.parse import ExpressionError, Scope, parse_expression
from derivcheck import dims, matrix

ROOT = Path(__file__).resolve().parent.parent
m, n = dims("m n")
SCOPE = Scope(dims={"m": m, "n": n}, symbols={"X": matrix("X", m, n)})

HEADER = '''dims = ["m", "n"]
[symbols]
X = ["m", "n"]
y = ["m", 1]
'''


@pytest.mark.parametrize("text, token", [
    ("__import__('os').system('true')", "__import__"),
    ("X.__class__", "X.__class__"),
    ("X.shape", "X.shape"),
    ("Z + X", "Z"),
    ("foo(X)", "foo"),
    ("X[0]", "X[0]"),
    ("lambda: X", "lambda"),
    ("'X'", "'X'"),
    ("X if X else X", "X if X else X"),
    ("tanh(X, y=1)", "tanh(X, y=1)"),
    ("tanh", "tanh"),
    ("X // 2", "X // 2"),
    ("True * X", "True"),
    ("(lambda: 1)()", "lambda"),
])
def test_parser_refuses_everything_outside_the_vocabulary(text, token):
    with pytest.raises(ExpressionError) as info:
        parse_expression(text, SCOPE)
    assert token in str(info.value)


def test_parser_accepts_the_vocabulary():
    e = parse_expression("-(1/m) * sum(log(sigmoid(X)) * X) + trace(X.T @ X) ** 2", SCOPE)
    assert e.shape == (1, 1)


def write(tmp_path, text, name="claims.toml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_bad_expression_in_a_claim_names_file_line_claim_and_token(tmp_path):
    p = write(tmp_path, HEADER + '''
[[claim]]
id = "bad.one"
kind = "identity"
lhs = "X"
rhs = "__import__('os')"

[[claim]]
id = "good.one"
kind = "identity"
lhs = "X + X"
rhs = "2 * X"
''')
    bad, good = load_file(p)
    assert good.error is None
    assert f"{p}:10" in bad.error and "bad.one" in bad.error and "__import__" in bad.error


@pytest.mark.parametrize("body, message", [
    ('[[claim]]\nid = "a"\nkind = "gradient"\nf = "sum(X)"\nwrt = "X"\n', "needs claimed"),
    ('[[claim]]\nid = "a"\nkind = "identity"\nlhs = "X"\nrhs = "X"\ncolour = "red"\n', "unknown key 'colour'"),
    ('[[claim]]\nid = "a"\nkind = "guess"\n', "kind must be one of"),
    ('[assume]\nX = "blue"\n', "unknown assumption 'blue'"),
    ('[assume]\nQ = "binary"\n', "undeclared symbol 'Q'"),
    ('[define]\nZ = "X @ X.T + os"\n', "in the definition of Z"),
    ('[[claim]]\nid = "a"\nkind = "identity"\nlhs = "X"\nrhs = "X"\nexpect = "maybe"\n', "expect must be"),
])
def test_file_level_errors_name_the_file_and_line(tmp_path, body, message):
    p = write(tmp_path, HEADER + body)
    with pytest.raises(ClaimFileError) as info:
        load_file(p)
    assert message in str(info.value)
    assert str(p) in str(info.value)


def test_invalid_toml_and_bad_symbols_are_file_errors(tmp_path):
    with pytest.raises(ClaimFileError, match="not valid TOML"):
        load_file(write(tmp_path, "dims = [", "a.toml"))
    with pytest.raises(ClaimFileError, match=r"b.toml:3: symbol X: 'k' is neither"):
        load_file(write(tmp_path, 'dims = ["m"]\n[symbols]\nX = ["m", "k"]\n', "b.toml"))
    with pytest.raises(ClaimFileError, match="is a function of the vocabulary"):
        load_file(write(tmp_path, 'dims = ["m"]\n[symbols]\nsum = ["m", 1]\n', "c.toml"))


def test_duplicate_ids_and_missing_files_are_reported_together(tmp_path):
    body = '[[claim]]\nid = "same"\nkind = "identity"\nlhs = "X"\nrhs = "X"\n'
    a, b = write(tmp_path, HEADER + body, "a.toml"), write(tmp_path, HEADER + body, "b.toml")
    with pytest.raises(ClaimFileError) as info:
        load_paths([a, b, tmp_path / "missing.toml"])
    assert "also used" in str(info.value) and "missing.toml: no such file" in str(info.value)


def test_the_example_file_loads_every_kind():
    claims = load_file(ROOT / "examples" / "two_layer.toml")
    assert {c.kind for c in claims} == {"identity", "gradient", "directional", "value", "derivation"}
    assert all(c.error is None for c in claims)
    assert str(claims[0].relations[0]) == "m > n"


def test_python_module_errors_name_the_line(tmp_path):
    p = write(tmp_path, "from derivcheck import dims\nm, = dims('m')\nraise RuntimeError('oops')\n", "mod.py")
    with pytest.raises(ClaimFileError, match=r"mod.py:3: RuntimeError: oops"):
        load_file(p)
    q = write(tmp_path, "X = 1\n", "nothing.py")
    with pytest.raises(ClaimFileError, match="must define CLAIMS"):
        load_file(q)


def test_value_claims_need_numbers(tmp_path):
    p = write(tmp_path, 'dims = []\n[symbols]\nx = [1, 1]\n[[claim]]\nid = "v"\nkind = "value"\n'
                        'expr = "x"\nat = {x = "two"}\nequals = 2\n')
    (claim,) = load_file(p)
    assert claim.error and "at.x must be a number" in claim.error
