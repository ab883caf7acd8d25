"""The pytest plugin: a fixture whose failures print gradcheck's table, a marker, a seed option."""
import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

USER_TESTS = '''
import numpy as np
import pytest

X = np.random.default_rng(0).standard_normal((6, 3))

def loss(p):
    return 0.5 * np.sum((X @ p["w"]) ** 2)

def test_right(gradcheck):
    report = gradcheck(loss, lambda p: {"w": X.T @ (X @ p["w"])}, params={"w": np.ones((3, 2))})
    assert report.ok and isinstance(report.seed, int)

@pytest.mark.gradcheck(seed=7, probes=3)
def test_wrong(gradcheck):
    gradcheck(loss, lambda p: {"w": -X.T @ (X @ p["w"])}, params={"w": np.ones((3, 2))})
'''


def _run(tmp_path, *options):
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "derivcheck.pytest_plugin",
                           "-p", "no:cacheprovider", *options, "test_user.py"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_the_fixture_fails_a_test_with_the_table(tmp_path):
    out = _run(tmp_path, "--gradcheck-seed", "11")
    assert "1 failed, 1 passed" in out.stdout, out.stdout + out.stderr
    assert "WRONG" in out.stdout and "sign flipped" in out.stdout
    assert "seed 11" in out.stdout and "--gradcheck-seed 11" in out.stdout  # the option beats the marker


def test_the_marker_sets_seed_and_probes(tmp_path):
    out = _run(tmp_path)
    assert "seed 7" in out.stdout and "5 directions" in out.stdout, out.stdout  # 3 probes + 2 re-checks
    assert "1 failed" in out.stdout


def test_the_plugin_is_registered_as_a_pytest11_entry_point():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["pytest11"] == {"derivcheck": "derivcheck.pytest_plugin"}
    import derivcheck.pytest_plugin as plugin

    assert callable(plugin.gradcheck) and callable(plugin.pytest_addoption)
