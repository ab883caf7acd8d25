"""Time limits that hold: nested deadlines on one interval timer.

``time_limit(seconds)`` interrupts its block with ``StageTimeout`` when the
time is up.  Blocks nest: an inner block never outlives the one around it
(its deadline is the earlier of the two), and when it ends the outer
deadline is armed again, firing at once if it passed meanwhile.
``StageTimeout`` derives from ``BaseException``, so code that catches
``Exception`` to survive a bad repair or a SymPy crash cannot swallow it
and run on unbounded.

POSIX main thread only (SIGALRM); elsewhere blocks run without a limit.
"""
from __future__ import annotations

import contextlib
import math
import signal
import threading
import time

__all__ = ["StageTimeout", "time_limit", "remaining"]


class StageTimeout(BaseException):
    """The time of the innermost expired block is up."""


_deadlines: list[float] = []  # monotonic deadlines of the open blocks, innermost last


#: seconds after which an expired deadline fires again, should its StageTimeout have been lost
REFIRE = 0.05


def _expire(signum, frame):
    # A signal handler's exception raised inside a garbage-collector callback or a __del__ is printed
    # ("Exception ignored in ...") and dropped, and the block would run on without a limit: fire again
    # until one gets through (time_limit's exit re-arms the outer deadline or disarms the timer).
    signal.setitimer(signal.ITIMER_REAL, REFIRE)
    raise StageTimeout()


def _arm(deadline: float) -> None:
    left = deadline - time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, max(left, 1e-4) if math.isfinite(left) else 0)


def remaining() -> float:
    """Seconds left before the innermost deadline (inf when no block is open)."""
    return _deadlines[-1] - time.monotonic() if _deadlines else math.inf


@contextlib.contextmanager
def time_limit(seconds: float):
    """Interrupt the block after ``seconds`` (or when an enclosing block's time is up)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable or not seconds > 0:
        yield
        return
    deadline = time.monotonic() + seconds
    if _deadlines:
        deadline = min(deadline, _deadlines[-1])
    previous = signal.signal(signal.SIGALRM, _expire) if not _deadlines else None
    _deadlines.append(deadline)
    _arm(deadline)
    try:
        yield
    finally:
        _deadlines.pop()
        if _deadlines:
            _arm(_deadlines[-1])  # the outer block's timer again (at once if its time is already up)
        else:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
