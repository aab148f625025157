from __future__ import annotations

import numpy as np
import pytest
from stdnum.cn import ric, uscc

from xiaowei.entities.check_digits import (
    USCC_ALPHABET,
    ric_check_char,
    ric_check_chars,
    uscc_check_char,
    uscc_check_chars,
)

N = 5000


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240601)


def test_ric_check_chars_agree_with_stdnum(rng: np.random.Generator) -> None:
    digits = rng.integers(0, 10, size=(N, 17))
    ours = ric_check_chars(digits)
    assert ours.shape == (N,)
    seen = set()
    for row, check in zip(digits, ours, strict=True):
        first17 = "".join(map(str, row))
        expected = ric.calc_check_digit(first17 + "0")
        assert check == expected
        assert ric_check_char(first17) == expected
        seen.add(expected)
    assert seen == set("0123456789X")  # every check value was exercised


def test_uscc_check_chars_agree_with_stdnum(rng: np.random.Generator) -> None:
    codes = rng.integers(0, 31, size=(N, 17))
    ours = uscc_check_chars(codes)
    assert ours.shape == (N,)
    seen = set()
    for row, check in zip(codes, ours, strict=True):
        first17 = "".join(USCC_ALPHABET[i] for i in row)
        expected = uscc.calc_check_digit(first17)
        assert check == expected
        assert uscc_check_char(first17) == expected
        seen.add(expected)
    assert seen == set(USCC_ALPHABET)


def test_generated_usccs_pass_stdnum_validation(rng: np.random.Generator) -> None:
    # stdnum wants digits in the first 8 places (authority, type, region).
    codes = np.concatenate(
        [rng.integers(0, 10, size=(500, 8)), rng.integers(0, 31, size=(500, 9))], axis=1
    )
    checks = uscc_check_chars(codes)
    for row, check in zip(codes, checks, strict=True):
        number = "".join(USCC_ALPHABET[i] for i in row) + check
        assert uscc.is_valid(number), number


def test_empty_batch_gives_empty_result() -> None:
    assert ric_check_chars(np.zeros((0, 17), dtype=np.int8)).shape == (0,)
    assert uscc_check_chars(np.zeros((0, 17), dtype=np.int8)).shape == (0,)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((3, 16), dtype=int), "shape"),
        (np.zeros(17, dtype=int), "shape"),
        (np.zeros((3, 17), dtype=float), "integer"),
        (np.full((3, 17), 10), "0..9"),
        (np.full((3, 17), -1), "0..9"),
    ],
)
def test_ric_batch_rejects_bad_input(array: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ric_check_chars(array)


def test_uscc_batch_rejects_codes_beyond_the_alphabet() -> None:
    with pytest.raises(ValueError, match=r"0\.\.30"):
        uscc_check_chars(np.full((2, 17), 31))


@pytest.mark.parametrize(
    "bad", ["1234567890123456", "1234567890123456A", "１２３４５６７８９０１２３４５６７"]
)
def test_scalar_ric_rejects_bad_input(bad: str) -> None:
    with pytest.raises(ValueError):
        ric_check_char(bad)


@pytest.mark.parametrize("bad", ["9111000060003734", "91110000600037I41", "911100006000373o1"])
def test_scalar_uscc_rejects_bad_input(bad: str) -> None:
    with pytest.raises(ValueError):
        uscc_check_char(bad)
