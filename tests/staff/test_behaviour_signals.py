"""Behaviour signals per manager: each one at its thresholds on a hand-built bank (fires just
over, not just under), the level rule (own volume, branch peers), pluggable event sources,
the as-of cut, and an end-to-end run on the governed tiny bank."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from xiaowei.staff.behaviour_signals import (
    RESULT_SCHEMA,
    event_views,
    manager_signals,
)
from xiaowei.staff.geo import metres_between, speed_kmh
from xiaowei.staff.signal_catalogue import (
    LEVELS,
    LevelRule,
    StaffSignalCatalogue,
    load_signal_catalogue,
)

AS_OF = dt.date(2025, 3, 31)
SITE = (30.0, 120.0)
METRES_PER_DEGREE_LAT = metres_between(0.0, 0.0, 1.0, 0.0)

TABLES = {
    "bank_managers": "manager_id VARCHAR, name VARCHAR, phone VARCHAR, branch_id VARCHAR",
    "bank_applications": "application_no VARCHAR, applied_at TIMESTAMP, amount_fen BIGINT, "
                         "phone VARCHAR, address VARCHAR, device_id VARCHAR, "
                         "manager_id VARCHAR, branch_id VARCHAR, id_number VARCHAR, "
                         "uscc VARCHAR",
    "bank_application_guarantors": "application_no VARCHAR, guarantor_name VARCHAR, "
                                   "guarantor_id VARCHAR, guarantor_phone VARCHAR, "
                                   "relation VARCHAR",
    "bank_decisions": "application_no VARCHAR, decision VARCHAR, decided_at TIMESTAMP",
    "bank_loans": "loan_no VARCHAR, application_no VARCHAR, start_date DATE, "
                  "maturity_date DATE",
    "bank_address_geocodes": "application_no VARCHAR, lat DOUBLE, lon DOUBLE, "
                             "precision_m DOUBLE",
    "bank_manager_checkins": "checkin_id VARCHAR, manager_id VARCHAR, checked_at TIMESTAMP, "
                             "lat DOUBLE, lon DOUBLE, accuracy_m DOUBLE, "
                             "mock_location BOOLEAN, device_id VARCHAR, purpose VARCHAR, "
                             "application_no VARCHAR",
    "bank_manager_operations": "operation_id VARCHAR, manager_id VARCHAR, "
                               "operated_at TIMESTAMP, action VARCHAR, object_type VARCHAR, "
                               "object_id VARCHAR, field VARCHAR",
    "bank_manager_audit_log": "event_id VARCHAR, manager_id VARCHAR, operated_at TIMESTAMP, "
                              "action VARCHAR, object_type VARCHAR, object_id VARCHAR, "
                              "field VARCHAR, row_count BIGINT, stated_date DATE",
    "bank_manager_tracks": "track_id VARCHAR, manager_id VARCHAR, recorded_at TIMESTAMP, "
                           "lat DOUBLE, lon DOUBLE, accuracy_m DOUBLE, device_id VARCHAR",
}


def north(metres: float, of: tuple[float, float] = SITE) -> tuple[float, float]:
    """The point `metres` due north of `of` (haversine-exact along a meridian)."""
    return of[0] + metres / METRES_PER_DEGREE_LAT, of[1]


def at(day: str, clock: str = "10:00:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day} {clock}")


class MiniBank:
    """A hand-built analytic store with the bank's tables the signals read."""

    def __init__(self) -> None:
        self.con = duckdb.connect()
        self.con.execute("CREATE SCHEMA raw")
        for name, columns in TABLES.items():
            self.con.execute(f"CREATE TABLE raw.{name} ({columns})")
        self.n = 0

    def _id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n:05d}"

    def _insert(self, table: str, row: dict[str, Any]) -> None:
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        self.con.execute(f"INSERT INTO raw.{table} ({cols}) VALUES ({marks})", list(row.values()))

    def manager(self, manager_id: str, branch: str = "B1", phone: str | None = None) -> None:
        self._insert("bank_managers", {"manager_id": manager_id, "name": manager_id,
                                       "phone": phone or f"1390000{len(manager_id):04d}",
                                       "branch_id": branch})

    def application(self, manager: str, applied: str = "2025-02-01", *,
                    amount_yuan: float = 500_000, site: tuple[float, float] = SITE,
                    precision_m: float = 20.0, no: str | None = None, **ids: Any) -> str:
        no = no or self._id("AP")
        self._insert("bank_applications", {
            "application_no": no, "applied_at": at(applied, "09:00:00"),
            "amount_fen": round(amount_yuan * 100), "manager_id": manager, "branch_id": "B1",
            "phone": ids.get("phone"), "address": ids.get("address"),
            "device_id": ids.get("device"), "id_number": ids.get("id_number"),
            "uscc": ids.get("uscc", f"91330000{no}")})
        self._insert("bank_address_geocodes", {"application_no": no, "lat": site[0],
                                               "lon": site[1], "precision_m": precision_m})
        return no

    def decision(self, no: str, decided: dt.datetime, decision: str = "approve") -> None:
        self._insert("bank_decisions", {"application_no": no, "decision": decision,
                                        "decided_at": decided})

    def loan(self, no: str, start: str, maturity: str = "2027-01-01") -> None:
        self._insert("bank_loans", {"loan_no": no.replace("AP", "LN"), "application_no": no,
                                    "start_date": dt.date.fromisoformat(start),
                                    "maturity_date": dt.date.fromisoformat(maturity)})

    def guarantor(self, no: str, person_id: str, phone: str = "13700000000") -> None:
        self._insert("bank_application_guarantors", {
            "application_no": no, "guarantor_name": "担保人", "guarantor_id": person_id,
            "guarantor_phone": phone, "relation": "第三方自然人"})

    def checkin(self, manager: str, when: dt.datetime, point: tuple[float, float] = SITE,
                application_no: str | None = None, accuracy_m: float = 10.0,
                mock: bool = False) -> str:
        cid = self._id("CHK")
        self._insert("bank_manager_checkins", {
            "checkin_id": cid, "manager_id": manager, "checked_at": when, "lat": point[0],
            "lon": point[1], "accuracy_m": accuracy_m, "mock_location": mock,
            "device_id": f"MD{manager}", "purpose": "贷前调查", "application_no": application_no})
        return cid

    def operation(self, manager: str, when: dt.datetime, action: str, object_id: str,
                  field: str = "", object_type: str = "application") -> str:
        oid = self._id("OPS")
        self._insert("bank_manager_operations", {
            "operation_id": oid, "manager_id": manager, "operated_at": when, "action": action,
            "object_type": object_type, "object_id": object_id, "field": field})
        return oid

    def audit(self, manager: str, when: dt.datetime, action: str, object_type: str,
              object_id: str = "x", row_count: int | None = None,
              stated: str | None = None) -> str:
        eid = self._id("AUD")
        self._insert("bank_manager_audit_log", {
            "event_id": eid, "manager_id": manager, "operated_at": when, "action": action,
            "object_type": object_type, "object_id": object_id, "field": "",
            "row_count": row_count,
            "stated_date": dt.date.fromisoformat(stated) if stated else None})
        return eid

    def track(self, manager: str, when: dt.datetime, point: tuple[float, float],
              accuracy_m: float = 10.0) -> None:
        self._insert("bank_manager_tracks", {
            "track_id": self._id("TRK"), "manager_id": manager, "recorded_at": when,
            "lat": point[0], "lon": point[1], "accuracy_m": accuracy_m,
            "device_id": f"MD{manager}"})


