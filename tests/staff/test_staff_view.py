"""The supervisor's reads on a hand-built staff day: the team (worst alerts first, the branch
median), one manager (figures against peers, signals with their evidence), the check-in map
(the period's points, the far check-in red, a scale bar, nothing from the network), the radar,
and the staff scope (a manager outside it is not found, exactly like one who does not exist;
nobody sees their own file)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Sequence

import duckdb
import pytest

from xiaowei.security.principal import PermissionDenied, Principal
from xiaowei.security.roles import default_roles
from xiaowei.staff.geo import metres_between
from xiaowei.staff.view import (
    DAY_COLUMNS,
    ManagerNotFound,
    checkin_map_svg,
    checkin_points,
    dimension_labels,
    manager_view,
    radar_svg,
    scoped_manager,
    staff_scope,
    team,
)

AS_OF = dt.date(2025, 3, 28)  # a Friday
SITE = (30.25, 120.15)
PER_LAT = metres_between(0.0, 0.0, 1.0, 0.0)
DAY_TYPES = {c: "DOUBLE" for c in DAY_COLUMNS} | {
    "as_of": "DATE", "manager_id": "VARCHAR", "branch_id": "VARCHAR", "rating": "VARCHAR",
    "rating_zh": "VARCHAR", "driver_zh": "VARCHAR", "assessment_zh": "VARCHAR",
    "customers": "INTEGER", "target_customers": "INTEGER", "recorded_tier": "INTEGER",
    "recommended_tier": "INTEGER", "new_customers": "INTEGER", "alert_level": "VARCHAR",
    "collusion_suspected": "BOOLEAN"}


def north(metres: float, at: tuple[float, float] = SITE) -> tuple[float, float]:
    """A point ``metres`` due north of ``at``."""
    return at[0] + metres / PER_LAT, at[1]


def staff_day(con: duckdb.DuckDBPyConnection, managers: Sequence[tuple[str, str, str]],
              alerted: dict[str, str], as_of: dt.date = AS_OF) -> None:
    """The staff batch's three tables as the contract gives them, for ``managers`` (id,
    branch, name) on ``as_of``; ``alerted``: manager → level (a signal and an alert row)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS staff; CREATE SCHEMA IF NOT EXISTS raw")
    con.execute("CREATE TABLE IF NOT EXISTS staff.manager_day ("
                + ", ".join(f"{c} {DAY_TYPES[c]}" for c in DAY_COLUMNS) + ")")
    con.execute("CREATE TABLE IF NOT EXISTS staff.signal (as_of DATE, manager_id VARCHAR, "
                "signal VARCHAR, category VARCHAR, level VARCHAR, value DOUBLE, "
                "threshold DOUBLE, n_events INTEGER, evidence VARCHAR, name_zh VARCHAR, "
                "name_en VARCHAR)")
    con.execute("CREATE TABLE IF NOT EXISTS staff.alert (as_of DATE, manager_id VARCHAR, "
                "branch_id VARCHAR, level VARCHAR, categories VARCHAR, signals VARCHAR, "
                "new BOOLEAN)")
    fresh = not con.execute("SELECT count(*) FROM information_schema.tables WHERE "
                            "table_schema = 'raw' AND table_name = 'bank_managers'"
                            ).fetchone()[0]
    if fresh:
        con.execute("CREATE TABLE raw.bank_managers (manager_id VARCHAR, name VARCHAR, "
                    "phone VARCHAR, branch_id VARCHAR)")
    for i, (mid, branch, name) in enumerate(managers):
        level = alerted.get(mid, "none")
        row = {c: None for c in DAY_COLUMNS} | {
            "as_of": as_of, "manager_id": mid, "branch_id": branch, "rating": "BCA"[i % 3],
            "rating_zh": "良好", "score": 60.0 + 10 * i, "driver_zh": "资产质量",
            "assessment_zh": "保持", "customers": 120 + 30 * i, "target_customers": 200,
            "hours": 1200.0, "capacity_hours": 1600.0, "utilisation": 0.75, "recorded_tier": 2,
            "recommended_tier": 3, "par30": 0.01 * (i + 1), "par90": 0.005, "fpd_rate": 0.002,
            "renewal_rate": 0.6, "conversion_rate": 0.4, "new_customers": 10 + i,
            "outstanding_yuan": 1e7 * (i + 1), "alert_level": level,
            "collusion_suspected": level == "red"}
        for j, d in enumerate(("volume", "quality", "risk", "conduct", "professional",
                               "workload")):
            row[f"dim_{d}"] = float(40 + 10 * i + 5 * j)
        con.execute(f"INSERT INTO staff.manager_day ({', '.join(DAY_COLUMNS)}) VALUES "
                    f"({', '.join('?' for _ in DAY_COLUMNS)})", [row[c] for c in DAY_COLUMNS])
        if fresh:
            con.execute("INSERT INTO raw.bank_managers VALUES (?, ?, '13800000000', ?)",
                        [mid, name, branch])
        if level != "none":
            evidence = json.dumps([f"CK-{mid}-{k}" for k in range(12)])
            con.execute("INSERT INTO staff.signal VALUES (?, ?, 'geofence_miss', 'location', ?, "
                        "0.42, 0.3, 12, ?, '打卡远离客户地址', 'check-in far from the address')",
                        [as_of, mid, level, evidence])
            signals = [{"signal": "geofence_miss", "category": "location", "level": level,
                        "value": 0.42, "threshold": 0.3, "name_zh": "打卡远离客户地址",
                        "name_en": "check-in far from the address",
                        "evidence": json.loads(evidence)[:5]}]
            con.execute("INSERT INTO staff.alert VALUES (?, ?, ?, ?, 'location', ?, true)",
                        [as_of, mid, branch, level, json.dumps(signals, ensure_ascii=False)])


