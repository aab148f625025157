"""Name lists (名单库): sets of identifiers a strategy checks a case against.

Why a separate, tiny module: lists are maintained by people outside the strategy team (fraud
operations add a phone number to a blacklist daily) and are large, so a pack names a list and
its kind, and the values come inline or from a plain file, one value per line. Membership is a
frozenset lookup — constant time, whatever the list's size — and the values are part of the
pack's content hash, so a changed list is a new pack version with a traceable diff.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LIST_KINDS = ("black", "white", "gray")


def normalise(value: Any) -> str:
    """The form a value is stored and looked up in: text, trimmed (numbers as their digits)."""
    return str(value).strip()


@dataclass(frozen=True)
class NameList:
    """A named set of values of one kind (black / white / gray); immutable once loaded."""

    name: str
    kind: str
    values: frozenset[str]

    def __contains__(self, value: object) -> bool:
        return value is not None and normalise(value) in self.values

    def matches(self, value: Any) -> tuple[str, ...]:
        """Values found in the list: one value, or each element of a list/tuple/set."""
        if value is None:
            return ()
        items = value if isinstance(value, (list, tuple, set, frozenset)) else (value,)
        return tuple(sorted({normalise(v) for v in items if v is not None} & self.values))

    def __len__(self) -> int:
        return len(self.values)


def read_values(lines: Iterable[str]) -> frozenset[str]:
    """Values of a list file: one per line; blank lines and ``#`` comments are skipped."""
    out = set()
    for line in lines:
        text = line.split("#", 1)[0].strip()
        if text:
            out.add(text)
    return frozenset(out)


def load_list_file(path: Path) -> frozenset[str]:
    """Read a list file (UTF-8); raises OSError if it cannot be read."""
    return read_values(path.read_text("utf-8").splitlines())


__all__ = ["LIST_KINDS", "NameList", "load_list_file", "normalise", "read_values"]
