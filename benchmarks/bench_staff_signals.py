"""Staff behaviour signals against the simulator's ground truth (issue 9 point 2).

Runs `manager_signals` at every month-end of the application window on simulated banks and
compares with `truth/managers.parquet` (honest / careless / colluding) — the only place truth
is read. Target (issue 9): colluding managers found (collusion_suspected red) ≥ 80% within
3 months of their first application from a ring member, with red collusion alerts on ≤ 5% of
honest managers. Prints figures; asserts nothing (tune to the principles, not to a number).

    .venv/bin/python benchmarks/bench_staff_signals.py --size small --seeds 7 11 13 17 19
    .venv/bin/python benchmarks/bench_staff_signals.py --dataset /path/to/ds   # a generated bank

The analytic store here holds what `xiaowei load` puts in `raw.bank_*` (the bank's own tables
as they are) — all the signals read; governance is not needed for them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa

from xiaowei.sim import generate
from xiaowei.staff.behaviour_signals import manager_signals

DETECTION_DAYS = 92  # "within 3 months of the first colluding application"
LOCATION = "location"


def month_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    out, y, m = [], first.year, first.month
    while True:
        nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
        day = nxt - dt.timedelta(days=1)
        if day > last:
            return out
        out.append(day)
        y, m = nxt.year, nxt.month


def load_bank(ds: Path) -> duckdb.DuckDBPyConnection:
    """raw.bank_<stem> for every bank/ file, as `xiaowei load` names them; truth.* apart."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE SCHEMA truth")
    for f in sorted((ds / "bank").glob("*.parquet")):
        con.execute(f"CREATE TABLE raw.bank_{f.stem} AS SELECT * FROM read_parquet(?)",
                    [str(f)])
    return con


def gather_honest_rings(con: duckdb.DuckDBPyConnection, ds: Path) -> int:
    """Stress variant: every ring that works through non-colluding managers is moved, with
    its check-ins, operations and audit entries, to the manager of its first application —
    as if the ring had walked into one honest (or careless) manager's branch. The simulator
    spreads such rings over a city's managers, so at `bank` size no honest manager ever holds
    three of them; this shows what the verdict does when one does. Returns rings moved."""
    con.execute("""
        CREATE TEMP TABLE ring_app AS
        SELECT a.application_no, a.manager_id, a.applied_at, p.fraud_ring
        FROM raw.bank_applications a
        JOIN read_parquet(?) t USING (application_no)
        JOIN read_parquet(?) p ON p.party_idx = t.party_idx
        WHERE t.is_fraud AND NOT t.colluding_manager""",
                [str(ds / "truth" / "applications.parquet"),
                 str(ds / "truth" / "parties.parquet")])
    con.execute("""
        CREATE TEMP TABLE moved AS
        SELECT r.application_no, r.manager_id AS old_manager,
               arg_min(r.manager_id, r.applied_at) OVER (PARTITION BY r.fraud_ring) AS manager
        FROM ring_app r""")
    for table, key in (("bank_applications", "application_no"),
                       ("bank_manager_checkins", "application_no"),
                       ("bank_manager_operations", "object_id"),
                       ("bank_manager_audit_log", "object_id")):
        con.execute(f"""
            UPDATE raw.{table} t SET manager_id = m.manager FROM moved m
            WHERE t.{key} = m.application_no AND t.manager_id = m.old_manager""")
    rows = con.execute("SELECT count(DISTINCT fraud_ring) FROM ring_app").fetchall()
    return int(rows[0][0])


def truth(ds: Path) -> tuple[dict[str, str], dict[str, dt.date]]:
    """Behaviour per manager, and each colluder's first application from a ring member that
    works through them (the clock of the 3-month target)."""
    con = duckdb.connect()
    behaviour = dict(con.execute("SELECT manager_id, behaviour FROM read_parquet(?)",
                                 [str(ds / "truth" / "managers.parquet")]).fetchall())
    first = dict(con.execute("""
        SELECT a.manager_id, min(CAST(a.applied_at AS DATE))
        FROM read_parquet(?) a JOIN read_parquet(?) t USING (application_no)
        WHERE t.colluding_manager GROUP BY 1""",
                             [str(ds / "bank" / "applications.parquet"),
                              str(ds / "truth" / "applications.parquet")]).fetchall())
    return behaviour, first


def per_signal(rows: list[dict], behaviour: dict[str, str], n_days: int) -> list[str]:
    """Per signal and behaviour: the share of managers at yellow+ / orange+ / red on an
    average month-end — the alert load each signal puts on supervisors."""
    size = {b: sum(v == b for v in behaviour.values()) for b in set(behaviour.values())}
    rank = {"yellow": 1, "orange": 2, "red": 3}
    count: dict[tuple[str, str, int], int] = {}
    for r in rows:
        b = behaviour.get(r["manager_id"], "?")
        for k in range(1, rank[r["level"]] + 1):
            count[(r["signal"], b, k)] = count.get((r["signal"], b, k), 0) + 1
    lines = [f"{'signal':36s} " + " ".join(f"{b:>22s}" for b in ("honest", "careless",
                                                                  "colluding"))]
    for signal in sorted({k[0] for k in count}):
        cells = []
        for b in ("honest", "careless", "colluding"):
            shares = [count.get((signal, b, k), 0) / max(1, size.get(b, 0)) / n_days
                      for k in (1, 2, 3)]
            cells.append(" ".join(f"{x:6.1%}" for x in shares))
        lines.append(f"{signal:36s} " + " ".join(f"{c:>22s}" for c in cells))
    return lines


