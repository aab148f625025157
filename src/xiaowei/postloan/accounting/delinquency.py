"""Days past due (DPD) and the collection buckets (M0, M1 … M7+).

Why DPD counts from the *oldest* unpaid instalment: a borrower who pays this month but still
owes last month is as late as last month's debt; counting from the latest instalment would let
a partial payment reset the clock. Only principal and interest make an instalment unpaid —
penalty alone does not (it is charged on lateness, and would otherwise keep a loan delinquent
for ever over a few fen of 罚息).

``grace_days`` is a technical grace for counting only (a debit that fails on a holiday and
succeeds the next working day): while the oldest unpaid instalment is at most ``grace_days``
late, DPD is 0; after that it counts from the due date. Penalty still runs from the due date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import pairwise

DEFAULT_EDGES = (0, 30, 60, 90, 120, 150, 180)


def days_past_due(oldest_unpaid_due: date | None, as_of: date, grace_days: int = 0) -> int:
    """Days from the oldest unpaid due date to ``as_of``; 0 when nothing is unpaid or in grace."""
    if grace_days < 0:
        raise ValueError(f"grace_days must be ≥ 0, got {grace_days}")
    if oldest_unpaid_due is None or as_of <= oldest_unpaid_due:
        return 0
    days = (as_of - oldest_unpaid_due).days
    return days if days > grace_days else 0


@dataclass(frozen=True)
class BucketLadder:
    """Upper DPD edges of the buckets: with (0, 30, 60 …), M0 is 0, M1 is 1–30, M2 31–60 ….

    Beyond the last edge the bucket is ``M{n}+`` (M7+ for the default seven edges).
    """

    edges: tuple[int, ...] = DEFAULT_EDGES

    def __post_init__(self) -> None:
        edges = tuple(self.edges)
        if not edges or edges[0] != 0:
            raise ValueError(f"bucket edges must start at 0 (M0 = current), got {list(edges)}")
        if any(b <= a for a, b in pairwise(edges)):
            raise ValueError(f"bucket edges must strictly increase, got {list(edges)}")
        object.__setattr__(self, "edges", edges)

    @property
    def labels(self) -> tuple[str, ...]:
        """Every bucket's label, in order."""
        return (*(f"M{i}" for i in range(len(self.edges))), f"M{len(self.edges)}+")

    def bucket(self, dpd: int) -> str:
        """The bucket of ``dpd``."""
        if dpd < 0:
            raise ValueError(f"dpd must be ≥ 0, got {dpd}")
        for index, edge in enumerate(self.edges):
            if dpd <= edge:
                return f"M{index}"
        return f"M{len(self.edges)}+"
