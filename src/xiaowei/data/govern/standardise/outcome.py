"""What every standardising rule returns: the canonical value, or why there is none.

Why a pair and not an exception: the batch path cannot raise per row, and the governance step
must quarantine a row with a reason a data steward can act on. So both runtimes return
``(value, reason)``: a value and no reason when standardised, no value and a reason when
refused, and neither when the input was missing (NULL or blank) — completeness is judged by the
governance rules, not here.
"""

from __future__ import annotations

from typing import Generic, NamedTuple, TypeVar

T = TypeVar("T")


class Standardised(NamedTuple, Generic[T]):
    """A standardised value, or ``None`` with the reason it was refused."""

    value: T | None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        """Standardised, or missing in the first place: nothing to quarantine."""
        return self.reason is None


MISSING: Standardised[object] = Standardised(None, None)


def refused(reason: str) -> Standardised[T]:
    """No value, and the reason a steward will read in the quarantine list."""
    return Standardised(None, reason)


def sql_text(value: str) -> str:
    """A SQL string literal of one of *our* constants (patterns, tables) — never user data."""
    return "'" + value.replace("'", "''") + "'"
