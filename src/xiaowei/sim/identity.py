"""Identifiers and names that are pure functions of a party's or person's index.

Numbers are made valid the way the issuing authority makes them (USCC per GB 32100, resident
ID per GB 11643) and unique by construction: the serial parts come from a bijection of the
index, so no two parties ever share one unless the simulation means them to (fraud rings).
"""

from __future__ import annotations

import numpy as np

from xiaowei.entities.check_digits import ric_check_chars, uscc_check_chars
from xiaowei.sim import hashing
from xiaowei.sim.geography import birthplace
from xiaowei.sim.vocab import FIRM_WORDS, GIVEN_CHARS, SURNAME_WEIGHTS, SURNAMES

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2])
BIRTH_DAYS = 14_600  # birth dates spread over 40 years: 1960-01-01 .. 1999-12-22
BIRTH_START = np.datetime64("1960-01-01")


def _permute(idx: np.ndarray, modulus: int, mult: int, offset: int) -> np.ndarray:
    """A bijection on [0, modulus) (mult is coprime with modulus)."""
    return (np.asarray(idx, dtype=np.int64) * mult + offset) % modulus


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """Integers → (n, width) array of decimal digits, most significant first."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (np.asarray(values, dtype=np.int64)[:, None] // powers) % 10


def _join(codes: np.ndarray, alphabet: str) -> np.ndarray:
    table = np.array(list(alphabet))
    chars = table[codes]
    return np.array(["".join(row) for row in chars])


def make_uscc(seed: int, idx: np.ndarray, region: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """USCC for parties: '9' (market regulator) + kind ('1' firm, '2' individual business)."""
    n = len(idx)
    body = _permute(idx + seed * 7919, 100_000_000, 48_271, 12_345_677)
    body_digits = _digits(body, 8)
    s = (body_digits * _ORG_WEIGHTS).sum(axis=1)
    c9 = (11 - s % 11) % 11  # 10 → 'X' (index 30 in the USCC alphabet)
    c9 = np.where(c9 == 10, _USCC_ALPHABET.index("X"), c9)
    region_digits = _digits(np.array([int(r) for r in region]), 6)
    first17 = np.empty((n, 17), dtype=np.int64)
    first17[:, 0] = 9
    first17[:, 1] = np.asarray(kind, dtype=np.int64)
    first17[:, 2:8] = region_digits
    first17[:, 8:16] = body_digits
    first17[:, 16] = c9
    check = uscc_check_chars(first17)
    return np.char.add(_join(first17, _USCC_ALPHABET), check)


def make_resident_id(seed: int, person: np.ndarray, region: np.ndarray) -> tuple[np.ndarray,
                                                                                  np.ndarray]:
    """Resident ID numbers and birth dates; the sequence digit's parity is the sex (odd male)."""
    p = _permute(person + seed * 104_729, BIRTH_DAYS * 1000, 1_000_003, 7_654_321)
    day, seq = p // 1000, p % 1000
    birth = BIRTH_START + day.astype("timedelta64[D]")
    year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    region = birthplace(region, year, hashing.uniform(seed, "birthplace", person))
    ymd = np.char.replace(np.datetime_as_string(birth, unit="D"), "-", "")
    n = len(person)
    first17 = np.empty((n, 17), dtype=np.int64)
    first17[:, 0:6] = _digits(np.array([int(r) for r in region]), 6)
    first17[:, 6:14] = _digits(np.array([int(s) for s in ymd]), 8)
    first17[:, 14:17] = _digits(seq, 3)
    check = ric_check_chars(first17)
    return np.char.add(_join(first17, "0123456789"), check), birth


def make_mobile(seed: int, person: np.ndarray) -> np.ndarray:
    """Unique mainland mobile numbers (11 digits, no country code)."""
    prefixes = np.array(["138", "139", "137", "136", "135", "150", "151", "152", "158", "159",
                         "186", "187", "188", "189", "177", "180", "133", "153", "199", "191"])
    pre = prefixes[hashing.integers(seed, "phone-prefix", person, len(prefixes))]
    tail = _permute(person + seed * 31, 100_000_000, 7_777_777, 24_680_135)
    return np.char.add(pre, np.char.zfill(tail.astype(str), 8))


def person_names(seed: int, person: np.ndarray) -> np.ndarray:
    s = np.array(list(SURNAMES))[hashing.choice(seed, "surname", person,
                                                np.array(SURNAME_WEIGHTS))]
    g = np.array(list(GIVEN_CHARS))
    g1 = g[hashing.integers(seed, "given1", person, len(g))]
    g2 = g[hashing.integers(seed, "given2", person, len(g))]
    two = hashing.uniform(seed, "given-len", person) < 0.7
    return np.char.add(np.char.add(s, g1), np.where(two, g2, ""))


def firm_words(seed: int, idx: np.ndarray) -> np.ndarray:
    """Two-character trade names (字号)."""
    w = np.array(list(FIRM_WORDS))
    a = w[hashing.integers(seed, "firm1", idx, len(w))]
    b = w[hashing.integers(seed, "firm2", idx, len(w))]
    return np.char.add(a, b)
