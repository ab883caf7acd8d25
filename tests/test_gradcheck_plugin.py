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


def _run(tmp_path, *options, installed=False):
    """pytest on the user tests above, with the plugin found the way an installed package offers it (its
    pytest11 entry point, from a distribution's metadata on the path) or named with -p."""
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    path = [str(ROOT)]
    if installed:
        project = tomllib.loads((ROOT / "pyproject.toml").read_text())
        dist = tmp_path / "site" / "derivcheck_under_test-0.dist-info"
        dist.mkdir(parents=True)
        (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: derivcheck-under-test\nVersion: 0\n")
        lines = "".join(f"{k} = {v}\n" for k, v in project["project"]["entry-points"]["pytest11"].items())
        (dist / "entry_points.txt").write_text("[pytest11]\n" + lines)
        path.append(str(tmp_path / "site"))
        plugin = []
    else:  # by module, with the entry point blocked (the package may be installed): never registered twice
        plugin = ["-p", "no:derivcheck", "-p", "derivcheck.pytest_plugin"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path))
    return subprocess.run([sys.executable, "-m", "pytest", "-q", *plugin, "-p", "no:cacheprovider", *options,
                           "test_user.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_the_fixture_fails_a_test_with_the_table(tmp_path):
    out = _run(tmp_path, "--gradcheck-seed", "11", installed=True)
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
