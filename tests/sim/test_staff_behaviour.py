"""Managers' behaviour tables for the behaviour analytics (issue 9): the bank's geocodes of
business addresses, the mobile app's path points and the audit log.

They must exist with their documented columns, be deterministic, follow the rates written in
docs/simulator.md §10 (bands, not points), and leave every table that existed before them
exactly as it was (new random streams only).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from xiaowei.sim import SimResult, behaviour, generate, staff_tracks

NEW_TABLES = {
    "bank.address_geocodes": ["application_no", "lat", "lon", "precision_m"],
    "bank.manager_tracks": ["track_id", "manager_id", "recorded_at", "lat", "lon",
                            "accuracy_m", "device_id"],
    "bank.manager_audit_log": ["event_id", "manager_id", "operated_at", "action", "object_type",
                               "object_id", "field", "row_count", "stated_date"],
}


def _digests(out: Path) -> dict[str, str]:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))["table_digests"]


def test_new_tables_exist_with_their_columns(tiny_bank: SimResult) -> None:
    for name, columns in NEW_TABLES.items():
        zone, table = name.split(".")
        schema = pq.read_schema(tiny_bank.out / zone / f"{table}.parquet")
        assert schema.names == columns, name
        assert tiny_bank.tables[name] > 0, name


def test_new_tables_are_deterministic(tiny_bank: SimResult, tmp_path: Path) -> None:
    again = generate("tiny", 7, tmp_path / "again")
    first, second = _digests(tiny_bank.out), _digests(again.out)
    for name in NEW_TABLES:
        assert first[name] == second[name], name
    other = _digests(generate("tiny", 8, tmp_path / "other").out)
    assert all(first[name] != other[name] for name in NEW_TABLES)


def test_existing_tables_do_not_move(tiny_bank: SimResult, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The same bank generated with the new emitters switched off: every other table is
    byte-for-byte the same content (the emitters draw only from streams of their own)."""
    monkeypatch.setattr(staff_tracks, "address_geocodes", lambda *a: None)
    monkeypatch.setattr(staff_tracks, "manager_tracks", lambda *a: None)
    monkeypatch.setattr(behaviour, "audit_log", lambda *a: None)
    without = _digests(generate("tiny", 7, tmp_path / "without").out)
    with_them = _digests(tiny_bank.out)
    assert set(with_them) - set(without) == set(NEW_TABLES)
    assert {k: with_them[k] for k in without} == without


def test_every_application_has_one_geocode(small) -> None:
    assert small.one("SELECT count(*) FROM bank.applications") == small.one(
        "SELECT count(DISTINCT application_no) FROM bank.address_geocodes")
    assert small.one("SELECT count(*) FROM bank.address_geocodes WHERE lat IS NULL "
                     "OR isnan(lat) OR lon IS NULL") == 0


def test_geocodes_follow_the_documented_classes(small) -> None:
    town, rooftop = small.con.execute("""
        SELECT avg((precision_m >= 1000)::INT), avg((precision_m = 20)::INT)
        FROM bank.address_geocodes""").fetchone()
    assert 0.015 <= town <= 0.05  # 3%
    assert 0.45 <= rooftop <= 0.65  # 55%
    # One address string, one geocode.
    assert small.one("""
        SELECT max(n) FROM (SELECT a.address, count(DISTINCT (g.lat, g.lon)) AS n
                            FROM bank.applications a JOIN bank.address_geocodes g
                            USING (application_no) GROUP BY 1)""") == 1


def test_honest_check_ins_are_mostly_inside_the_geofence(small) -> None:
    """Honest managers miss a 300 m geofence only where the geocoder was wrong (a few %),
    careless ones on the visits they skipped (~30%)."""
    rates = dict(small.con.execute("""
        SELECT m.behaviour, avg((2 * 6371000 * asin(sqrt(
                 pow(sin(radians(g.lat - c.lat) / 2), 2) + cos(radians(c.lat))
                 * cos(radians(g.lat)) * pow(sin(radians(g.lon - c.lon) / 2), 2)))
               > 300 + c.accuracy_m + g.precision_m)::INT)
        FROM bank.manager_checkins c JOIN bank.address_geocodes g USING (application_no)
        JOIN truth.managers m USING (manager_id) WHERE g.precision_m < 1000
        GROUP BY 1""").fetchall())
    assert 0.005 <= rates["honest"] <= 0.05
    assert 0.2 <= rates["careless"] <= 0.4


def test_paths_reach_honest_visits_and_gaps_exist(small) -> None:
    """Path points in the 90 minutes before a check-in: ~92% of honest visits (8% app closed),
    fewer for careless managers, some of whose check-ins were made from the office."""
    shares = dict(small.con.execute("""
        WITH c AS (SELECT c.*, m.behaviour FROM bank.manager_checkins c
                   JOIN truth.managers m USING (manager_id)),
        near AS (SELECT DISTINCT c.checkin_id FROM c JOIN bank.manager_tracks t
                   ON t.manager_id = c.manager_id
                  AND t.recorded_at BETWEEN c.checked_at - INTERVAL 90 MINUTE AND c.checked_at)
        SELECT behaviour, avg((near.checkin_id IS NOT NULL)::INT)
        FROM c LEFT JOIN near USING (checkin_id) GROUP BY 1""").fetchall())
    assert 0.88 <= shares["honest"] <= 0.97
    assert shares["careless"] < shares["honest"] - 0.05
    assert small.one("SELECT count(*) FROM bank.manager_tracks WHERE recorded_at > "
                     "TIMESTAMP '2025-12-31 23:59:59'") == 0


def test_audit_log_rates(small) -> None:
    rows = small.con.execute("""
        SELECT m.behaviour,
               avg((date_diff('day', stated_date, operated_at::DATE) >= 3)::INT)
                 FILTER (WHERE action = 'entry'),
               avg((row_count >= 500)::INT) FILTER (WHERE action = 'export'),
               count(*) FILTER (WHERE action = 'export')
                 / count(DISTINCT manager_id) / 24.0
        FROM bank.manager_audit_log a JOIN truth.managers m USING (manager_id)
        GROUP BY 1""").fetchall()
    by = {r[0]: r[1:] for r in rows}
    honest_back, honest_bulk, honest_exports = by["honest"]
    assert 0.01 <= honest_back <= 0.035  # 2%
    assert 0.015 <= honest_bulk <= 0.07  # 4%
    assert 0.8 <= honest_exports <= 1.2  # one a month
    assert by["careless"][0] > 2 * honest_back  # careless paperwork
    assert by["colluding"][1] > 2 * honest_bulk  # colluders pull big lists


def test_honest_contact_changes_are_rare_but_exist(small) -> None:
    rate = small.one("""
        SELECT count(DISTINCT a.object_id)::DOUBLE / (SELECT count(*) FROM bank.loans)
        FROM bank.manager_audit_log a WHERE a.action = 'edit'""")
    assert 0.007 <= rate <= 0.025  # 1.5% of loans
