"""Model names, ``name@version`` references and user ids: parsed once, with clear errors.

Why strict names: a model's name is a directory under ``XIAOWEI_HOME/models``, a key in the
store and a word in strategy files that bank staff read, so it is kept to lower snake case,
digits and hyphens (at most 63 characters, like a DNS label) — nothing that could escape a
directory, differ only by case, or need quoting.

A strategy pins a model in one of two ways:

- ``name@3`` — exactly version 3, whatever is approved later (reproducible decisions);
- ``name@approved`` or plain ``name`` — the newest approved version (follows approvals).
"""

from __future__ import annotations

from dataclasses import dataclass

from xiaowei.entities.registry_names import check_name, check_user
from xiaowei.modelling.errors import InvalidReference

APPROVED = "approved"


def validate_name(name: str) -> str:
    """``name`` if it is a valid model name; :class:`InvalidReference` saying why otherwise."""
    return check_name(name, "model name", "admission_scorecard", InvalidReference)


def validate_user(user: str | None, role: str = "user") -> str:
    """A user id stripped of blanks; refused when empty, too long or multi-line."""
    return check_user(user, role, InvalidReference)


@dataclass(frozen=True)
class ModelRef:
    """A parsed reference: ``version`` is a number, or ``None`` for "newest approved"."""

    name: str
    version: int | None = None

    def __str__(self) -> str:
        return f"{self.name}@{APPROVED if self.version is None else self.version}"

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        """Parse ``name``, ``name@approved`` or ``name@N`` (N a positive integer)."""
        if not isinstance(text, str):
            raise InvalidReference(f"a model reference is text like 'name@3', got {text!r}")
        stripped = text.strip()
        name, sep, version = stripped.partition("@")
        if not sep:
            return cls(validate_name(name))
        if "@" in version:
            raise InvalidReference(f"model reference {text!r} has more than one '@'")
        if not name:
            raise InvalidReference(f"model reference {text!r} has no name before '@'")
        validate_name(name)
        if version == APPROVED:
            return cls(name)
        if not version.isascii() or not version.isdigit():
            raise InvalidReference(
                f"model reference {text!r}: the version after '@' must be a positive integer "
                f"or '{APPROVED}', got {version!r}"
            )
        number = int(version)
        if number < 1:
            raise InvalidReference(f"model reference {text!r}: versions start at 1, got {number}")
        return cls(name, number)

    @classmethod
    def parse_exact(cls, text: str, action: str) -> ModelRef:
        """Parse a reference that must name one version, for steps that change a version.

        Approving or retiring "whatever is newest" is how the wrong model gets retired, so
        ``action`` (e.g. "approve") needs ``name@N``.
        """
        ref = cls.parse(text)
        if ref.version is None:
            raise InvalidReference(
                f"{action} needs an explicit version like '{ref.name}@3', got {text!r}"
            )
        return ref