def day_alerts(con: duckdb.DuckDBPyConnection, as_of: dt.date = AS_OF) -> list[dict]:
    """The day's ``staff.alert`` rows as the batch hands them to ``open_alert_tasks``."""
    cur = con.execute("SELECT * FROM staff.alert WHERE as_of = ? ORDER BY manager_id", [as_of])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def checkins(con: duckdb.DuckDBPyConnection, manager_id: str, as_of: dt.date = AS_OF) -> None:
    """Four check-ins of ``manager_id`` (near, far, mock and near, 40 days old) at three
    business addresses, as the table ``staff_checkin`` and ``raw.bank_address_geocodes``."""
    con.execute("CREATE TABLE IF NOT EXISTS staff_checkin (event_id VARCHAR, "
                "manager_id VARCHAR, occurred_at TIMESTAMP, lat DOUBLE, lon DOUBLE, "
                "accuracy_m DOUBLE, mock_location BOOLEAN, device_id VARCHAR, "
                "purpose VARCHAR, application_no VARCHAR)")
    con.execute("CREATE TABLE IF NOT EXISTS raw.bank_address_geocodes (application_no VARCHAR, "
                "lat DOUBLE, lon DOUBLE, precision_m DOUBLE)")
    day = dt.datetime.combine(as_of, dt.time(10))
    other = (SITE[0] + 0.01, SITE[1] + 0.02)
    rows = [  # event, when, where, accuracy, mock, application
        (f"NEAR-{manager_id}", day - dt.timedelta(days=3), north(60), 20.0, False, "APP-1"),
        (f"FAR-{manager_id}", day - dt.timedelta(days=1), north(2500, other), 15.0, False,
         "APP-2"),
        (f"MOCK-{manager_id}", day, north(600), 150.0, True, "APP-3"),
        (f"OLD-{manager_id}", day - dt.timedelta(days=40), north(5000), 10.0, False, "APP-1"),
    ]
    for event, at, (lat, lon), accuracy, mock, app in rows:
        con.execute("INSERT INTO staff_checkin VALUES (?, ?, ?, ?, ?, ?, ?, 'DEV-1', "
                    "'贷前调查 <b>', ?)", [event, manager_id, at, lat, lon, accuracy, mock, app])
    for app, (lat, lon) in (("APP-1", SITE), ("APP-2", other), ("APP-3", SITE)):
        con.execute("INSERT INTO raw.bank_address_geocodes (application_no, lat, lon, "
                    "precision_m) VALUES (?, ?, ?, 30)", [app, lat, lon])


