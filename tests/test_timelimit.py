"""Time limits that hold (issue 12): nested blocks, no swallowing, a bound per claim."""
import time

import pytest

from derivcheck import dims, gradient, matrix, sum, tanh
from derivcheck.check import Limits, check, claim_seconds
from derivcheck.timelimit import StageTimeout, remaining, time_limit


def _spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_an_inner_block_never_outlives_the_outer_one():
    start = time.monotonic()
    with pytest.raises(StageTimeout):
        with time_limit(0.3):
            with time_limit(30):
                _spin(5)
    assert time.monotonic() - start < 1.5


def test_the_outer_timer_is_armed_again_after_an_inner_block():
    start = time.monotonic()
    with pytest.raises(StageTimeout):
        with time_limit(0.6):
            with pytest.raises(StageTimeout):
                with time_limit(0.1):
                    _spin(5)
            _spin(5)  # before the fix nothing interrupted this: the inner block had disarmed the timer
    assert time.monotonic() - start < 2.0
    assert remaining() == float("inf")


def test_catching_exception_does_not_swallow_a_time_out():
    """diagnose._equal catches Exception around each repair: the alarm went unnoticed there and every
    later repair ran without a limit."""
    start = time.monotonic()
    with pytest.raises(StageTimeout):
        with time_limit(0.2):
            for _ in range(50):
                try:
                    _spin(0.1)
                except Exception:
                    pass
    assert time.monotonic() - start < 1.5


def test_a_time_out_lost_in_a_gc_callback_fires_again():
    """The fuzz campaign printed 'Exception ignored in: gc_callback ... StageTimeout': raised inside a
    garbage-collector callback (Hypothesis installs one), the time-out was dropped and the block ran on
    without a limit.  An expired deadline now fires again until its StageTimeout gets through."""
    start = time.monotonic()
    with pytest.raises(StageTimeout):
        with time_limit(0.2):
            try:
                _spin(5)
            except StageTimeout:
                pass  # lost, as in a gc callback
            _spin(5)
    assert time.monotonic() - start < 1.5


def test_no_alarm_is_left_after_a_block_whose_time_out_fired():
    with pytest.raises(StageTimeout):
        with time_limit(0.1):
            _spin(5)
    _spin(0.3)  # a stray re-fire would raise here, outside every block


def test_a_large_wrong_gradient_ends_within_the_claims_bound():
    """A wrong gradient at a fixed 100x100 size ran for more than 580 s at the default limit of 30 s."""
    X, W = matrix("X", 100, 100), matrix("W", 100, 100)
    claim = gradient("big", sum(tanh(X @ W)), W, X @ (1 - tanh(X @ W) ** 2))
    limits = Limits(exact=1.0, numeric=1.0)
    start = time.monotonic()
    result = check(claim, limits=limits)
    assert time.monotonic() - start <= claim_seconds(limits) + 1.0
    assert result.verdict.status in ("refuted", "inconclusive")