def only(name: str, at_: float = 1e-9, min_events: int = 1, **changes: Any
         ) -> StaffSignalCatalogue:
    """The shipped catalogue reduced to one signal with a single yellow line (figures kept):
    the test then sees exactly which events that signal counts."""
    cat = load_signal_catalogue()
    s = cat.signal(name)
    rule = LevelRule(at=at_, min_events=min_events)
    s = s.model_copy(update={"yellow": rule, "orange": None, "red": None,
                             "peer_multiple": None, **changes})
    return cat.model_copy(update={"signals": [s]})


def hits(bank: MiniBank, cat: StaffSignalCatalogue, as_of: dt.date = AS_OF
         ) -> dict[str, dict[str, Any]]:
    table = manager_signals(bank.con, as_of, cat)
    return {r["manager_id"]: r for r in table.to_pylist()}


@pytest.fixture
def bank() -> MiniBank:
    b = MiniBank()
    for m in ("M1", "M2", "M3", "M4"):
        b.manager(m)
    return b


# --- location ----------------------------------------------------------------------------

def test_geofence_counts_beyond_radius_accuracy_and_precision(bank: MiniBank) -> None:
    radius = load_signal_catalogue().signal("geofence_miss").number("radius_m")
    allowed = radius + 10.0 + 20.0  # check-in accuracy + geocode precision
    for manager, metres in (("M1", allowed + 5), ("M2", allowed - 5)):
        no = bank.application(manager)
        bank.checkin(manager, at("2025-02-03"), north(metres), no, accuracy_m=10.0)
    # A town-centre geocode cannot be judged, however far the check-in.
    no = bank.application("M3", precision_m=2000.0)
    bank.checkin("M3", at("2025-02-03"), north(50_000), no)
    found = hits(bank, only("geofence_miss"))
    assert set(found) == {"M1"}
    assert found["M1"]["n_events"] == 1 and found["M1"]["n_base"] == 1
    assert json.loads(found["M1"]["evidence"]) == ["CHK00002"]