MANAGERS = [("M1", "B1", "王经理"), ("M2", "B1", "李经理"), ("M3", "B2", "赵经理")]


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    staff_day(connection, MANAGERS, {"M1": "red", "M3": "orange"})
    checkins(connection, "M1")
    yield connection
    connection.close()


def principal(role: str, branch: str | None = None, manager: str | None = None) -> Principal:
    return Principal(f"u.{role}", f"u.{role}", role, branch, manager,
                     default_roles().role(role).permissions)


def test_the_team_worst_alert_first_with_the_branch_median(con) -> None:
    found = team(con, None, "B1")
    assert found["as_of"] == AS_OF
    assert [m["manager_id"] for m in found["managers"]] == ["M1", "M2"]  # red before none
    assert found["managers"][0]["name"] == "王经理"
    assert found["managers"][1]["target_share"] == pytest.approx(150 / 200)
    assert found["median"]["volume"] == pytest.approx((40 + 50) / 2)
    assert found["alerts"] == {"red": 1, "none": 1}
    assert {m["manager_id"] for m in team(con, AS_OF, None)["managers"]} == {"M1", "M2", "M3"}
    assert team(con, AS_OF - dt.timedelta(days=1), "B1")["managers"] == []


def test_one_manager_against_the_branch_with_the_signals_evidence(con) -> None:
    found = manager_view(con, "M1", None)
    assert found["as_of"] == AS_OF and found["peers"] == 2
    figures = {f["figure"]: f for f in found["figures"]}
    assert figures["customers"]["value"] == 120
    assert figures["customers"]["median"] == pytest.approx(135)
    assert figures["par30"]["median"] == pytest.approx(0.015)
    signal = found["signals"][0]
    assert signal["signal"] == "geofence_miss" and signal["level"] == "red"
    assert signal["evidence"][0] == "CK-M1-0" and len(signal["evidence"]) == 12
    assert found["alerts"][0]["categories"] == ["location"]
    assert found["alerts"][0]["signals"][0]["threshold"] == 0.3
    with pytest.raises(ManagerNotFound):
        manager_view(con, "M9", None)


def test_the_map_draws_the_periods_check_ins_and_marks_the_far_one_red(con) -> None:
    points = {p["event_id"]: p for p in checkin_points(con, "M1", AS_OF)}
    assert set(points) == {"NEAR-M1", "FAR-M1", "MOCK-M1"}  # 40 days ago is left out
    assert points["NEAR-M1"]["metres"] == pytest.approx(60, abs=1)
    assert not points["NEAR-M1"]["far"] and points["FAR-M1"]["far"]
    # 600 m with 150 m accuracy and a 30 m geocode lies inside 500 + 150 + 30
    assert not points["MOCK-M1"]["far"] and points["MOCK-M1"]["mock"]
    tight = {p["event_id"]: p["far"] for p in checkin_points(con, "M1", AS_OF, radius_m=5)}
    assert tight["NEAR-M1"]  # 60 m > 5 + 20 (accuracy) + 30 (geocode precision)
    svg = checkin_map_svg(con, "M1", AS_OF)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    far = re.search(r'<circle class="checkin far" data-event="FAR-M1"[^>]*>', svg)
    near = re.search(r'<circle class="checkin" data-event="NEAR-M1"[^>]*>', svg)
    assert far and 'fill="#c62828"' in far.group(0)
    assert near and 'fill="#0072b2"' in near.group(0)
    assert re.search(r'<circle class="checkin mock" data-event="MOCK-M1"[^>]*fill="#ffffff"',
                     svg)
    assert svg.count('<line class="link far"') == 1 and svg.count('<line class="link"') == 2
    assert svg.count('<rect class="address"') == 2  # APP-1 and APP-3 share the spot
    assert "OLD-M1" not in svg
    assert re.search(r"<text[^>]*>\d+(\.\d+)? k?m</text></g>", svg)  # the scale bar
    assert "贷前调查 &lt;b&gt;" in svg and "<b>" not in svg  # escaped
    for banned in ("<script", "<image", "http:", "https:", "href"):
        assert banned not in svg
    empty = checkin_map_svg(con, "M2", AS_OF)
    assert "无打卡" in empty and "<circle" not in empty
    with pytest.raises(ValueError, match="radius_m"):
        checkin_points(con, "M1", AS_OF, radius_m=0)


