"""pytest plugin: the ``gradcheck`` fixture and marker (registered through the ``pytest11`` entry point).

    def test_my_layer(gradcheck):
        gradcheck(layer_forward, layer_backward, inputs={"x": x}, params={"w": w})

    @pytest.mark.gradcheck(probes=3)
    def test_my_loss(gradcheck):
        gradcheck(loss, grads, params=params, args=(X, y))

The fixture calls ``derivcheck.gradcheck.check`` with a seed of its own per test
(a hash of the test's id, or ``--gradcheck-seed N``) and fails the test with the
report's table unless every gradient agrees; it returns the report.
"""
from __future__ import annotations

import zlib

import pytest

from .gradcheck import check

__all__ = ["GradcheckFixture"]


def pytest_addoption(parser):
    group = parser.getgroup("derivcheck")
    group.addoption("--gradcheck-seed", type=int, default=None,
                    help="seed every gradcheck probe with N (default: a hash of each test's id)")


def pytest_configure(config):
    config.addinivalue_line("markers", "gradcheck(seed=None, probes=2): options of the gradcheck fixture for a test")


class GradcheckFixture:
    """Callable like ``derivcheck.gradcheck.check``; fails the test unless the report is ok."""

    def __init__(self, seed: int, probes: int):
        self.seed, self.probes = seed, probes
        self.reports: list = []

    def report(self, forward, backward=None, **kw):
        """The report, without failing the test."""
        kw.setdefault("seed", self.seed)
        kw.setdefault("probes", self.probes)
        report = check(forward, backward, **kw)
        self.reports.append(report)
        return report

    def __call__(self, forward, backward=None, **kw):
        __tracebackhide__ = True
        report = self.report(forward, backward, **kw)
        if not report.ok:
            pytest.fail(f"gradient check failed\n{report}\n(re-run these probes with --gradcheck-seed {report.seed})",
                        pytrace=False)
        return report


@pytest.fixture
def gradcheck(request) -> GradcheckFixture:
    marker = request.node.get_closest_marker("gradcheck")
    options = dict(marker.kwargs) if marker else {}
    seed = request.config.getoption("--gradcheck-seed")
    if seed is None:
        seed = options.get("seed", zlib.crc32(request.node.nodeid.encode()))
    return GradcheckFixture(int(seed), int(options.get("probes", 2)))
