"""Names of registered things (models, strategy packs) and the ids of the people acting.

Why one rule for both registries: a registered name is a key in the store, a directory or a
word in files bank staff read and in decision records, so it is kept to lower snake case,
digits and hyphens, at most 63 characters (like a DNS label) — nothing that could escape a
directory, differ only by case, or need quoting. A user id is what the four-eyes rule
compares, so it is compared without regard to case. Each registry passes its own error type.
"""

from __future__ import annotations

import re

MAX_NAME = 63
MAX_USER = 64
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*")


def check_name(name: object, what: str, example: str, error: type[Exception]) -> str:
    """``name`` if valid; ``error`` saying why otherwise (``what``: "model name" …)."""
    if not isinstance(name, str) or not name:
        raise error(f"{what} is empty")
    if len(name) > MAX_NAME:
        raise error(f"{what} {name!r} has {len(name)} characters; at most {MAX_NAME} are allowed")
    if not NAME_PATTERN.fullmatch(name):
        raise error(
            f"{what} {name!r} is not allowed: use lower-case letters, digits, '_' and '-', "
            f"starting with a letter or digit (e.g. {example!r})"
        )
    return name


def check_user(user: str | None, role: str, error: type[Exception]) -> str:
    """A user id stripped of surrounding blanks; refused when empty, too long or multi-line.

    ``role`` names the argument in the message ("approver", "registrant").
    """
    text = (user or "").strip()
    if not text:
        raise error(f"{role} is empty: say who you are (e.g. --by wang.li)")
    if len(text) > MAX_USER:
        raise error(f"{role} {text[:20]!r}… is longer than {MAX_USER} characters")
    if any(not ch.isprintable() for ch in text):
        raise error(f"{role} {text!r} contains control characters")
    return text


def same_person(a: str, b: str) -> bool:
    """Whether two user ids name the same person (``Wang.Li`` is ``wang.li``).

    Case is ignored so that the four-eyes rule cannot be dodged by retyping one's own id; the
    stores' check constraints use the same ``lower()`` comparison.
    """
    return a.strip().lower() == b.strip().lower()