def test_the_map_reads_the_banks_check_ins_when_no_view_is_given() -> None:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE TABLE raw.bank_manager_checkins (checkin_id VARCHAR, manager_id VARCHAR,"
                " checked_at TIMESTAMP, lat DOUBLE, lon DOUBLE, accuracy_m DOUBLE, "
                "mock_location BOOLEAN, device_id VARCHAR, purpose VARCHAR, "
                "application_no VARCHAR)")
    con.execute("INSERT INTO raw.bank_manager_checkins VALUES ('CK-1', 'M1', ?, 30.2, 120.1, "
                "10, false, 'D', 'visit', 'APP-9')", [dt.datetime.combine(AS_OF, dt.time(9))])
    points = checkin_points(con, "M1", AS_OF)
    assert [p["event_id"] for p in points] == ["CK-1"] and points[0]["metres"] is None
    assert 'data-event="CK-1"' in checkin_map_svg(con, "M1", AS_OF)


def test_the_radar_has_six_axes_and_the_peer_median_as_a_second_polygon() -> None:
    labels = dimension_labels("zh_CN")
    dims = {"volume": 80, "quality": 55.4, "risk": 120, "conduct": None, "professional": 30,
            "workload": 0}
    svg = radar_svg(dims, labels, {d: 50 for d in labels})
    assert svg.count('<text class="axis"') == 6
    assert "业务量 80" in svg and "资产质量 55" in svg and "合规操守 —" in svg
    assert 'class="peer"' in svg and 'class="self"' in svg
    self_points = re.search(r'class="self" points="([^"]+)"', svg).group(1).split()
    assert len(self_points) == 6
    alone = radar_svg(dims, dimension_labels("en"))
    assert 'class="peer"' not in alone and "business volume 80" in alone
    tricky = radar_svg({"a": 1, "b": 2, "c": 3}, {"a": "<a>", "b": "b", "c": "c"})
    assert "&lt;a&gt;" in tricky and "<a>" not in tricky
    with pytest.raises(ValueError, match="at least 3"):
        radar_svg({"a": 1}, {"a": "a", "b": "b"})


def test_the_staff_scope_hides_other_branches_and_ones_own_file(con) -> None:
    supervisor = staff_scope(principal("supervisor", "B1"))
    assert supervisor.allows("B1", "M1") and not supervisor.allows("B2", "M3")
    assert scoped_manager(con, supervisor, "M2")["manager"]["manager_id"] == "M2"
    with pytest.raises(ManagerNotFound) as outside:
        scoped_manager(con, supervisor, "M3")
    with pytest.raises(ManagerNotFound) as missing:
        scoped_manager(con, supervisor, "M9")
    assert str(outside.value) == str(missing.value).replace("M9", "M3")  # nothing told apart
    auditor = staff_scope(principal("auditor"))
    assert auditor.everything and scoped_manager(con, auditor, "M3")["peers"] == 1
    own = staff_scope(Principal("x", "x", "supervisor", "B1", "M1",
                                default_roles().role("supervisor").permissions))
    assert not own.allows("B1", "M1") and own.allows("B1", "M2")
    for role, branch in (("customer_manager", "B1"), ("approver", "B1"),
                         ("risk_analyst", None)):
        with pytest.raises(PermissionDenied, match="staff:read"):
            staff_scope(principal(role, branch, "M1" if role == "customer_manager" else None))
    lost = staff_scope(principal("supervisor", None))
    assert not lost.allows(None, "M1") and not lost.allows("B1", "M1")