def test_gps_integrity_counts_mock_and_repeated_coordinates(bank: MiniBank) -> None:
    bank.checkin("M1", at("2025-02-03"), mock=True)
    bank.checkin("M1", at("2025-02-04"), north(40))
    bank.checkin("M2", at("2025-02-03"), north(100))
    bank.checkin("M2", at("2025-02-10"), north(100))  # the same fix a week later
    bank.checkin("M3", at("2025-02-03"), (30.000001, 120.0))
    bank.checkin("M3", at("2025-02-10"), (30.000002, 120.0))  # a real fix never repeats
    found = hits(bank, only("gps_integrity", at_=0.5))
    assert set(found) == {"M1", "M2"}
    assert found["M1"]["value"] == 0.5 and found["M2"]["n_events"] == 2
    # Under the line: one mock in three check-ins is 0.33 < 0.5.
    bank.checkin("M1", at("2025-02-05"), north(80))
    assert "M1" not in hits(bank, only("gps_integrity", at_=0.5))


def test_impossible_travel_is_over_road_speed(bank: MiniBank) -> None:
    s = load_signal_catalogue().signal("impossible_travel")
    limit = s.number("max_speed_kmh")
    far = 10_000.0
    seconds_at_limit = far / (limit / 3.6)
    for manager, seconds in (("M1", seconds_at_limit - 3), ("M2", seconds_at_limit + 3)):
        start = at("2025-02-03", "10:00:00")
        bank.checkin(manager, start)
        bank.checkin(manager, start + dt.timedelta(seconds=seconds), north(far))
    # Jitter: 900 m in one second is under the minimum distance.
    bank.checkin("M3", at("2025-02-03", "10:00:00"))
    bank.checkin("M3", at("2025-02-03", "10:00:01"), north(900))
    assert speed_kmh(far, seconds_at_limit - 3) > limit > speed_kmh(far, seconds_at_limit + 3)
    found = hits(bank, only("impossible_travel"))
    assert set(found) == {"M1"} and found["M1"]["n_base"] == 1


def test_path_coverage_needs_a_point_near_the_check_in_in_time(bank: MiniBank) -> None:
    s = load_signal_catalogue().signal("path_not_covered")
    lookback = s.number("lookback_minutes")
    reach = s.number("radius_m") + 10.0 + 10.0  # both points' accuracy
    when = at("2025-02-03", "11:00:00")
    cases = {"M1": (lookback + 2, 0.0), "M2": (lookback - 2, 0.0),
             "M3": (10, reach + 5), "M4": (10, reach - 5)}
    for manager, (minutes, metres) in cases.items():
        bank.checkin(manager, when, SITE)
        bank.track(manager, when - dt.timedelta(minutes=minutes), north(metres))
    found = hits(bank, only("path_not_covered"))
    assert set(found) == {"M1", "M3"}


def test_without_any_path_points_coverage_is_not_judged(bank: MiniBank) -> None:
    bank.checkin("M1", at("2025-02-03"))
    assert hits(bank, only("path_not_covered")) == {}


# --- cadence -----------------------------------------------------------------------------

def test_an_approval_needs_a_genuine_visit_before_it(bank: MiniBank) -> None:
    decided = at("2025-02-10", "15:00:00")
    for manager, offset, metres in (("M1", -60, 0.0), ("M2", 60, 0.0), ("M3", -60, 5_000.0)):
        no = bank.application(manager)
        bank.decision(no, decided)
        bank.checkin(manager, decided + dt.timedelta(seconds=offset), north(metres), no)
    rejected = bank.application("M4")
    bank.decision(rejected, decided, "reject")
    found = hits(bank, only("no_visit_before_approval"))
    assert set(found) == {"M2", "M3"}


