"""The result cache (issue 12 target 2): keyed by everything a verdict depends on, re-checks only
what changed, survives a damaged file and concurrent runs, and can be bypassed."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from derivcheck.cache import Store, cacheable, claim_key
from derivcheck.catalog import load_file
from derivcheck.check import Limits, check
from derivcheck.verdict import Result, Stage, Verdict

ROOT = Path(__file__).resolve().parent.parent

FILE = '''dims = ["m", "n"]
[symbols]
X = ["m", "n"]
W = ["n", 1]
[define]
L = "sum(tanh(X @ W))"
[[claim]]
id = "a"
source = "here"
kind = "gradient"
f = "L"
wrt = "W"
claimed = "X.T @ (1 - tanh(X @ W)**2)"
[[claim]]
id = "b"
kind = "identity"
lhs = "X + X"
rhs = "2 * X"
'''


def keys(tmp_path, text, seed=0, limits=Limits(30, 30), name="c.toml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return {c.id: claim_key(c, seed, limits) for c in load_file(p)}


def test_the_key_follows_what_the_verdict_depends_on(tmp_path):
    base = keys(tmp_path, FILE)
    assert keys(tmp_path, FILE) == base
    # a definition the claim uses: only the claims that use it
    changed = keys(tmp_path, FILE.replace('L = "sum(tanh(X @ W))"', 'L = "sum(sigmoid(X @ W))"'))
    assert changed["a"] != base["a"] and changed["b"] == base["b"]
    # a symbol's shape, an assumption, a relation
    assert keys(tmp_path, FILE.replace('W = ["n", 1]', 'W = ["n", 2]'))["a"] != base["a"]
    assert keys(tmp_path, FILE.replace('[define]', '[assume]\nX = "positive"\n[define]'))["b"] != base["b"]
    assert keys(tmp_path, 'relations = ["m > n"]\n' + FILE)["b"] != base["b"]
    # the run: seed, time limits, proofs on or off
    assert keys(tmp_path, FILE, seed=1)["b"] != base["b"]
    assert keys(tmp_path, FILE, limits=Limits(5, 5))["b"] != base["b"]
    assert keys(tmp_path, FILE, limits=Limits(30, 30, symbolic=False))["b"] != base["b"]
    # the id (instances are drawn from it) — but not the note, source, expect or where it is written
    assert keys(tmp_path, FILE.replace('id = "b"', 'id = "b2"'))["b2"] != base["b"]
    relabelled = FILE.replace('source = "here"', 'source = "there"\nnote = "n"\nexpect = "holds"')
    assert keys(tmp_path, "\n\n" + relabelled) == base


def test_only_results_that_do_not_depend_on_timing_are_stored(tmp_path):
    def result(verdict):
        return Result("x", "", "identity", verdict, None, 1.0)

    assert cacheable(result(Verdict("proved", "", [Stage("symbolic", "holds")])))
    assert not cacheable(result(Verdict("inconclusive", "time limit reached")))
    assert not cacheable(result(Verdict("confirmed", "", [Stage("exact", "timeout"), Stage("numeric", "holds")])))
    alarm = Verdict("refuted", "")
    alarm.alarm = "INTERNAL ERROR"
    assert not cacheable(result(alarm))


def test_store_round_trip_relabels_with_the_claim_as_it_is_now(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text(FILE, encoding="utf-8")
    a, b = load_file(p)
    limits = Limits(30, 30)
    ka, kb = claim_key(a, 0, limits), claim_key(b, 0, limits)
    store = Store(tmp_path / "cache")
    store.put([(ka, check(a, 0, limits)), (kb, check(b, 0, limits))])
    store.close()
    p.write_text(FILE.replace('source = "here"', 'source = "moved"'), encoding="utf-8")
    a2, b2 = load_file(p)
    found = Store(tmp_path / "cache").get([a2, b2], {"a": ka, "b": kb})
    assert found["a"].verdict.status == "proved" and found["a"].source == "moved"
    assert set(found) == {"a", "b"}


def test_a_damaged_cache_file_is_set_aside(tmp_path, capsys):
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "results.sqlite3").write_bytes(b"this is not a database" * 100)
    store = Store(folder)
    store.put_listing("k", [("a", "identity", "-", "")])
    assert store.get_listing("k") == [("a", "identity", "-", "")]
    assert (folder / "results.sqlite3.damaged").exists()
    assert "was damaged" in capsys.readouterr().err


def run(*args, cache):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "derivcheck", *map(str, args), "--cache", cache], env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_rerun_takes_unchanged_claims_from_the_cache_and_checks_a_changed_one(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text(FILE, encoding="utf-8")
    cache = tmp_path / "cache"
    first = run("check", p, cache=cache)
    assert first.returncode == 0 and "[2/2]" in first.stderr
    again = run("check", p, cache=cache)
    assert again.returncode == 0 and "cache: 2 of 2 claims unchanged" in again.stderr and "[1/" not in again.stderr
    assert again.stdout.splitlines()[1:-1] == first.stdout.splitlines()[1:-1]  # same table, apart from timing
    assert "(2 unchanged since an earlier run, from the cache)" in again.stdout
    p.write_text(FILE.replace('rhs = "2 * X"', 'rhs = "3 * X"'), encoding="utf-8")
    changed = run("check", p, cache=cache)
    assert changed.returncode == 1 and "cache: 1 of 2 claims unchanged" in changed.stderr
    assert "[1/1] refuted" in changed.stderr
    bypass = run("check", p, "--no-cache", cache=cache)
    assert "cache:" not in bypass.stderr and "[2/2]" in bypass.stderr


def test_concurrent_runs_share_one_cache(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text(FILE, encoding="utf-8")
    cache = tmp_path / "cache"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, "-m", "derivcheck", "check", str(p), "--jobs", "1", "--seed", str(s),
                               "--cache", str(cache)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for s in (0, 1, 0)]
    outs = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], outs
    assert all("result cache not used" not in err for _, err in outs)
    again = run("check", p, "--seed", "1", cache=cache)
    assert "cache: 2 of 2 claims unchanged" in again.stderr


def test_a_claim_carrying_a_program_is_never_cached(tmp_path):
    import dataclasses

    p = tmp_path / "c.toml"
    p.write_text(FILE, encoding="utf-8")
    a, _ = load_file(p)
    assert claim_key(dataclasses.replace(a, kind="code", code=lambda: None), 0, Limits()) is None
    store = Store(tmp_path / "cache")
    store.put([(None, check(a, 0, Limits()))])
    assert store.get([a], {"a": None}) == {}


def test_a_run_without_reports_reuses_results_stored_with_their_curves(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text(FILE, encoding="utf-8")
    cache = tmp_path / "cache"
    with_reports = run("check", p, "--report", tmp_path / "reports", cache=cache)
    assert with_reports.returncode == 0 and "[2/2]" in with_reports.stderr
    plain = run("check", p, cache=cache)
    assert "cache: 2 of 2 claims unchanged" in plain.stderr and "[1/" not in plain.stderr
