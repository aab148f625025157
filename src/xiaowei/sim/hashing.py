"""Counter-based randomness: attributes that are a pure function of (seed, index).

Why: a party's name, identifiers, region and industry must be computable from any chunk of
the simulation (an invoice's buyer, a guarantor, a supply-chain anchor live in other chunks),
without holding the whole population in memory. A SplitMix64 finaliser over the index gives
independent-looking draws that are reproducible and need no state.
"""

from __future__ import annotations

import zlib

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def salt_of(seed: int, name: str) -> np.uint64:
    """A 64-bit key for one named attribute under one seed."""
    key = np.array([(seed & 0xFFFFFFFF) << 32 | zlib.crc32(name.encode())], dtype=np.uint64)
    return _mix(key)[0]


def hash_u64(seed: int, name: str, idx: np.ndarray) -> np.ndarray:
    """Deterministic 64-bit hashes of indices for the attribute `name`."""
    x = np.asarray(idx, dtype=np.uint64) ^ salt_of(seed, name)
    return _mix(_mix(x))


def uniform(seed: int, name: str, idx: np.ndarray) -> np.ndarray:
    """Uniform [0, 1) draws, one per index."""
    return (hash_u64(seed, name, idx) >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def integers(seed: int, name: str, idx: np.ndarray, high: int) -> np.ndarray:
    """Uniform integers in [0, high), one per index."""
    return (hash_u64(seed, name, idx) % np.uint64(high)).astype(np.int64)


def normal(seed: int, name: str, idx: np.ndarray) -> np.ndarray:
    """Standard normal draws by Box–Muller over two hashed uniforms."""
    u1 = np.maximum(uniform(seed, name + ":1", idx), 1e-300)
    u2 = uniform(seed, name + ":2", idx)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def choice(seed: int, name: str, idx: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted categorical draws (indices into `weights`)."""
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    cdf /= cdf[-1]
    return np.searchsorted(cdf, uniform(seed, name, idx), side="right")


def stream(seed: int, *keys: int | str) -> np.random.Generator:
    """An independent sequential random stream for one (table, chunk) of the simulation."""
    parts = [seed & 0xFFFFFFFF]
    for k in keys:
        parts.append(zlib.crc32(k.encode()) if isinstance(k, str) else int(k))
    return np.random.default_rng(np.random.SeedSequence(parts))
