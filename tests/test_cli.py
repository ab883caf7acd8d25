"""The command line as a user runs it: output, JSON, exit codes."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

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


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "derivcheck", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


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
    assert "1 claims checked" in r.stdout and "all as expected" in r.stdout


def test_a_refuted_claim_exits_1_and_is_listed_with_its_note(claims):
    r = run("check", claims(HEADER + GOOD + BAD))
    assert r.returncode == 1
    assert "grad.bad [refuted]" in r.stdout and "the sign of the square is wrong" in r.stdout


def test_expect_fails_makes_a_refutation_ok(claims):
    r = run("check", claims(HEADER + BAD.replace('note =', 'expect = "fails"\nnote =')))
    assert r.returncode == 0


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


def test_all_uses_the_catalog_directory(tmp_path, claims):
    (tmp_path / "identities").mkdir()
    (tmp_path / "identities" / "doc.toml").write_text(HEADER + GOOD, encoding="utf-8")
    r = run("all", cwd=tmp_path)
    assert r.returncode == 0 and "doc" in r.stdout
    r = run("all", "--catalog", tmp_path / "missing", cwd=tmp_path)
    assert r.returncode == 2 and "missing" in r.stderr
