"""Pack names, ``name@version`` references and user ids: parsed once, with clear errors.

Why strict names: a pack's name (``pack.name`` in its YAML) is a key in the store and a word in
CLI commands and decision records, so it is kept to lower snake case, digits and hyphens, at
most 63 characters — nothing that differs only by case or needs quoting.

References: ``name@3`` is exactly version 3; ``name@live`` or plain ``name`` is whichever
version is live now.
"""

from __future__ import annotations

from dataclasses import dataclass

from xiaowei.entities.registry_names import check_name, check_user
from xiaowei.strategies.errors import InvalidReference

LIVE = "live"


def validate_name(name: str) -> str:
    """``name`` if it is a valid pack name; :class:`InvalidReference` saying why otherwise."""
    return check_name(name, "pack name", "admission", InvalidReference)


def validate_user(user: str | None, role: str = "user") -> str:
    """A user id stripped of blanks; refused when empty, too long or multi-line."""
    return check_user(user, role, InvalidReference)


@dataclass(frozen=True)
class StrategyRef:
    """A parsed reference: ``version`` is a number, or ``None`` for "the live version"."""

    name: str
    version: int | None = None

    def __str__(self) -> str:
        return f"{self.name}@{LIVE if self.version is None else self.version}"

    @classmethod
    def parse(cls, text: str) -> StrategyRef:
        """Parse ``name``, ``name@live`` or ``name@N`` (N a positive integer)."""
        stripped = str(text).strip()
        name, sep, version = stripped.partition("@")
        validate_name(name)
        if not sep or version == LIVE:
            return cls(name)
        if not version.isascii() or not version.isdigit() or int(version) < 1:
            raise InvalidReference(
                f"strategy reference {text!r}: the version after '@' must be a positive "
                f"integer or '{LIVE}', got {version!r}"
            )
        return cls(name, int(version))

    @classmethod
    def parse_exact(cls, text: str, action: str) -> StrategyRef:
        """A reference that must name one version: approving "whatever is live" is how the
        wrong version gets approved, so ``action`` (e.g. "approve") needs ``name@N``."""
        ref = cls.parse(text)
        if ref.version is None:
            raise InvalidReference(
                f"{action} needs an explicit version like '{ref.name}@3', got {text!r}"
            )
        return ref
