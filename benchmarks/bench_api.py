"""The decision endpoint under load, on loopback, against a bare FastAPI endpoint in the same run.

Why: the issue's goal for the service is ≥ 40 % of the throughput of a bare FastAPI endpoint that
validates the same body, and p99 ≤ 50 ms, at 32 concurrent clients. Each request to the real app
carries a new application key, so every one is a real decision — online tags as of the
application day, the pack, the model — persisted with its decision log, manager assignment and
tasks in one transaction. The bare app (below) validates the same body with pydantic and returns
it. Both run under uvicorn with one worker; wrk drives them with 2 threads and 32 connections.

Data: a simulated ``tiny`` bank (seed 15) with a fitted scorecard, built in a temporary folder
(the prepared ``small`` bank under /work/benchdata has no transactional store). Needs ``wrk``
(``apt-get install -y wrk``).

    .venv/bin/python benchmarks/bench_api.py [--seconds 10] [--runs 3] [--connections 32]
        [--tags serving|exact] [--postgres URL]

The bank's applications are dated its data's day and a batch tag run of that day is computed
first, as a live server finds the nightly run: the server decides in serving mode (``--tags
exact`` computes every tag online, as before serving mode existed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

# --- the bare endpoint: the same body, validated by pydantic, returned ---------------------------


class ApplicationBody(BaseModel):
    """The application's fields as intake checks them (types, ranges, no unknown fields)."""

    model_config = ConfigDict(extra="forbid")

    application_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,31}$")
    party_id: str = Field(min_length=1, max_length=32)
    party_type: str = Field(min_length=1)
    product_intent: str = Field(min_length=1)
    channel: str = Field(min_length=1)
    amount: Decimal = Field(gt=0, lt=Decimal(10) ** 16)
    applied_on: dt.date
    term_months: int | None = Field(None, ge=1, le=360)
    declared_revenue: Decimal | None = Field(None, ge=0)
    employees: int | None = Field(None, ge=0)


bare_app = FastAPI()


@bare_app.post("/v1/applications", status_code=201)
def bare(body: ApplicationBody) -> ApplicationBody:
    return body


# --- the run ---------------------------------------------------------------------------------

USER, PASSWORD = "bench.channel", "Bench-Channel-2026-pw"

LUA = """
local bodies = %(bodies)s
local counter = 0
local prefix = "x"
local n = 0
function setup(thread)
  n = n + 1
  thread:set("prefix", "%(run)s" .. n)
end
request = function()
  counter = counter + 1
  local body = string.format(bodies[(counter %% #bodies) + 1], prefix .. "-" .. counter)
  return wrk.format("POST", "/v1/applications", headers, body)
end
init = function(args)
  headers = {["Content-Type"] = "application/json",
             ["Authorization"] = "Bearer %(token)s"}
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_bank(root: Path) -> dict[str, Any]:
    """A tiny bank, its scorecard and application templates for parties the store knows."""
    from sqlalchemy import text

    from xiaowei.data.pipeline import simulate_and_load
    from xiaowei.data.tags.service import compute_all, data_as_of
    from xiaowei.modelling.workbench import fit
    from xiaowei.origination.decide import demo_training_table
    from xiaowei.store import migrate
    from xiaowei.store.analytic import AnalyticStore
    from xiaowei.store.database import make_engine

    os.environ["XIAOWEI_HOME"] = str(root / "home")
    brought = simulate_and_load(root, "tiny", 15)
    migrate.upgrade(brought.database_url)
    with AnalyticStore(brought.analytic_path) as analytic:
        fit(demo_training_table(analytic.connection, root / "train.parquet"), "bad",
            root / "model")
        # The nightly batch run a live server reads in serving mode; the applications are
        # dated the data's day, as live ones are dated today.
        today = data_as_of(analytic)
        compute_all(analytic, today)
        rows = analytic.connection.sql(
            "select a.application_id, p.party_type, a.product_intent, a.channel, "
            "a.amount_yuan, a.applied_on::varchar, a.declared_revenue_yuan, a.employees "
            "from gov.application a join (select party_id, any_value(party_type) party_type "
            "from gov.party_profile group by 1) p using (party_id) order by 1").fetchall()
    engine = make_engine(brought.database_url)
    with engine.connect() as c:
        bank_party = dict(c.execute(text("select application_id, party_id from application"))
                          .all())
    engine.dispose()
    keys = ("party_type", "product_intent", "channel", "amount", "applied_on",
            "declared_revenue", "employees")
    templates = []
    for r in rows:
        if r[0] in bank_party:
            doc = {k: v for k, v in zip(keys, r[1:], strict=True) if v is not None}
            doc["party_id"] = bank_party[r[0]]
            doc["applied_on"] = today.isoformat()
            templates.append(doc)
    return {"url": brought.database_url, "analytic": str(brought.analytic_path),
            "model": str(root / "model"), "templates": templates[:200]}


def copy_to_postgres(sqlite_url: str, pg_url: str) -> str:
    """The bank's transactional store copied into a fresh schema of ``pg_url``; its URL."""
    import uuid

    from sqlalchemy import delete, insert, select
    from sqlalchemy.engine import make_url

    from xiaowei.store import migrate
    from xiaowei.store.database import make_engine
    from xiaowei.store.tables import Base

    base = make_url(pg_url)
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    admin.dispose()
    options = " ".join(filter(None, [base.query.get("options"), f"-csearch_path={schema}"]))
    url = base.update_query_dict({"options": options}).render_as_string(hide_password=False)
    migrate.upgrade(url)
    source, target = make_engine(sqlite_url), make_engine(url)
    with source.connect() as src, target.begin() as dst:
        for table in Base.metadata.sorted_tables:
            rows = [dict(r) for r in src.execute(select(table)).mappings()]
            if rows:
                dst.execute(delete(table))  # rows the migrations seed (the audit head)
                dst.execute(insert(table), rows)
    source.dispose()
    target.dispose()
    return url


