"""gradcheck: the three shapes of user code, float32, kinks, and the diagnosis of each injected bug."""
import numpy as np
import pytest

from derivcheck.gradcheck import (GradcheckError, GradientCheckError, assert_gradients, check, check_gradients,
                                  check_layer, check_pair)

B, D, H = 8, 5, 4


def _data(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((B, D))
    y = rng.standard_normal((B, H))
    params = {"W1": rng.standard_normal((D, H)), "b1": rng.standard_normal((1, H)),
              "W2": rng.standard_normal((H, H)), "b2": rng.standard_normal((1, H))}
    return ({k: v.astype(dtype) for k, v in params.items()}, X.astype(dtype), y.astype(dtype))


def _forward(p, X):
    A = np.tanh(X @ p["W1"] + p["b1"])
    return A, A @ p["W2"] + p["b2"]


def loss(p, X, y):
    return 0.5 * np.sum((_forward(p, X)[1] - y) ** 2) / X.shape[0]


def grads(p, X, y, bug=None):
    A, out = _forward(p, X)
    d = (out - y) / X.shape[0]
    dZ = (d @ p["W2"].T) * (1 - A ** 2)
    g = {"W1": X.T @ dZ, "b1": dZ.sum(0, keepdims=True), "W2": A.T @ d, "b2": d.sum(0, keepdims=True)}
    BUGS[bug](g, d, dZ, X)
    return g


def _entry(g, d, dZ, X):
    g["W1"] = g["W1"].copy()
    g["W1"][3, 2] += 0.25


def _block(g, d, dZ, X):
    g["W1"] = g["W1"].copy()
    g["W1"][:2] *= -1


BUGS = {
    None: lambda g, d, dZ, X: None,
    "sign": lambda g, d, dZ, X: g.update(W1=-g["W1"]),
    "factor": lambda g, d, dZ, X: g.update(W2=2 * g["W2"]),
    "batch": lambda g, d, dZ, X: g.update(b2=g["b2"] * X.shape[0]),
    "transpose": lambda g, d, dZ, X: g.update(W2=g["W2"].T),
    "swap": lambda g, d, dZ, X: g.update(b1=g["b2"], b2=g["b1"]),
    "unsummed": lambda g, d, dZ, X: g.update(b1=dZ),
    "zero": lambda g, d, dZ, X: g.update(b1=np.zeros_like(g["b1"])),
    "entry": _entry,
    "block": _block,
}


def _check(bug, seed=0, **kw):
    params, X, y = _data(seed)
    return check_gradients(loss, lambda p, X, y: grads(p, X, y, bug), params=params, args=(X, y), **kw)


def test_correct_gradients_agree():
    report = _check(None)
    assert report.ok and [r.status for r in report.rows] == ["ok"] * 4
    assert all(r.error <= r.tolerance < 1e-6 for r in report.rows)
    text = str(report)
    assert "seed 0" in text and "all gradients agree" in text


@pytest.mark.parametrize("bug, name, words", [
    ("sign", "W1", "sign flipped"),
    ("factor", "W2", "scaled by 2"),
    ("batch", "b2", "the batch size"),
    ("transpose", "W2", "transposed"),
    ("swap", "b1", "swapped with b2"),
    ("unsummed", "b1", "not summed over the batch"),
    ("zero", "b1", "zero where it should not be"),
])
def test_each_injected_bug_is_caught_and_named(bug, name, words):
    report = _check(bug)
    assert not report.ok
    assert [r.name for r in report.failed] == ([name, "b2"] if bug == "swap" else [name])
    assert words in report.row(name).diagnosis, str(report)


def test_one_wrong_entry_is_located_with_its_true_value():
    report = _check("entry")
    row = report.row("W1")
    assert row.status == "wrong" and "(3, 2)" in row.where
    (entry,) = row.entries
    assert entry.index == (3, 2) and abs((entry.claimed - entry.true) - 0.25) < 1e-6


def test_a_block_with_the_wrong_sign_is_located_and_named():
    report = _check("block")
    row = report.row("W1")
    assert "whole rows 0, 1" in row.where and "sign flipped in those entries" in row.diagnosis, str(report)


def test_a_wrong_row_in_a_large_weight_is_found_by_bisection():
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((4, 60)), rng.standard_normal((4, 50))
    W = rng.standard_normal((60, 50))

    def lo(p):
        return 0.5 * np.sum((X @ p["W"] - Y) ** 2)

    def gr(p):
        g = X.T @ (X @ p["W"] - Y)
        g[17] *= 3
        return {"W": g}

    row = check_gradients(lo, gr, params={"W": W}).row("W")
    assert row.status == "wrong"
    assert row.where.startswith("row 17 of 60, spanning all columns; elsewhere it agrees"), row.where
    assert "scaled by 3 in those entries" in row.diagnosis


def test_evaluations_do_not_grow_with_the_parameter_count():
    counts = []
    for n in (10, 300):
        rng = np.random.default_rng(0)
        W, x = rng.standard_normal((n, n)), rng.standard_normal(n)
        report = check_gradients(lambda p: 0.5 * np.sum(np.tanh(p["W"] @ x) ** 2),
                                 lambda p: {"W": np.outer(np.tanh(p["W"] @ x) * (1 - np.tanh(p["W"] @ x) ** 2), x)},
                                 params={"W": W})
        assert report.ok
        counts.append(report.evaluations)
    assert max(counts) <= 30 and abs(counts[0] - counts[1]) <= 6, counts


def test_the_seed_reproduces_every_probe():
    a, b, c = _check("entry", seed=0), _check("entry", seed=0), _check(None, seed=0, probes=3)
    assert [r.error for r in a.rows] == [r.error for r in b.rows]
    assert a.seed == 0 and "seed=0 reproduces every probe" in str(a)
    assert c.ok and all(r.probes == 3 for r in c.rows)


def test_float32_code_that_is_dtype_generic_is_rerun_in_float64():
    params, X, y = _data(1, np.float32)
    report = check_gradients(loss, grads, params=params, args=(X, y))
    assert report.ok and report.dtype == "float64"
    assert any("re-run in float64" in n for n in report.notes)


def test_float32_code_that_is_not_generic_is_checked_in_float32():
    params, X, y = _data(2, np.float32)
    as32 = lambda p: {k: v.astype(np.float32) for k, v in p.items()}
    report = check_gradients(lambda p, X, y: loss(as32(p), X.astype(np.float32), y.astype(np.float32)),
                             lambda p, X, y: grads(as32(p), X.astype(np.float32), y.astype(np.float32)),
                             params=params, args=(X, y))
    assert report.ok and report.dtype == "float32", str(report)
    assert any("float32 result" in n for n in report.notes)
    bad = check_gradients(lambda p, X, y: loss(as32(p), X.astype(np.float32), y.astype(np.float32)),
                          lambda p, X, y: grads(as32(p), X.astype(np.float32), y.astype(np.float32), "factor"),
                          params=params, args=(X, y))
    assert [r.name for r in bad.failed] == ["W2"] and "scaled by 2" in bad.row("W2").diagnosis


def test_correct_float32_code_never_raises_a_false_alarm():
    for seed in range(40):
        params, X, y = _data(100 + seed, np.float32)
        as32 = lambda p: {k: v.astype(np.float32) for k, v in p.items()}
        report = check_gradients(lambda p, X, y: loss(as32(p), X, y), lambda p, X, y: grads(as32(p), X, y),
                                 params=params, args=(X, y), seed=seed)
        assert not report.failed, str(report)


def _relu_loss(p, X):
    return np.sum(np.maximum(X @ p["W"] + p["b"], 0) * np.arange(1.0, 5.0))


def _relu_grads(p, X):
    Z = X @ p["W"] + p["b"]
    dZ = (Z > 0) * np.arange(1.0, 5.0)
    return {"W": X.T @ dZ, "b": dZ.sum(0, keepdims=True)}


def test_a_kink_at_the_point_draws_another_point():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((6, 3))
    X[0] = 0.0  # with b = 0 the first row sits exactly on ReLU's kink
    params = {"W": rng.standard_normal((3, 4)), "b": np.zeros((1, 4))}
    report = check_gradients(_relu_loss, _relu_grads, params=params, args=(X,))
    assert report.ok and "redrawn (kink)" in report.row("b").evidence, str(report)
    fixed = check_gradients(_relu_loss, _relu_grads(params, X), params=params, args=(X,))
    assert fixed.row("b").status == "kink" and not fixed.failed


def test_a_loss_with_randomness_inside_is_undecided_not_wrong():
    rng = np.random.default_rng(5)
    noise = np.random.default_rng(9)
    W = rng.standard_normal((3, 3))
    report = check_gradients(lambda p: np.sum(p["W"] ** 2) * (1 + 1e-3 * noise.random()), lambda p: {"W": 2 * p["W"]},
                             params={"W": W})
    assert [r.status for r in report.rows] == ["undecided"] and "not deterministic" in report.rows[0].evidence
    assert "dropout" in report.notes[0]


# ---------------------------------------------------------------- layers and forward/backward pairs


def bn_forward(x, gamma, beta, options):
    mu, var = x.mean(0), x.var(0)
    istd = 1 / np.sqrt(var + options["eps"])
    xhat = (x - mu) * istd
    return gamma * xhat + beta, (xhat, gamma, istd)


def bn_backward(dout, cache, bug=False):
    xhat, gamma, istd = cache
    N = dout.shape[0]
    dbeta, dgamma = dout.sum(0), (dout * xhat).sum(0)
    dx = (1 if bug else 1 / N) * gamma * istd * (N * dout - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta


def _bn_args(dtype=np.float64):
    rng = np.random.default_rng(6)
    x = (3 * rng.standard_normal((16, 5)) + 1).astype(dtype)
    return {"x": x}, {"gamma": rng.standard_normal(5).astype(dtype), "beta": rng.standard_normal(5).astype(dtype)}


def test_a_layer_backward_is_checked_as_a_vector_jacobian_product():
    inputs, params = _bn_args()
    report = check_layer(bn_forward, bn_backward, inputs=inputs, params=params, args=({"eps": 1e-5},))
    assert report.ok and report.code == "layer (VJP)" and [r.name for r in report.rows] == ["x", "gamma", "beta"]
    wrong = check(bn_forward, lambda d, c: bn_backward(d, c, bug=True), inputs=inputs, params=params,
                  args=({"eps": 1e-5},))
    assert [r.name for r in wrong.failed] == ["x"] and "N = 16" in wrong.row("x").diagnosis


def test_a_float32_layer_is_rerun_in_float64():
    inputs, params = _bn_args(np.float32)
    report = check(bn_forward, bn_backward, inputs=inputs, params=params, args=({"eps": 1e-5},))
    assert report.ok and report.dtype == "float64"


def test_a_forward_backward_pair_with_a_cache():
    from derivcheck.kernels import ng_two_layer as k

    rng = np.random.default_rng(7)
    inputs = {"X": rng.standard_normal((9, 4)), "y": rng.integers(0, 2, (9, 1)).astype(float)}
    params = {"W1": rng.standard_normal((4, 6)), "b1": rng.standard_normal((1, 6)),
              "W2": rng.standard_normal((6, 1)), "b2": rng.standard_normal((1, 1))}
    report = check(k.forward, k.backward, inputs=inputs, params=params)
    assert report.ok and report.code == "forward/backward" and [r.name for r in report.rows] == list(params)
    assert check_pair(k.forward, lambda c: {**k.backward(c), "W2": -k.backward(c)["W2"]},
                      inputs=inputs, params=params).row("W2").diagnosis.startswith("sign flipped")


def test_assert_gradients_raises_with_the_table():
    params, X, y = _data()
    assert_gradients(loss, grads, params=params, args=(X, y))
    with pytest.raises(GradientCheckError) as info:
        assert_gradients(loss, lambda p, X, y: grads(p, X, y, "sign"), params=params, args=(X, y))
    assert "WRONG" in str(info.value) and "sign flipped" in str(info.value)
    assert isinstance(info.value, AssertionError) and info.value.report.failed


def test_unusable_code_gets_a_clear_error():
    params, X, y = _data()
    with pytest.raises(GradcheckError, match="must return a number"):
        check_gradients(lambda p, X, y: np.ones(3), grads, params=params, args=(X, y))
    with pytest.raises(GradcheckError, match="must return \\(output, cache\\)"):
        check_layer(lambda x: x, lambda d, c: d, inputs={"x": X})
    with pytest.raises(GradcheckError, match="must be a float NumPy array"):
        check_gradients(loss, grads, params={"W1": [[1.0]]}, args=(X, y))
    missing = check_gradients(loss, lambda p, X, y: {k: v for k, v in grads(p, X, y).items() if k != "b2"},
                              params=params, args=(X, y))
    assert missing.row("b2").status == "wrong" and "no gradient" in missing.row("b2").evidence


def test_code_that_writes_into_its_arguments_is_refused():
    def sneaky(p, X, y):
        p["W1"] *= 1.0
        return loss(p, X, y)

    params, X, y = _data()
    with pytest.raises(GradcheckError, match="in place"):
        check_gradients(sneaky, grads, params=params, args=(X, y))


# ---------------------------------------------------------------- spec mode

SPEC = """
dims = ["m", "n", "h"]
[symbols]
X = ["m", "n"]
W1 = ["n", "h"]
b1 = [1, "h"]
W2 = ["h", "h"]
b2 = [1, "h"]
y = ["m", "h"]
[define]
A = "tanh(X @ W1 + b1)"
L = "sum((A @ W2 + b2 - y)**2) / (2*m)"
"""


@pytest.fixture
def spec(tmp_path):
    from derivcheck.gradcheck import Spec

    path = tmp_path / "net.toml"
    path.write_text(SPEC)
    return Spec.from_toml(path, "L", args=("X", "y"))


def test_spec_mode_judges_the_code_against_the_50_digit_truth(spec):
    params, X, y = _data()
    report = check_gradients(loss, grads, params=params, args=(X, y), spec=spec)
    assert report.ok and report.mode.startswith("specification")
    assert all(r.error < 1e-13 and r.tolerance < 1e-9 for r in report.rows), str(report)
    wrong = check_gradients(loss, lambda p, X, y: grads(p, X, y, "entry"), params=params, args=(X, y), spec=spec)
    (entry,) = wrong.row("W1").entries
    assert entry.index == (3, 2) and abs(entry.claimed - entry.true - 0.25) < 1e-12
    assert wrong.row("W1").diagnosis == ""  # one entry off by 0.25 is no named repair


def test_a_relative_error_of_1e_7_is_caught_by_the_spec(spec):
    params, X, y = _data()

    def nearly(p, X, y):
        g = grads(p, X, y)
        return dict(g, W2=g["W2"] * (1 + 1e-7))

    assert check_gradients(loss, nearly, params=params, args=(X, y), spec=spec).row("W2").status == "wrong"


def test_a_spec_that_does_not_describe_the_code_decides_nothing(spec):
    params, X, y = _data()
    report = check_gradients(lambda p, X, y: 2 * loss(p, X, y), grads, params=params, args=(X, y), spec=spec)
    assert {r.status for r in report.rows} == {"undecided"} and any("does not describe" in n for n in report.notes)


def test_spec_errors_name_what_is_wrong(spec, tmp_path):
    from derivcheck.gradcheck import Spec

    params, X, y = _data()
    with pytest.raises(GradcheckError, match="no definition named 'Loss'"):
        Spec.from_toml(tmp_path / "net.toml", "Loss")
    with pytest.raises(GradcheckError, match="do not name"):
        check_gradients(loss, grads, params=params, args=(X, y), spec=Spec(spec.expr))
    with pytest.raises(GradcheckError, match="dimension m is 8"):
        check_gradients(loss, grads, params=params, args=(X, y[:3]), spec=spec)


# ---------------------------------------------------------------- the "code" claim kind


def _code_claim(program, **kw):
    from derivcheck import define, dims, matrix, sigmoid, sum as dsum
    from derivcheck.gradcheck.claim import code_gradients

    m, n = dims("m n")
    X, w, y = matrix("X", m, n), matrix("w", n, 1), matrix("y", m, 1)
    L = define("L", dsum((sigmoid(X @ w) - y) ** 2) / 2)
    return code_gradients("test.code", L, (w,), program, **kw)


def _sig(v):
    return 1 / (1 + np.exp(-v))


def test_a_code_claim_is_confirmed_refuted_or_ill_formed():
    from derivcheck.check import check

    def right(X, w, y):
        a = _sig(X @ w)
        return {"w": X.T @ ((a - y) * a * (1 - a))}

    ok = check(_code_claim(right, expect="holds"))
    assert ok.verdict.status == "confirmed" and ok.ok and ok.verdict.stages[0].method == "gradcheck"
    bad = check(_code_claim(lambda X, w, y: {"w": -right(X, w, y)["w"]}))
    assert bad.verdict.status == "refuted" and bad.verdict.counterexample is not None
    assert bad.verdict.diagnosis.text == "w: sign flipped: the code returns the negative of the gradient"
    raising = check(_code_claim(lambda X, w, y: {"w": X @ w.T}))
    assert raising.verdict.status in ("ill_formed",) and "raises ValueError" in raising.verdict.reason
    wrong_shape = check(_code_claim(lambda X, w, y: {"w": right(X, w, y)["w"].T}))
    assert wrong_shape.verdict.status == "ill_formed" and "transposed" in wrong_shape.verdict.diagnosis.text


def test_a_toml_file_cannot_declare_a_code_claim(tmp_path):
    from derivcheck.parse import ClaimFileError, load_toml

    path = tmp_path / "c.toml"
    path.write_text('dims = ["m"]\n[symbols]\nx = ["m", 1]\n[[claim]]\nid = "c"\nkind = "code"\n')
    with pytest.raises(ClaimFileError, match="c.toml:5: claim c: kind must be one of .*Python claim module"):
        load_toml(path)


# ---------------------------------------------------------------- the examples and the README


def _example_output(name, capsys):
    import runpy
    from pathlib import Path

    runpy.run_path(str(Path(__file__).resolve().parent.parent / "examples" / name), run_name="__main__")
    return capsys.readouterr().out


def test_the_loss_example(capsys):
    out = _example_output("gradcheck_loss.py", capsys)
    assert "all gradients agree" in out and "re-run in float64" in out
    assert "not summed over the batch" in out and "sign flipped" in out


def test_the_pair_example_checks_a_kernel_by_differences_and_against_its_spec(capsys):
    out = _example_output("gradcheck_pair.py", capsys)
    assert out.count("all gradients agree") == 2 and "specification (50-digit forward mode)" in out


def test_the_readme_shows_what_the_batchnorm_example_prints(capsys):
    from pathlib import Path

    out = _example_output("gradcheck_batchnorm.py", capsys)
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("The wrong batch-norm variant gives:\n\n```\n")[1].split("```")[0].splitlines()
    printed = out.splitlines()
    for line in block[:-1]:  # the last line has the time
        assert line in printed, line
    assert "scaled by N = 32 (the batch size)" in out and out.count("WRONG") == 1
