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
    p = write(tmp_path, "from derivcheck import dims\nm, = dims('m')\nraise RuntimeError('oops')\nCLAIMS = []\n", "mod.py")
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


# ---------------------------------------------------------------- issue 11: long and deep expressions


def _depth(e):
    from derivcheck.validate import depth
    return depth(e)


def test_a_sum_of_ten_thousand_terms_parses_as_a_balanced_tree():
    e = parse_expression(" + ".join(["X"] * 5000) + " - " + " - ".join(["X"] * 5000), SCOPE)
    assert e.shape == (m, n) and _depth(e) < 20
    e = parse_expression(" + ".join(f"{k} * X" for k in range(330)), SCOPE)  # ~330 terms crashed the builder
    assert _depth(e) < 20


def test_short_chains_are_built_as_written():
    from derivcheck.printing import to_text
    assert to_text(parse_expression("X - X + 2 * X / m", SCOPE)) == "X - X + 2 * X / m"


def test_long_products_and_matrix_chains_are_balanced_too():
    sq = Scope(dims={"n": n}, symbols={"S": matrix("S", n, n)})
    assert _depth(parse_expression(" @ ".join(["S"] * 3000), sq)) < 20
    assert _depth(parse_expression(" * ".join(["S"] * 3000) + " / S", sq)) < 20


@pytest.mark.parametrize("text", ["-" * 10000 + "X", "X" + ".T" * 5000, "X" + ".T" * 300,
                                  "X" + " ** 1" * 300, "tanh(" * 150 + "X" + ")" * 150])
def test_pathologically_deep_expressions_are_refused_with_a_reason(text):
    with pytest.raises(ExpressionError, match="nested|deep"):
        parse_expression(text, SCOPE)


def test_a_deep_expression_is_one_claim_s_verdict_not_the_end_of_the_file(tmp_path):
    p = write(tmp_path, HEADER + '''
[[claim]]
id = "deep"
kind = "identity"
lhs = "''' + "-" * 10000 + '''X"
rhs = "X"

[[claim]]
id = "fine"
kind = "identity"
lhs = "X + X"
rhs = "2 * X"
''')
    deep, fine = load_file(p)
    assert fine.error is None
    assert f"{p}:9: claim deep, lhs:" in deep.error and "nested too deeply" in deep.error


def test_python_claims_too_deep_become_ill_formed_claims(tmp_path):
    p = write(tmp_path, "from derivcheck import dims, identity, matrix\nm, n = dims('m n')\nX = matrix('X', m, n)\n"
                        "e = X\nfor _ in range(5000):\n    e = e.T\n"
                        "CLAIMS = [identity('deep', e, X), identity('fine', X + X, 2 * X)]\n", "deep.py")
    deep, fine = load_file(p)
    assert fine.error is None and deep.lhs is None
    assert "deep.py:7: claim deep:" in deep.error and "5001 levels deep" in deep.error


# ---------------------------------------------------------------- issue 11: names


def test_greek_names_are_supported():
    a = dims("α")[0]
    scope = Scope(dims={"α": a}, symbols={"Σ": matrix("Σ", a, a)})
    assert parse_expression("Σ @ Σ.T / α", scope).shape == (a, a)


def test_greek_names_in_a_toml_file(tmp_path):
    (claim,) = load_file(write(tmp_path, 'dims = ["α"]\n[symbols]\n"Σ" = ["α", "α"]\n[[claim]]\nid = "g"\n'
                                         'kind = "identity"\nlhs = "Σ + Σ"\nrhs = "2 * Σ"\n'))
    assert claim.error is None


@pytest.mark.parametrize("text, char", [("Ｘ + X", "FULLWIDTH LATIN CAPITAL LETTER X"),
                                        ("X²", "SUPERSCRIPT TWO"), ("ﬁ", "LATIN SMALL LIGATURE FI")])
def test_compatibility_characters_are_refused_not_silently_normalised(text, char):
    with pytest.raises(ExpressionError, match=char):
        parse_expression(text, SCOPE)


