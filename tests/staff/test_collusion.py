"""Collusion and ghost clients on hand-built banks: groups of one manager's applicants joined
by shared identifiers, and the verdict that needs the manager's own conduct on them."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from tests.staff.test_behaviour_signals import AS_OF, MiniBank, at, hits, north

from xiaowei.staff.behaviour_signals import manager_signals, prepare
from xiaowei.staff.collusion import applicant_groups, collusion_groups
from xiaowei.staff.signal_catalogue import StaffSignalCatalogue, load_signal_catalogue


@pytest.fixture
def bank() -> MiniBank:
    b = MiniBank()
    for m in ("M1", "M2", "M3", "M4"):
        b.manager(m, phone=f"1380000000{m[-1]}")
    return b


def _groups(bank: MiniBank, cat: StaffSignalCatalogue | None = None) -> dict:
    cat = cat or load_signal_catalogue()
    prepare(bank.con, AS_OF)
    table = applicant_groups(bank.con, AS_OF, cat.signal("shared_identifier_groups"))
    out: dict = {}
    for r in table.to_pylist():
        out.setdefault((r["manager_id"], r["group_no"]), set()).add(r["applicant"])
    kinds = {r["manager_id"]: r["kinds"] for r in table.to_pylist()}
    return {"groups": sorted(sorted(v) for v in out.values()), "kinds": kinds}


def _ring(bank: MiniBank) -> list[str]:
    """M1's applicants U1–U4 chained by a phone, a device and a person (legal representative
    of U3, guarantor of U4); U5 stands alone; M2's U6 shares U1's phone."""
    apps = [
        bank.application("M1", uscc="U1", phone="13911110000"),
        bank.application("M1", uscc="U2", phone="139 1111 0000", device="D1"),
        bank.application("M1", uscc="U3", device="d1", id_number="330100199001010011"),
        bank.application("M1", uscc="U4", id_number="330100199001010022"),
        bank.application("M1", uscc="U5", phone="13999990000"),
        bank.application("M2", uscc="U6", phone="13911110000"),
    ]
    bank.guarantor(apps[3], "330100199001010011")
    bank.application("M1", "2025-02-20", uscc="U1", phone="13911110000")  # a renewal: U1 again
    return apps


def test_groups_are_connected_components_per_manager(bank: MiniBank) -> None:
    _ring(bank)
    found = _groups(bank)
    assert found["groups"] == [["U1", "U2", "U3", "U4"]]
    assert found["kinds"]["M1"] == "device,guarantor,legal_rep,phone"


def test_a_value_shared_too_widely_is_not_an_identifier(bank: MiniBank) -> None:
    _ring(bank)
    cat = load_signal_catalogue()
    s = cat.signal("shared_identifier_groups")
    narrow = s.model_copy(update={"params": {**s.params, "max_sharing": 2}})
    cat = cat.model_copy(update={"signals": [narrow if x.name == s.name else x
                                             for x in cat.signals]})
    # The phone is used by U1, U2 and U6: more than 2 applicants, so it no longer joins.
    assert _groups(bank, cat)["groups"] == [["U2", "U3", "U4"]]


def test_groups_need_the_minimum_size(bank: MiniBank) -> None:
    bank.application("M1", uscc="U1", phone="13911110000")
    bank.application("M1", uscc="U2", phone="13911110000")
    assert _groups(bank)["groups"] == []
    found = hits(bank, load_signal_catalogue())
    assert "M1" not in found


def _group_of_three(bank: MiniBank, manager: str, tag: str) -> list[str]:
    return [bank.application(manager, uscc=f"{tag}{i}", address=f"杭州市某路{tag}号")
            for i in range(3)]


def _others(bank: MiniBank, manager: str, tag: str, n: int = 4) -> list[str]:
    return [bank.application(manager, uscc=f"{tag}{i}") for i in range(n)]


def test_the_verdict_needs_conduct_on_the_group(bank: MiniBank) -> None:
    colluder = _group_of_three(bank, "M1", "R")
    _others(bank, "M1", "C")
    for no in colluder:  # evenings on the ring's files
        bank.operation("M1", at("2025-02-05", "22:30:00"), "view", no)
    careless_group = _group_of_three(bank, "M3", "S")
    careless_rest = _others(bank, "M3", "K")
    for no in careless_group + careless_rest:  # checks in from the office, everywhere
        bank.checkin("M3", at("2025-02-06"), north(8_000), no)
    honest_group = _group_of_three(bank, "M4", "T")
    for no in honest_group:
        bank.checkin("M4", at("2025-02-06"), north(30), no)
    found = _all(bank)
    verdict = found[("M1", "collusion_suspected")]
    assert verdict["level"] == "red" and verdict["value"] == 1.0
    assert sorted(verdict["evidence"]) == sorted(colluder)
    assert ("M3", "collusion_suspected") not in found  # careless everywhere: no lift
    assert ("M4", "collusion_suspected") not in found  # a group, but honest conduct
    # The groups themselves are at most watched (here the whole branch has them: not even).
    assert all(r["level"] != "red" for (_, name), r in found.items()
               if name == "shared_identifier_groups")


def _all(bank: MiniBank) -> dict[tuple[str, str], dict]:
    """(manager, signal) → the signal's row, evidence parsed."""
    table = manager_signals(bank.con, AS_OF, load_signal_catalogue())
    return {(r["manager_id"], r["signal"]): {**r, "evidence": json.loads(r["evidence"])}
            for r in table.to_pylist()}


