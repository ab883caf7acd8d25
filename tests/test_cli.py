"""The command line as a user runs it: output, JSON, exit codes."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CACHE_HOME = None

HEADER = '''dims = ["m", "n"]
[symbols]
X = ["m", "n"]
W = ["n", 1]
[define]
L = "sum(tanh(X @ W))"
'''
GOOD = '''
[[claim]]
id = "grad.good"
source = "test §1"
kind = "gradient"
f = "L"
wrt = "W"
claimed = "X.T @ (1 - tanh(X @ W)**2)"
'''
BAD = '''
[[claim]]
id = "grad.bad"
source = "test §2"
kind = "gradient"
f = "L"
wrt = "W"
claimed = "X.T @ (1 + tanh(X @ W)**2)"
note = "the sign of the square is wrong"
'''


def run(*args, cwd=ROOT, timeout=300):
    """`python -m derivcheck ARGS` with this checkout's package, from any folder, with a private
    user cache folder (results are cached; a test must never see another run's)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), XDG_CACHE_HOME=str(CACHE_HOME))
    return subprocess.run([sys.executable, "-m", "derivcheck", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    global CACHE_HOME
    CACHE_HOME = tmp_path / "xdg-cache"


@pytest.fixture
def claims(tmp_path):
    def write(text, name="c.toml"):
        p = tmp_path / name
        p.write_text(text, encoding="utf-8")
        return p
    return write


def test_all_holding_exits_0_with_progress_and_summary(claims):
    r = run("check", claims(HEADER + GOOD))
    assert r.returncode == 0, r.stderr
    assert "[1/1] proved " in r.stderr
    assert r.stdout.startswith("PASSED: every claim as expected: 1 hold; 1 claim checked in ")
    assert r.stdout.rstrip().splitlines()[-1].startswith("PASSED")


def test_a_refuted_claim_exits_1_and_is_listed_with_its_note(claims):
    r = run("check", claims(HEADER + GOOD + BAD))
    assert r.returncode == 1
    assert r.stdout.startswith("FAILED: 1 of 2 claims not as expected (grad.bad)")
    assert "Not as expected (1):\n  grad.bad [refuted]" in r.stdout and "the sign of the square is wrong" in r.stdout


def test_expect_fails_makes_a_refutation_ok_and_it_is_listed_apart(claims):
    r = run("check", claims(HEADER + GOOD + BAD.replace('note =', 'expect = "fails"\nnote =')))
    assert r.returncode == 0
    assert r.stdout.startswith("PASSED: every claim as expected: 1 hold, 1 fail as expected")
    assert "Not as expected" not in r.stdout
    assert "Expected failures (1): errors of the documents, found as intended:\n  grad.bad [refuted]" in r.stdout


def test_json_output_has_the_documented_shape(claims):
    r = run("check", claims(HEADER + GOOD + BAD), "--json", "--seed", "5")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert set(doc) == {"claims", "summary"}
    first, second = doc["claims"]
    for key in ("id", "source", "kind", "verdict", "expected", "ok", "seconds", "evidence", "note"):
        assert key in first
    assert first["verdict"] == "proved" and first["ok"] is True
    assert second["verdict"] == "refuted" and second["ok"] is False
    cx = second["evidence"]["counterexample"]
    assert cx["seed"] == 5 and set(cx["values"]) == {"X", "W"} and len(cx["entry"]) == 2
    assert doc["summary"]["total"] == 2 and doc["summary"]["by_verdict"] == {"proved": 1, "refuted": 1}


def test_same_seed_reproduces_the_counterexample(claims):
    path = claims(HEADER + BAD)
    a = json.loads(run("check", path, "--json", "--seed", "11").stdout)["claims"][0]["evidence"]["counterexample"]
    b = json.loads(run("check", path, "--json", "--seed", "11", "--jobs", "1").stdout)
    assert a == b["claims"][0]["evidence"]["counterexample"]


def test_unusable_input_exits_2_naming_file_and_line(claims):
    r = run("check", claims(HEADER + '[assume]\nX = "purple"\n'))
    assert r.returncode == 2
    assert "c.toml:" in r.stderr and "purple" in r.stderr and "Traceback" not in r.stderr
    assert run("check", "/nonexistent/file.toml").returncode == 2
    assert run("check", claims("x", "notes.txt")).returncode == 2
    assert run("frobnicate").returncode == 2
    assert run("check", claims(HEADER + GOOD), "--only", "nothing-matches").returncode == 2


def test_a_broken_claim_does_not_stop_the_others(claims):
    broken = GOOD.replace("grad.good", "grad.broken").replace('claimed = "X.T', 'claimed = "os.system(1) + X.T')
    r = run("check", claims(HEADER + broken + GOOD), "--json")
    assert r.returncode == 1
    verdicts = {c["id"]: c for c in json.loads(r.stdout)["claims"]}
    assert verdicts["grad.good"]["verdict"] == "proved"
    broken = verdicts["grad.broken"]
    assert broken["verdict"] == "ill_formed" and "os.system" in broken["evidence"]["reason"]


def test_list_and_only(claims):
    path = claims(HEADER + GOOD + BAD)
    r = run("list", path)
    assert r.returncode == 0 and "grad.good" in r.stdout and "grad.bad" in r.stdout
    r = run("check", path, "--only", "*.good")
    assert r.returncode == 0 and "grad.bad" not in r.stderr


def test_all_takes_its_catalog_from_the_package_or_from_catalog(tmp_path, claims):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "doc.toml").write_text(HEADER + GOOD, encoding="utf-8")
    r = run("all", "--catalog", tmp_path / "mine", "--no-report", cwd=tmp_path)
    assert r.returncode == 0 and "doc" in r.stdout
    r = run("all", "--catalog", tmp_path / "missing", cwd=tmp_path)
    assert r.returncode == 2 and "missing" in r.stderr
    # from a folder that has no identities/: the catalog shipped with derivcheck
    r = run("all", "--only", "ng.inner.*", "--no-report", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert {c["document"] for c in json.loads(r.stdout)["claims"]} == {"ng_two_layer_differentials"}
    assert not (tmp_path / "reports").exists()


# ---------------------------------------------------------------- issue 11: arguments, empty input, wall time


@pytest.mark.parametrize("args, message", [
    (["--seed", "-1"], "the seed must be between 0"),
    (["--seed", "1.5"], "not an integer"),
    (["--time-limit", "inf"], "positive number of seconds"),
    (["--time-limit", "nan"], "positive number of seconds"),
    (["--time-limit", "0"], "positive number of seconds"),
    (["--time-limit", "-1"], "positive number of seconds"),
    (["--jobs", "0"], "between 1 and 256"),
])
def test_bad_option_values_exit_2_with_a_message(claims, args, message):
    r = run("check", claims(HEADER + GOOD), *args)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert r.stdout == ""


def test_an_empty_file_or_folder_says_so(tmp_path, claims):
    (tmp_path / "empty").mkdir()
    r = run("check", tmp_path / "empty")
    assert r.returncode == 2 and "no claim files here" in r.stderr and "None" not in r.stderr
    r = run("check", claims("", "empty.toml"))
    assert r.returncode == 2 and "empty.toml: no claims in this file" in r.stderr and "None" not in r.stderr


def test_wall_time_not_the_sum_of_workers(claims):
    r = run("check", claims(HEADER + GOOD + BAD.replace("grad.bad", "grad.bad2") + BAD), "--jobs", "2")
    headline = r.stdout.splitlines()[0]
    seconds = float(headline.split(" checked in ")[1].split(" s wall clock")[0])
    assert 0 < seconds < 300
    assert "wall clock" in r.stdout.splitlines()[-1]


# ---------------------------------------------------------------- issue 11: Python claim files are contained

MODULE = ('from derivcheck import dims, identity, matrix\nm, n = dims("m n")\nX = matrix("X", m, n)\n'
          'CLAIMS = [identity("py.ok", X + X, 2 * X)]\n')


def test_a_module_calling_sys_exit_cannot_end_the_run_with_a_pass(claims):
    mod = claims("import sys\nsys.exit(0)\n" + MODULE, "exit0.py")
    false = claims(HEADER + BAD)
    r = run("check", mod, false)
    assert r.returncode == 2 and "exit0.py:2: the module called sys.exit(0)" in r.stderr


def test_a_module_raising_keyboardinterrupt_is_an_input_error(claims):
    r = run("check", claims("raise KeyboardInterrupt\n" + MODULE, "ki.py"))
    assert r.returncode == 2 and "ki.py:1: the module raised KeyboardInterrupt" in r.stderr


def test_a_module_printing_does_not_corrupt_json(claims):
    mod = claims('import os\nprint("hello from a module")\nos.write(1, b"raw bytes\\n")\n' + MODULE, "noisy.py")
    r = run("check", mod, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["claims"][0]["id"] == "py.ok"
    assert "hello from a module" in r.stderr and "raw bytes" in r.stderr


def test_a_module_that_never_finishes_loading_is_stopped_by_the_time_limit(claims):
    mod = claims("try:\n    while True:\n        pass\nexcept Exception:\n    pass\n" + MODULE, "loop.py")
    r = run("check", mod, "--time-limit", "1", timeout=60)
    assert r.returncode == 2 and "loop.py: loading it took more than 1 s" in r.stderr


def test_check_dir_runs_only_files_that_declare_claims(tmp_path):
    folder = tmp_path / "claims"
    folder.mkdir()
    marker = tmp_path / "setup-ran"
    (folder / "setup.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n", encoding="utf-8")
    (folder / "helper.py").write_text("def CLAIMS_helper():\n    CLAIMS = 1\n", encoding="utf-8")
    (folder / "mine.py").write_text(MODULE, encoding="utf-8")
    r = run("check", folder)
    assert r.returncode == 0, r.stderr
    assert not marker.exists()
    assert f"skipped {folder / 'setup.py'}: a claim module must define CLAIMS" in r.stderr
    assert f"skipped {folder / 'helper.py'}" in r.stderr
    r = run("check", folder / "setup.py")  # named explicitly: still not run
    assert r.returncode == 2 and "not a claim module" in r.stderr and not marker.exists()


# ---------------------------------------------------------------- issue 11: value claims honour the time limit


def test_a_value_claim_honours_the_time_limit(claims):
    size = 150
    at = "[" + ", ".join("[" + ", ".join(["0.5"] * size) + "]" for _ in range(size)) + "]"
    text = (f'dims = ["n"]\n[symbols]\nA = ["n", "n"]\n[[claim]]\nid = "big.value"\nkind = "value"\n'
            f'expr = "sum(tanh(A @ A @ A @ A))"\nat = {{n = {size}, A = {at}}}\nequals = 1.0\n')
    r = run("check", claims(text), "--time-limit", "1", "--json", "--no-cache", timeout=120)
    (c,) = json.loads(r.stdout)["claims"]
    assert c["verdict"] == "inconclusive" and "time limit of 1 s" in c["evidence"]["reason"]
    assert c["seconds"] < 5


# ---------------------------------------------------------------- issue 11: kernels are written on request only


def test_all_never_writes_inside_the_package_and_kernels_out_writes_them(tmp_path):
    kernel_dir = ROOT / "derivcheck" / "kernels"
    before = {p.name: p.stat().st_mtime_ns for p in kernel_dir.glob("*.py")}
    r = run("all", "--only", "ng.backprop.W1", "--no-report", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "kernels:" not in r.stderr
    assert {p.name: p.stat().st_mtime_ns for p in kernel_dir.glob("*.py")} == before
    out = tmp_path / "kernels"
    r = run("kernels", "--out", out, "--only", "ng.", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (out / "ng_two_layer.py").read_text() == (kernel_dir / "ng_two_layer.py").read_text()


def test_a_missing_dependency_is_named_not_a_traceback(monkeypatch, capsys, claims):
    from derivcheck import catalog, cli

    def missing(*args, **kw):
        raise ModuleNotFoundError("No module named 'scipy'", name="scipy")

    monkeypatch.setattr(catalog, "load", missing)
    assert cli.main(["check", str(claims(HEADER + GOOD)), "--no-cache"]) == 2
    assert "the package 'scipy' is not installed" in capsys.readouterr().err
