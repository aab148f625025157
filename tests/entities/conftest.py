"""Shared helpers: real-looking valid identifiers, made with python-stdnum's own check digits.

The helpers use stdnum (not our check_digits module) so that tests of the validators do not
lean on the code under test.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from stdnum.cn import ric


def with_ric_check(first17: str) -> str:
    """A resident ID number from its first 17 digits (stdnum wants a placeholder check)."""
    return first17 + ric.calc_check_digit(first17 + "0")


@pytest.fixture
def make_ric() -> Callable[[str], str]:
    return with_ric_check


@pytest.fixture
def ric_x() -> str:
    """A valid ID number whose check character is 'X' (the case that trips people up)."""
    for serial in range(1000):
        number = with_ric_check(f"33010619900101{serial:03d}")
        if number.endswith("X"):
            return number
    raise AssertionError("no X check digit found")  # pragma: no cover
