"""Passwords: argon2 hashes that verify, rehash on new parameters, refuse weak input."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from xiaowei.security.passwords import (
    PasswordError,
    generate_password,
    hash_password,
    needs_rehash,
    verify_password,
)


def test_hash_verifies_only_the_right_password() -> None:
    stored = hash_password("correct-horse-battery")
    assert stored.startswith("$argon2id$") and "correct" not in stored
    assert verify_password(stored, "correct-horse-battery")
    assert not verify_password(stored, "correct-horse-batterY")
    assert not verify_password("not a hash", "correct-horse-battery")


def test_new_parameters_ask_for_a_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    old = hash_password("correct-horse-battery", hasher=weak)
    assert verify_password(old, "correct-horse-battery")
    assert needs_rehash(old)
    assert not needs_rehash(hash_password("correct-horse-battery"))


@pytest.mark.parametrize(("password", "words"), [
    ("", "empty"), ("   ", "empty"), ("short-pw", "at least 12"), ("line\nbreak-pw-12", "control"),
])
def test_weak_passwords_are_refused_with_the_rule(password: str, words: str) -> None:
    with pytest.raises(PasswordError, match=words):
        hash_password(password)


def test_generated_passwords_are_long_random_and_typeable() -> None:
    made = {generate_password() for _ in range(50)}
    assert len(made) == 50
    assert all(len(p) >= 16 and p.isalnum() and not set(p) & set("0O1lI") for p in made)
    with pytest.raises(PasswordError, match="16"):
        generate_password(10)