def add_bench_user(url: str) -> None:
    """The channel system's user; its token comes from POST /api/auth/token like any client's."""
    from xiaowei.security.users import add_user
    from xiaowei.store.database import make_engine

    engine = make_engine(url)
    add_user(engine, USER, "admin", PASSWORD)
    engine.dispose()


def wait_healthy(port: int, path: str = "/healthz", timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"server on port {port} did not become healthy")


def lua_script(folder: Path, templates: list[dict[str, Any]], token: str, run: str) -> Path:
    def lua_string(doc: dict[str, Any]) -> str:
        text = json.dumps({"application_id": "@ID@", **doc}, ensure_ascii=False)
        text = text.replace("%", "%%").replace('"@ID@"', '"%s"')
        return "[[" + text + "]]"

    bodies = "{" + ",\n".join(lua_string(t) for t in templates) + "}"
    path = folder / f"post_{run}.lua"
    path.write_text(LUA % {"bodies": bodies, "token": token, "run": run}, "utf-8")
    return path


def wrk(port: int, script: Path, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
         f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        assert m, out
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p50": ms("50"), "p99": ms("99"),
            "non2xx": float(bad.group(1)) if bad else 0.0, "socket_errors": bool(errors)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--postgres", metavar="URL", default=None,
                        help="serve from PostgreSQL (the bank copied into a new schema), "
                             "e.g. \"$(bash scripts/pg_test_cluster.sh url)\"")
    parser.add_argument("--tags", choices=("serving", "exact"), default="serving",
                        help="the server's tags: latest batch run + intraday online "
                             "(serving, the default) or all online as of the day (exact)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    root = Path(tempfile.mkdtemp(prefix="bench-api-"))
    t0 = time.perf_counter()
    bank = build_bank(root)
    if args.postgres:
        bank["url"] = copy_to_postgres(bank["url"], args.postgres)
    add_bench_user(bank["url"])
    print(f"tiny bank built in {time.perf_counter() - t0:.0f} s; "
          f"{len(bank['templates'])} application templates", flush=True)
    env = {**os.environ, "XIAOWEI_HOME": str(root / "home"), "XIAOWEI_DATABASE_URL": bank["url"],
           "XIAOWEI_ANALYTIC_PATH": bank["analytic"], "XIAOWEI_SERVE_TAGS": args.tags}
    real_port, bare_port = free_port(), free_port()
    log = (root / "serve.log").open("w")
    servers = [
        subprocess.Popen([sys.executable, "-m", "xiaowei", "serve", "--port", str(real_port),
                          "--model-dir", f"app_score={bank['model']}", "--log-level", "warning"],
                         env=env, stdout=log, stderr=log),
        subprocess.Popen([sys.executable, "-m", "uvicorn", "--app-dir", str(Path(__file__).parent),
                          "bench_api:bare_app", "--port", str(bare_port), "--log-level",
                          "warning", "--no-access-log"], env=env, stdout=log, stderr=log)]
    try:
        wait_healthy(real_port)
        wait_healthy(real_port, "/readyz")
        wait_healthy(bare_port, "/docs")
        got = httpx.post(f"http://127.0.0.1:{real_port}/api/auth/token",
                         data={"username": USER, "password": PASSWORD})
        token = got.json()["access_token"]
        results: dict[str, list[dict[str, float]]] = {"real": [], "bare": []}
        for run in range(args.runs):
            for name, port in (("bare", bare_port), ("real", real_port)):
                script = lua_script(root, bank["templates"], token, f"R{run}{name[0]}")
                results[name].append(wrk(port, script, args.seconds, args.connections))
                r = results[name][-1]
                print(f"run {run + 1} {name:4}: {r['rps']:8.1f} req/s  p50 {r['p50']:7.2f} ms"
                      f"  p99 {r['p99']:7.2f} ms  non-2xx {r['non2xx']:.0f}", flush=True)
        report(results, args)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        log.close()


def report(results: dict[str, list[dict[str, float]]], args: argparse.Namespace) -> None:
    med = {name: {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50", "p99")}
           for name, runs in results.items()}
    ratio = med["real"]["rps"] / med["bare"]["rps"]
    print(f"\nmedians of {args.runs} runs, {args.connections} connections, "
          f"{args.seconds} s each, {os.cpu_count()} cores, tags {args.tags}, "
          f"store {'PostgreSQL' if args.postgres else 'SQLite'}, "
          f"load average {os.getloadavg()[0]:.2f}:")
    for name, label in (("real", "decision endpoint (persisted)"),
                        ("bare", "bare FastAPI + pydantic")):
        m = med[name]
        print(f"  {label:31} {m['rps']:9.1f} req/s  p50 {m['p50']:7.2f} ms  "
              f"p99 {m['p99']:7.2f} ms")
    print(f"  throughput ratio real/bare: {ratio:.1%} (goal ≥ 40%); "
          f"p99 {med['real']['p99']:.1f} ms (goal ≤ 50 ms)")
    if any(r["non2xx"] for r in results["real"]):
        print("  WARNING: the real endpoint answered non-2xx responses; see the server log")


if __name__ == "__main__":
    main()