def test_a_loan_needs_its_first_check_within_the_due_days(bank: MiniBank) -> None:
    due = int(load_signal_catalogue().signal("no_check_after_disbursement").number("due_days"))
    start = AS_OF - dt.timedelta(days=due)
    for manager, day in (("M1", due), ("M2", due + 1)):
        no = bank.application(manager, "2024-12-01")
        bank.loan(no, start.isoformat())
        bank.checkin(manager, at((start + dt.timedelta(days=day)).isoformat()), SITE, no)
    not_due = bank.application("M3", "2024-12-01")
    bank.loan(not_due, (start + dt.timedelta(days=1)).isoformat())
    found = hits(bank, only("no_check_after_disbursement"))
    assert set(found) == {"M2"}


def test_a_loan_under_inspection_needs_a_visit_each_period(bank: MiniBank) -> None:
    days = load_signal_catalogue().signal("inspection_overdue").window_days
    first_day = AS_OF - dt.timedelta(days=days - 1)  # the window's first day
    for manager, visited in (("M1", first_day), ("M2", first_day - dt.timedelta(days=1))):
        no = bank.application(manager, "2024-01-10")
        bank.loan(no, "2024-01-20")
        bank.checkin(manager, at(visited.isoformat()), SITE, no)
    young = bank.application("M3", "2025-01-01")  # its first inspection is not due yet
    bank.loan(young, (first_day + dt.timedelta(days=1)).isoformat())
    matured = bank.application("M4", "2024-01-10")
    bank.loan(matured, "2024-01-20", maturity=AS_OF.isoformat())
    found = hits(bank, only("inspection_overdue"))
    assert set(found) == {"M2"} and found["M2"]["n_base"] == 1


# --- operations --------------------------------------------------------------------------

def test_contact_change_shortly_before_disbursement(bank: MiniBank) -> None:
    days = int(load_signal_catalogue().signal(
        "contact_change_before_disbursement").number("days_before"))
    start = dt.date(2025, 3, 1)
    cases = {"M1": (days, "phone"), "M2": (days + 1, "phone"), "M3": (5, "amount")}
    for manager, (before, field) in cases.items():
        no = bank.application(manager, "2025-01-20")
        bank.loan(no, start.isoformat())
        bank.operation(manager, at((start - dt.timedelta(days=before)).isoformat()), "edit",
                       no, field)
    intake = bank.application("M4", "2025-02-25")  # typed in on the day it was taken
    bank.loan(intake, start.isoformat())
    bank.operation("M4", at("2025-02-25", "09:30:00"), "edit", intake, "account_no")
    assert set(hits(bank, only("contact_change_before_disbursement"))) == {"M1"}


def test_back_dated_entries(bank: MiniBank) -> None:
    back = int(load_signal_catalogue().signal("back_dated_entries").number("min_days_back"))
    entered = dt.date(2025, 3, 10)
    for manager, days in (("M1", back), ("M2", back - 1)):
        bank.audit(manager, at(entered.isoformat()), "entry", "visit_record",
                   stated=(entered - dt.timedelta(days=days)).isoformat())
    assert set(hits(bank, only("back_dated_entries"))) == {"M1"}


def test_bulk_exports_count_from_the_row_threshold(bank: MiniBank) -> None:
    rows = int(load_signal_catalogue().signal("bulk_exports").number("min_rows"))
    bank.audit("M1", at("2025-03-01"), "export", "customer_list", row_count=rows)
    bank.audit("M2", at("2025-03-01"), "export", "customer_list", row_count=rows - 1)
    found = hits(bank, only("bulk_exports", at_=1))
    assert set(found) == {"M1"} and found["M1"]["value"] == 1.0


def test_after_hours_window_edges(bank: MiniBank) -> None:
    s = load_signal_catalogue().signal("after_hours_access")
    ends, starts = int(s.number("day_ends_hour")), int(s.number("day_starts_hour"))
    no = bank.application("M1")
    bank.operation("M1", at("2025-03-03", f"{ends:02d}:00:00"), "view", no)
    bank.operation("M2", at("2025-03-03", f"{ends - 1:02d}:59:59"), "view", no)
    bank.operation("M3", at("2025-03-03", f"{starts - 1:02d}:59:59"), "view", no)
    bank.operation("M4", at("2025-03-03", f"{starts:02d}:00:00"), "view", no)
    assert set(hits(bank, only("after_hours_access"))) == {"M1", "M3"}


