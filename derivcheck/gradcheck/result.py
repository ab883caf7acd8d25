"""What a gradient check found: one row per checked variable, and the run's evidence.

Plain dataclasses; nothing here checks or prints (``table.py`` lays them out).
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["STATUSES", "Entry", "Row", "Report"]

#: A row's status, from best to worst.  Only ``ok`` counts as a pass; ``kink`` and
#: ``undecided`` say that the check could not decide, never that the code is wrong.
STATUSES = ("ok", "kink", "undecided", "wrong")


@dataclass
class Entry:
    """One entry of a gradient: its index, the code's value and the true value."""

    index: tuple
    claimed: float
    true: float


@dataclass
class Row:
    """The verdict on one variable's gradient."""

    name: str
    status: str  # one of STATUSES
    error: float = 0.0  # largest relative mismatch seen (|<G,V> - D_V f| / scale)
    tolerance: float = 0.0  # the relative tolerance that mismatch was held to
    probes: int = 0  # directional probes made for this variable
    evidence: str = ""  # how it was decided, in words
    diagnosis: str = ""  # the repair that explains a wrong gradient (checked before shown), or ""
    where: str = ""  # which entries / rows / columns are off, or ""
    entries: list = field(default_factory=list)  # [Entry], largest differences first
    shape: tuple = ()


@dataclass
class Report:
    """The result of one gradient check; ``print(report)`` shows the table."""

    rows: list
    seed: int
    mode: str  # "finite differences" or "specification"
    dtype: str  # the dtype the checks ran in
    evaluations: int  # calls of the user's loss / forward
    seconds: float
    notes: list = field(default_factory=list)  # facts about the run (dtype re-run, redrawn points, …)
    code: str = ""  # which shape of user code: "loss + gradients", "layer (VJP)", "forward/backward"

    @property
    def ok(self) -> bool:
        """Every variable agrees: nothing wrong and nothing undecided."""
        return all(r.status == "ok" for r in self.rows)

    @property
    def failed(self) -> list:
        """The rows whose gradient is wrong."""
        return [r for r in self.rows if r.status == "wrong"]

    @property
    def undecided(self) -> list:
        return [r for r in self.rows if r.status in ("kink", "undecided")]

    def row(self, name: str) -> Row:
        return next(r for r in self.rows if r.name == name)

    def __str__(self) -> str:
        from .table import format_report

        return format_report(self)