def test_collusion_groups_lists_the_marks(bank: MiniBank) -> None:
    ring = _group_of_three(bank, "M1", "R")
    bank.operation("M1", at("2025-02-05", "22:30:00"), "view", ring[0])
    bank.operation("M1", at("2025-02-08"), "edit", ring[1], "account_no")
    bank.checkin("M1", at("2025-02-03"), north(10), ring[2], mock=True)
    bank.guarantor(ring[2], "330100199001010077", phone="13800000003")  # M3's phone
    table = collusion_groups(bank.con, AS_OF).to_pylist()
    marks = {r["application_no"]: (r["after_hours_mark"], r["edit_mark"], r["visit_mark"],
                                   r["staff_phone_mark"]) for r in table}
    assert marks == {ring[0]: (True, False, False, False), ring[1]: (False, True, False, False),
                     ring[2]: (False, False, True, True)}
    assert {r["kinds"] for r in table} == {"address"} and {r["group_size"] for r in table} == {3}


def test_applicant_or_guarantor_phone_equal_to_a_staff_phone(bank: MiniBank) -> None:
    bank.application("M1", uscc="G1", phone="13800000002")  # M2's phone
    no = bank.application("M3", uscc="G2", phone="13912345678")
    bank.guarantor(no, "330100199001010099", phone="138-0000-0004")
    found = _all(bank)
    assert found[("M1", "applicant_phone_is_staff")]["level"] == "orange"
    assert found[("M3", "applicant_phone_is_staff")]["evidence"] == [no]


def test_one_guarantor_behind_many_applicants(bank: MiniBank) -> None:
    for i in range(3):
        bank.guarantor(bank.application("M1", uscc=f"H{i}"), "330100199001010055")
    for i in range(2):
        bank.guarantor(bank.application("M2", uscc=f"J{i}"), "330100199001010066")
    found = _all(bank)
    assert found[("M1", "guarantor_concentration")]["n_events"] == 1
    assert ("M2", "guarantor_concentration") not in found


def test_applications_after_the_day_are_not_seen(bank: MiniBank) -> None:
    ring = _group_of_three(bank, "M1", "R")
    later = bank.application("M1", (AS_OF + dt.timedelta(days=3)).isoformat(), uscc="R9",
                             address="杭州市某路R号")
    assert later not in {r["application_no"] for r in collusion_groups(bank.con, AS_OF)
                         .to_pylist()}
    assert len(ring) == 3
