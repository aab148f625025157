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

import re
from dataclasses import dataclass

from xiaowei.modelling.errors import InvalidReference

MAX_NAME = 63
MAX_USER = 64
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*")
APPROVED = "approved"


def validate_name(name: str) -> str:
    """``name`` if it is a valid model name; :class:`InvalidReference` saying why otherwise."""
    if not isinstance(name, str) or not name:
        raise InvalidReference("model name is empty")
    if len(name) > MAX_NAME:
        raise InvalidReference(
            f"model name {name!r} has {len(name)} characters; at most {MAX_NAME} are allowed"
        )
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidReference(
            f"model name {name!r} is not allowed: use lower-case letters, digits, '_' and '-', "
            "starting with a letter or digit (e.g. 'admission_scorecard')"
        )
    return name


def validate_user(user: str | None, role: str = "user") -> str:
    """A user id stripped of surrounding blanks; refused when empty, too long or multi-line.

    ``role`` names the argument in the message ("approver", "registrant").
    """
    text = (user or "").strip()
    if not text:
        raise InvalidReference(f"{role} is empty: say who you are (e.g. --by wang.li)")
    if len(text) > MAX_USER:
        raise InvalidReference(f"{role} {text[:20]!r}… is longer than {MAX_USER} characters")
    if any(not ch.isprintable() for ch in text):
        raise InvalidReference(f"{role} {text!r} contains control characters")
    return text


def same_person(a: str, b: str) -> bool:
    """Whether two user ids name the same person (``Wang.Li`` is ``wang.li``).

    Case is ignored so that the four-eyes rule cannot be dodged by retyping one's own id; the
    store's check constraint uses the same ``lower()`` comparison.
    """
    return a.strip().lower() == b.strip().lower()


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