def test_views_outside_ones_portfolio(bank: MiniBank) -> None:
    mine, theirs = bank.application("M1"), bank.application("M2")
    bank.operation("M1", at("2025-03-03"), "view", mine)
    bank.operation("M2", at("2025-03-03"), "view", mine)
    bank.operation("M2", at("2025-03-04"), "view", theirs)
    found = hits(bank, only("outside_portfolio_views"))
    assert set(found) == {"M2"} and found["M2"]["value"] == 0.5


# --- threshold gaming --------------------------------------------------------------------

def test_amounts_just_below_an_authority_line(bank: MiniBank) -> None:
    s = load_signal_catalogue().signal("amount_bunching")
    line, band = s.numbers("authority_lines_yuan")[0], s.number("band")
    bank.application("M1", amount_yuan=line * (1 - band))
    bank.application("M2", amount_yuan=line * (1 - band) - 10)
    bank.application("M3", amount_yuan=line)
    assert set(hits(bank, only("amount_bunching"))) == {"M1"}


def test_month_end_applications(bank: MiniBank) -> None:
    last = int(load_signal_catalogue().signal("month_end_spike").number("last_days"))
    bank.application("M1", f"2025-01-{31 - last + 1:02d}")
    bank.application("M2", f"2025-01-{31 - last:02d}")
    assert set(hits(bank, only("month_end_spike"))) == {"M1"}


# --- the level rule ----------------------------------------------------------------------

def test_a_rate_is_relative_to_the_managers_own_volume(bank: MiniBank) -> None:
    """2 misses in 3 check-ins is not 2 misses in 300."""
    for manager, total in (("M1", 3), ("M2", 300)):
        for i in range(total):
            no = bank.application(manager, no=f"AP{manager}{i:04d}")
            where = north(5_000) if i < 2 else SITE
            bank.checkin(manager, at("2025-02-03") + dt.timedelta(minutes=i), where, no)
    found = hits(bank, only("geofence_miss", at_=0.1, min_events=2))
    assert set(found) == {"M1"}
    assert found["M1"]["value"] == pytest.approx(2 / 3)


def test_levels_minimum_events_and_branch_peers(bank: MiniBank) -> None:
    cat = load_signal_catalogue()
    s = cat.signal("outside_portfolio_views").model_copy(update={
        "yellow": LevelRule(at=0.1, min_events=2), "orange": LevelRule(at=0.3, min_events=3),
        "red": LevelRule(at=0.6, min_events=4), "peer_multiple": 2.0})
    cat = cat.model_copy(update={"signals": [s]})
    others = {m: bank.application(m) for m in ("M1", "M2", "M3", "M4")}

    def views(manager: str, outside: int, own: int) -> None:
        target = others["M4" if manager != "M4" else "M1"]
        for i in range(outside):
            bank.operation(manager, at("2025-03-03") + dt.timedelta(minutes=i), "view", target)
        for i in range(own):
            bank.operation(manager, at("2025-03-04") + dt.timedelta(minutes=i), "view",
                           others[manager])

    views("M1", 4, 1)  # 0.8 with 4 events: red
    views("M2", 2, 2)  # 0.5 with 2 events: only yellow (orange needs 3)
    views("M3", 0, 20)
    found = hits(bank, cat)
    assert {m: r["level"] for m, r in found.items()} == {"M1": "red", "M2": "yellow"}
    # Peers: when the whole branch looks outside as much, nobody stands out.
    views("M3", 60, 0)
    views("M4", 60, 0)
    assert hits(bank, cat) == {}


def test_the_result_table_shape(bank: MiniBank) -> None:
    no = bank.application("M1")
    bank.checkin("M1", at("2025-02-03"), north(20_000), no, mock=True)
    table = manager_signals(bank.con, AS_OF)
    assert table.schema == RESULT_SCHEMA
    assert set(table.column("level").to_pylist()) <= set(LEVELS)


# --- event sources -----------------------------------------------------------------------