def evaluate(ds: Path, detail: bool = False, stress: bool = False
             ) -> dict[str, float | int | str]:
    con = load_bank(ds)
    moved = gather_honest_rings(con, ds) if stress else 0
    behaviour, first = truth(ds)
    days = month_ends(dt.date(2024, 1, 31), dt.date(2025, 12, 31))
    started = time.perf_counter()
    runs = [manager_signals(con, d) for d in days]
    seconds = (time.perf_counter() - started) / len(days)
    rows = pa.concat_tables(runs).to_pylist()
    if detail:
        print("share of managers alerted on an average month-end (yellow+ orange+ red):")
        print("\n".join(per_signal(rows, behaviour, len(days))))
    red_collusion: dict[str, list[dt.date]] = {}
    any_red: set[str] = set()
    location: dict[str, set[str]] = {}
    grouped: set[str] = set()
    for r in rows:
        if r["level"] == "red":
            any_red.add(r["manager_id"])
            if r["signal"] == "collusion_suspected":
                red_collusion.setdefault(r["manager_id"], []).append(r["as_of"])
        if r["category"] == LOCATION and r["level"] in ("orange", "red"):
            location.setdefault(r["manager_id"], set()).add(r["signal"])
        if r["signal"] == "shared_identifier_groups":
            grouped.add(r["manager_id"])
    honest_red_signals = sorted({r["signal"] for r in rows if r["level"] == "red"
                                 and behaviour.get(r["manager_id"]) == "honest"})
    colluders = [m for m, b in behaviour.items() if b == "colluding" and m in first]
    honest = [m for m, b in behaviour.items() if b == "honest"]
    careless = [m for m, b in behaviour.items() if b == "careless"]
    found, lags = 0, []
    for m in colluders:
        hits = [d for d in red_collusion.get(m, []) if d >= first[m]]
        if hits:
            lag = (min(hits) - first[m]).days
            lags.append(lag)
            found += lag <= DETECTION_DAYS
    early = [m for m in colluders if any(d < first[m] for d in red_collusion.get(m, []))]
    honest_red_collusion = [m for m in honest if m in red_collusion]
    return {
        "managers": len(behaviour), "colluders": len(colluders),
        "found_within_3m": found, "recall_3m": found / len(colluders) if colluders else 0.0,
        "found_ever": len(lags), "median_days": sorted(lags)[len(lags) // 2] if lags else -1,
        "red_before_first_ring_application": len(early),
        "honest": len(honest), "honest_collusion_red": len(honest_red_collusion),
        "honest_collusion_red_share": len(honest_red_collusion) / max(1, len(honest)),
        "rings_gathered": moved,
        "honest_with_groups": sum(m in grouped for m in honest),
        "careless_with_groups": sum(m in grouped for m in careless),
        "careless_collusion_red": sum(m in red_collusion for m in careless),
        "honest_any_red": sum(m in any_red for m in honest),
        "honest_any_red_share": sum(m in any_red for m in honest) / max(1, len(honest)),
        "honest_red_signals": ",".join(honest_red_signals),
        "careless": len(careless),
        "careless_location_orange_or_red": sum(m in location for m in careless),
        "honest_location_orange_or_red": sum(m in location for m in honest),
        "seconds_per_as_of": round(seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="small")
    parser.add_argument("--seeds", type=int, nargs="*", default=[7, 11, 13, 17, 19])
    parser.add_argument("--dataset", type=Path, nargs="*", default=[],
                        help="already generated dataset folders (instead of --size/--seeds)")
    parser.add_argument("--stress", action="store_true",
                        help="gather each honest-managed ring under one manager first")
    parser.add_argument("--detail", action="store_true",
                        help="also print each signal's alert load per behaviour")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        targets = [(str(p), p) for p in args.dataset] or [
            (f"{args.size} seed {s}", generate(args.size, s, Path(tmp) / str(s)).out)
            for s in args.seeds]
        for label, ds in targets:
            r = evaluate(ds, args.detail, args.stress)
            results.append(r)
            print(label, r, flush=True)
    total = {k: sum(int(r[k]) for r in results) for k in (
        "colluders", "found_within_3m", "found_ever", "honest", "honest_collusion_red",
        "honest_any_red", "honest_with_groups", "careless", "careless_with_groups",
        "careless_collusion_red", "careless_location_orange_or_red",
        "honest_location_orange_or_red")}
    print("total", total)
    print(f"recall within 3 months: {total['found_within_3m']}/{total['colluders']}; "
          f"honest with a red collusion alert: {total['honest_collusion_red']}/"
          f"{total['honest']}; honest with any red: {total['honest_any_red']}/"
          f"{total['honest']}; careless with a location orange/red: "
          f"{total['careless_location_orange_or_red']}/{total['careless']}")


if __name__ == "__main__":
    main()
