"""Managers' static facts and exam results in the simulator (issue 9): the documented model,
new tables only, nothing else moved."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from xiaowei.sim import SimResult, generate
from xiaowei.sim.sizes import SimSize
from xiaowei.sim.sources.common import Emit
from xiaowei.sim.staff import (
    CERTIFICATIONS,
    EDUCATION,
    EXAM_MEAN,
    EXAMS,
    build_staff,
    exams,
    profiles,
    skill,
)


def test_new_bank_tables_with_their_columns(tiny_bank: SimResult) -> None:
    bank = tiny_bank.out / "bank"
    assert pq.read_schema(bank / "manager_profiles.parquet").names == [
        "manager_id", "education", "certifications"]
    assert pq.read_schema(bank / "manager_exams.parquet").names == [
        "manager_id", "exam", "taken_on", "score"]
    # The existing managers table keeps exactly its columns.
    assert pq.read_schema(bank / "managers.parquet").names == [
        "manager_id", "name", "phone", "branch_id", "risk_tier", "hired_on"]
    managers = pq.read_table(bank / "managers.parquet")["manager_id"].to_pylist()
    assert pq.read_table(bank / "manager_profiles.parquet")["manager_id"].to_pylist() == managers
    assert tiny_bank.tables["truth.manager_skill"] == len(managers)


def test_values_are_in_their_vocabularies(tiny_bank: SimResult) -> None:
    bank = tiny_bank.out / "bank"
    prof = pq.read_table(bank / "manager_profiles.parquet").to_pylist()
    names = {c[0] for c in CERTIFICATIONS}
    for row in prof:
        assert row["education"] in EDUCATION
        assert all(c in names for c in row["certifications"].split("、") if c)
    exam = pq.read_table(bank / "manager_exams.parquet").to_pylist()
    assert exam and {r["exam"] for r in exam} <= {e[0] for e in EXAMS}
    assert all(0 <= r["score"] <= 100 for r in exam)
    hired = {r["manager_id"]: r["hired_on"]
             for r in pq.read_table(bank / "managers.parquet").to_pylist()}
    assert all(r["taken_on"] > hired[r["manager_id"]] for r in exam)
    assert max(r["taken_on"] for r in exam).isoformat() <= "2025-12-31"


def _many(n: int = 4000, seed: int = 3):
    """A large staff (only the managers matter) to check the model's statistics."""
    size = SimSize("many", n * 120 * 5, n * 120 * 5)
    staff = build_staff(seed, size)
    assert len(staff.manager_id) == n
    return staff


def test_exam_model_statistics() -> None:
    staff = _many()
    e = exams(staff.seed, staff)
    ids = {m: i for i, m in enumerate(staff.manager_id)}
    idx = np.array([ids[m] for m in e["manager_id"]])
    score = e["score"].astype(float)
    shift = {name: s for name, *_, s in EXAMS}
    base = score - np.array([shift[x] for x in e["exam"]])
    assert abs(base.mean() - EXAM_MEAN) < 0.6
    assert 9.0 < base.std() < 11.0  # √(6² + 8²) = 10
    behaviour = staff.behaviour[idx]
    honest = base[behaviour == "honest"].mean()
    assert 2.0 < honest - base[behaviour == "careless"].mean() < 6.0
    # Colluders cannot be told apart by exams.
    assert abs(honest - base[behaviour == "colluding"].mean()) < 2.0
    # Skill moves the score, about 6 points per standard deviation.
    s = skill(staff.seed, staff)[idx]
    assert 5.0 < np.polyfit(s, base, 1)[0] < 7.0
    # About 4% of sittings are missed.
    present = len(score) / sum(sittings for *_, sittings, _ in EXAMS) / len(staff.manager_id)
    assert 0.90 < present < 0.97


def test_education_and_certification_shares() -> None:
    staff = _many()
    p = profiles(staff.seed, staff)
    shares = {level: float(np.mean(p["education"] == level)) for level in EDUCATION}
    for level, expected in zip(EDUCATION, (0.05, 0.25, 0.55, 0.15), strict=True):
        assert abs(shares[level] - expected) < 0.03, (level, shares)
    held = np.array([c.split("、") if c else [] for c in p["certifications"]], dtype=object)
    qualified = np.mean(["银行从业资格" in h for h in held])
    assert qualified > 0.9
    cfa = np.mean(["特许金融分析师（CFA）" in h for h in held])
    assert cfa < 0.05


def test_deterministic_and_independent_of_the_book() -> None:
    staff = _many(200)
    a, b = exams(staff.seed, staff), exams(staff.seed, staff)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    other = exams(staff.seed + 1, dataclasses.replace(staff, seed=staff.seed + 1))
    assert not np.array_equal(a["score"][:50], other["score"][:50])
    # The facts use their own hashing keys: building them leaves the staff untouched.
    again = build_staff(staff.seed, SimSize("many", 200 * 600, 200 * 600))
    assert np.array_equal(again.manager_tier, staff.manager_tier)
    assert np.array_equal(again.behaviour, staff.behaviour)


def test_no_other_table_moves(tiny_bank: SimResult, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Generating the bank without the new tables gives every other table byte for byte."""
    new = {("bank", "manager_profiles"), ("bank", "manager_exams"), ("truth", "manager_skill")}
    for zone in ("bank", "truth"):
        original = getattr(Emit, zone)

        def skip(self: Emit, table: str, batch: object, _zone: str = zone,
                 _original: object = original) -> None:
            if (_zone, table) not in new:
                _original(self, table, batch)  # type: ignore[operator]

        monkeypatch.setattr(Emit, zone, skip)
    without = generate("tiny", 7, tmp_path / "without")
    digests = json.loads((tiny_bank.out / "manifest.json").read_text("utf-8"))["table_digests"]
    others = json.loads((without.out / "manifest.json").read_text("utf-8"))["table_digests"]
    assert set(digests) - set(others) == {f"{z}.{t}" for z, t in new}
    assert all(digests[name] == others[name] for name in others)
