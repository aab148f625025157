"""Passwords: argon2id hashes, rehashing when the bank raises the cost, generated passwords.

Why argon2 (argon2-cffi's ``PasswordHasher``): it is memory-hard, so a stolen ``app_user``
table cannot be brute-forced on GPUs the way SHA-based hashes can, and its hash string carries
its own parameters — a stronger setting later is applied to each user at their next sign-in
(:func:`needs_rehash`) with no mass reset.
"""

from __future__ import annotations

import secrets
import string
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
GENERATED_LENGTH = 20
# Letters and digits without look-alikes (0/O, 1/l/I), so a password read off a screen once
# can be typed without a second try.
_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")

_HASHER = PasswordHasher()


class PasswordError(ValueError):
    """A password the bank's rule refuses (too short, blank, multi-line)."""


def check_password(password: str) -> str:
    """``password`` if acceptable; :class:`PasswordError` naming the rule otherwise."""
    if not isinstance(password, str) or not password.strip():
        raise PasswordError("the password is empty")
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"the password has {len(password)} characters; at least "
                            f"{MIN_LENGTH} are required")
    if any(not ch.isprintable() for ch in password):
        raise PasswordError("the password contains control characters or line breaks")
    return password


def generate_password(length: int = GENERATED_LENGTH) -> str:
    """A random password from :mod:`secrets` (about 5.8 bits a character)."""
    if length < 16:
        raise PasswordError(f"a generated password needs at least 16 characters, not {length}")
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def hash_password(password: str, hasher: PasswordHasher = _HASHER) -> str:
    """The argon2id hash of an acceptable password."""
    return hasher.hash(check_password(password))


def verify_password(stored_hash: str, password: str, hasher: PasswordHasher = _HASHER) -> bool:
    """Whether ``password`` matches; a malformed stored hash counts as no match."""
    try:
        return hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str, hasher: PasswordHasher = _HASHER) -> bool:
    """Whether the hash was made with other parameters than today's (rehash at sign-in)."""
    try:
        return hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@cache
def dummy_hash() -> str:
    """A hash to verify against when the name is unknown, so that "no such user" takes as
    long as "wrong password" and sign-in timing does not reveal which names exist."""
    return _HASHER.hash("not-a-real-password-" + secrets.token_hex(8))