@pytest.mark.parametrize("name, message", [("Ｘ", "FULLWIDTH"), ("2x", "not a valid name"),
                                           ("a-b", "not a valid name"), ("lambda", "not a valid name")])
def test_bad_names_say_what_is_allowed(tmp_path, name, message):
    with pytest.raises(ClaimFileError, match=message) as info:
        load_file(write(tmp_path, f'dims = ["m"]\n[symbols]\n"{name}" = ["m", 1]\n'))
    assert ":3:" in str(info.value)


# ---------------------------------------------------------------- issue 11: line numbers


def test_a_claim_without_id_points_at_its_own_table(tmp_path):
    body = '[[claim]]\nid = "first"\nkind = "identity"\nlhs = "X"\nrhs = "X"\n\n[[claim]]\nkind = "identity"\n'
    p = write(tmp_path, HEADER + body)
    with pytest.raises(ClaimFileError, match=rf"{p.name}:11: claim 2 of the file \(\[\[claim\]\] at line 11\) has no id"):
        load_file(p)


def test_a_duplicate_id_names_both_lines(tmp_path):
    body = '[[claim]]\nid = "same"\nkind = "identity"\nlhs = "X"\nrhs = "X"\n'
    p = write(tmp_path, HEADER + body + "\n" + body)
    with pytest.raises(ClaimFileError) as info:
        load_paths([p])
    assert f"{p}:12: claim id 'same' is also used at {p}:6" in str(info.value)


def test_keys_of_the_second_claim_point_at_the_second_claim(tmp_path):
    body = '[[claim]]\nid = "{}"\nkind = "identity"\nlhs = "X"\nrhs = "{}"\n'
    p = write(tmp_path, HEADER + body.format("a", "X") + body.format("b", "Q"))
    a, b = load_file(p)
    assert b.error.startswith(f"{p}:14: claim b, rhs:")


# ---------------------------------------------------------------- issue 11: value claims


VALUE = 'dims = ["m"]\n[symbols]\nx = ["m", 1]\n[[claim]]\nid = "v"\nkind = "value"\nexpr = "sum(x)"\n'


@pytest.mark.parametrize("rest, message", [
    ("at = {m = 2, x = [[1.0], [2.0]]}\nequals = nan\n", "equals must be finite"),
    ("at = {m = 2, x = [[1.0], [2.0]]}\nequals = 3\ntolerance = inf\n", "tolerance must be a finite number"),
    ("at = {m = 2, x = [[1.0], [2.0]]}\nequals = 3\ntolerance = -1.0\n", "tolerance must be a finite number"),
    ("at = {m = 2, x = [[nan], [2.0]]}\nequals = 3\n", "at.x must be finite"),
    ("at = {m = 2.7, x = [[1.0], [2.0]]}\nequals = 3\n", "m must be a positive integer, got 2.7"),
    ("at = {m = [2], x = [[1.0], [2.0]]}\nequals = 3\n", "m must be a positive integer, got [2]"),
    ("at = {m = 2, x = [[1.0], [2.0, 3.0]]}\nequals = 3\n", "at.x is ragged"),
    ("at = {m = 2, x = [[1.0], 2.0]}\nequals = 3\n", "mixes numbers and rows"),
    ("at = {m = 2, x = [[[1.0]], [[2.0]]]}\nequals = 3\n", "only numbers"),
])
def test_value_claims_with_nonsense_numbers_are_refused_when_read(tmp_path, rest, message):
    p = write(tmp_path, VALUE + rest)
    (claim,) = load_file(p)
    assert claim.error and message in claim.error and f"{p}:" in claim.error


def test_python_value_claims_are_validated_too(tmp_path):
    p = write(tmp_path, "from derivcheck import dims, matrix, sum, value\nm, = dims('m')\nx = matrix('x', m, 1)\n"
                        "CLAIMS = [value('v', sum(x), {'m': 2, 'x': [[1.0], [2.0]]}, 42.0, tolerance=float('inf'))]\n",
              "v.py")
    (claim,) = load_file(p)
    assert claim.error and "v.py:4: claim v: tolerance must be a finite number" in claim.error
