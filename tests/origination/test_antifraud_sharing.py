"""The simulator's honest sharing: shared identifiers are common, rings still share more.

Pure functions of (seed, index), so the population of `small` is checked without writing it.
"""

from __future__ import annotations

import numpy as np

from xiaowei.sim.population import build, family_of, market_of


def _shared(values: np.ndarray) -> np.ndarray:
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    return counts[inverse] >= 2


def test_honest_parties_share_and_rings_share_more() -> None:
    n = 20_032
    idx = np.arange(n)
    p = build(7, idx, n)
    ring = p["ring_member"]
    any_shared = (_shared(p["phone"]) | _shared(p["address"]) | _shared(p["device_id"])
                  | _shared(p["key_person"]))
    assert 0.04 <= any_shared[~ring].mean() <= 0.20  # several % of honest parties share
    assert any_shared[ring].mean() >= 0.6
    kinds = (_shared(p["phone"]).astype(int) + _shared(p["address"]) + _shared(p["device_id"])
             + _shared(p["key_person"]))
    assert kinds[ring].mean() > 3 * kinds[~ring].mean()  # rings share more at once
    assert np.median(p["years"][ring]) < 0.5 * np.median(p["years"][~ring & any_shared])


def test_family_and_market_are_honest_and_deterministic() -> None:
    n = 4_096
    idx = np.arange(n)
    family, first, second, _ = family_of(7, idx, n)
    market, place = market_of(7, idx)
    p = build(7, idx, n)
    assert not (p["ring_member"] & (family | market)).any()
    assert family.any() and market.any()
    # the spouse variant: each firm's key person is the other's spouse
    spouse_pair = second & (p["key_person"] >= n)
    assert spouse_pair.any()
    firsts = first[spouse_pair]
    np.testing.assert_array_equal(p["key_person"][spouse_pair], n + p["key_person"][firsts])
    np.testing.assert_array_equal(p["spouse_person"][spouse_pair], p["key_person"][firsts])
    again = build(7, idx, n)
    assert (again["address"] == p["address"]).all() and (again["phone"] == p["phone"]).all()
    assert len(np.unique(place[market])) < market.sum()  # several firms per market
