"""Check characters of resident ID numbers (GB 11643) and USCCs (GB 32100), one or many.

Why our own code when python-stdnum validates both: the simulator must *make* millions of valid
numbers, and calling stdnum once per number is the slow part of generating a bank. These
functions compute the check character from the first 17 positions, as scalars for clarity and
as numpy array operations for volume; tests hold both against stdnum.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

# GB 11643 (ISO 7064 MOD 11-2): weight of position i is 2**(17 - i) mod 11; the check value is
# the one making the weighted sum ≡ 1 (mod 11), written 'X' when it is 10.
RIC_WEIGHTS: tuple[int, ...] = tuple(pow(2, 17 - i, 11) for i in range(17))
_RIC_CHECK_BY_REMAINDER = "10X98765432"

# GB 32100: 31 characters (no I, O, S, V, Z), weight of position i is 3**i mod 31, and the check
# value brings the weighted sum to a multiple of 31.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))
_USCC_INDEX = {ch: i for i, ch in enumerate(USCC_ALPHABET)}

_RIC_CHARS = np.array(list(_RIC_CHECK_BY_REMAINDER))
_USCC_CHARS = np.array(list(USCC_ALPHABET))


def ric_check_char(first17: str) -> str:
    """Check character ('0'-'9' or 'X') for the first 17 digits of a resident ID number."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("ric_check_char needs exactly 17 ASCII digits")
    total = sum(int(d) * w for d, w in zip(first17, RIC_WEIGHTS, strict=True))
    return _RIC_CHECK_BY_REMAINDER[total % 11]


def uscc_check_char(first17: str) -> str:
    """Check character for the first 17 characters of a unified social credit code."""
    if len(first17) != 17 or any(ch not in _USCC_INDEX for ch in first17):
        raise ValueError(f"uscc_check_char needs exactly 17 characters of {USCC_ALPHABET!r}")
    total = sum(_USCC_INDEX[ch] * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def _as_code_matrix(codes: npt.ArrayLike, name: str, upper: int) -> npt.NDArray[np.int64]:
    array = np.asarray(codes)
    if array.ndim != 2 or array.shape[1] != 17:
        raise ValueError(f"{name} needs an array of shape (n, 17), got {array.shape}")
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} needs integer codes, got dtype {array.dtype}")
    if array.size and (array.min() < 0 or array.max() > upper):
        raise ValueError(f"{name} needs codes in 0..{upper}")
    return array.astype(np.int64, copy=False)


def ric_check_chars(first17_digits: npt.ArrayLike) -> npt.NDArray[np.str_]:
    """Check characters for many resident ID numbers at once.

    ``first17_digits`` has shape (n, 17) of integers 0..9; the result has shape (n,) of
    one-character strings '0'-'9' or 'X'.
    """
    digits = _as_code_matrix(first17_digits, "ric_check_chars", 9)
    remainders = (digits @ np.asarray(RIC_WEIGHTS, dtype=np.int64)) % 11
    return _RIC_CHARS[remainders]


def uscc_check_chars(first17: npt.ArrayLike) -> npt.NDArray[np.str_]:
    """Check characters for many USCCs at once.

    ``first17`` has shape (n, 17) of integers 0..30 indexing ``USCC_ALPHABET``; the result has
    shape (n,) of one-character strings from that alphabet.
    """
    codes = _as_code_matrix(first17, "uscc_check_chars", 30)
    totals = (codes @ np.asarray(USCC_WEIGHTS, dtype=np.int64)) % 31
    return _USCC_CHARS[(31 - totals) % 31]