def test_events_from_the_app_join_the_bank_tables(bank: MiniBank) -> None:
    no = bank.application("M1")
    bank.checkin("M1", at("2025-02-03"), SITE, no)
    extra = pa.table({
        "event_id": ["APP1"], "manager_id": ["M1"],
        "occurred_at": pa.array([at("2025-02-04")], pa.timestamp("s")),
        "lat": [north(30)[0]], "lon": [SITE[1]], "accuracy_m": [8.0], "mock_location": [True],
        "device_id": ["MDM1"], "purpose": ["贷后检查"], "application_no": [no]})
    event_views(bank.con, extra_checkins=extra)
    found = hits(bank, only("gps_integrity"))
    assert found["M1"]["n_base"] == 2 and json.loads(found["M1"]["evidence"]) == ["APP1"]
    with pytest.raises(ValueError, match="missing \\['purpose'\\]"):
        event_views(bank.con, extra_checkins=extra.drop_columns(["purpose"]))
    ops = pa.table({"event_id": ["APP2"], "manager_id": ["M1"],
                    "occurred_at": pa.array([at("2025-02-04")], pa.timestamp("s")),
                    "action": ["export"], "object_type": ["customer_list"],
                    "object_id": ["list"], "field": [""], "row_count": [9_000]})
    event_views(bank.con, extra_operations=ops)  # stated_date may be left out
    assert set(hits(bank, only("bulk_exports", at_=1))) == {"M1"}


# --- a real bank -------------------------------------------------------------------------

def _cut(source: duckdb.DuckDBPyConnection, day: dt.date) -> duckdb.DuckDBPyConnection:
    """A store holding only what the bank knew by the end of `day`."""
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
    known = "application_no IN (SELECT application_no FROM raw.bank_applications " \
            "WHERE applied_at < $end)"
    keep = {
        "bank_managers": "true", "bank_applications": "applied_at < $end",
        "bank_decisions": f"decided_at < $end AND {known}",
        "bank_loans": f"start_date <= $day AND {known}",
        "bank_address_geocodes": known, "bank_application_guarantors": known,
        "bank_manager_checkins": "checked_at < $end",
        "bank_manager_operations": "operated_at < $end",
        "bank_manager_audit_log": "operated_at < $end",
        "bank_manager_tracks": "recorded_at < $end",
    }
    cut = duckdb.connect()
    cut.execute("CREATE SCHEMA raw")
    for table, where in keep.items():
        rows = source.sql(f"SELECT * FROM raw.{table} WHERE {where}",
                          params={k: v for k, v in {"end": end, "day": day}.items()
                                  if f"${k}" in where}).to_arrow_table()
        cut.register("rows_in", rows)
        cut.execute(f"CREATE TABLE raw.{table} AS SELECT * FROM rows_in")
        cut.unregister("rows_in")
    return cut


@pytest.fixture(scope="module")
def tiny_store(pipeline_bank: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
               ) -> duckdb.DuckDBPyConnection:
    copy = tmp_path_factory.mktemp("staff") / "analytic.duckdb"
    shutil.copy(Path(pipeline_bank["analytic"]), copy)
    return duckdb.connect(str(copy))


def test_the_governed_tiny_bank_has_the_behaviour_tables(tiny_store) -> None:
    names = {r[0] for r in tiny_store.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
    ).fetchall()}
    assert {"bank_manager_tracks", "bank_address_geocodes", "bank_manager_audit_log",
            "bank_manager_checkins", "bank_manager_operations"} <= names


def test_end_to_end_on_the_tiny_bank(tiny_store) -> None:
    cat = load_signal_catalogue()
    tables = [manager_signals(tiny_store, d, cat) for d in
              (dt.date(2024, 9, 30), dt.date(2025, 3, 31), dt.date(2025, 9, 30))]
    table = pa.concat_tables(tables)
    assert table.schema == RESULT_SCHEMA and table.num_rows > 0
    managers = {r[0] for r in tiny_store.execute("SELECT manager_id FROM raw.bank_managers")
                .fetchall()}
    by_name = {s.name: s for s in cat.signals}
    for r in table.to_pylist():
        assert r["manager_id"] in managers
        assert r["level"] in LEVELS
        s = by_name[r["signal"]]
        assert r["category"] == s.category and r["name_zh"] == s.zh
        assert r["value"] >= r["threshold"] > 0 and r["n_events"] >= 1
        evidence = json.loads(r["evidence"])
        assert isinstance(evidence, list) and 1 <= len(evidence) <= 5


def test_a_store_cut_after_the_day_gives_the_same_signals(tiny_store) -> None:
    day = dt.date(2025, 3, 31)
    full = manager_signals(tiny_store, day)
    assert full.num_rows > 0
    cut = _cut(tiny_store, day)
    assert manager_signals(cut, day).to_pylist() == full.to_pylist()
