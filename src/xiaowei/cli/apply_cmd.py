"""`xiaowei apply` and `xiaowei nodes`: submit applications into the pipeline; node performance.

Thin by design: parse, call :mod:`xiaowei.origination.intake` (which decides, logs, assigns a
manager and stores in one transaction), render. The decider is built once per command (the
online tag engine is expensive). With ``--json`` stdout holds exactly one JSON object.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from xiaowei.cli.decide_cmd import model_dirs_option, read_applications
from xiaowei.cli.output import current_user, err, fail, out, print_json, progress_bar
from xiaowei.config import get_settings
from xiaowei.origination.decide import ApplicationError
from xiaowei.origination.intake import IntakeError, IntakeResult, submit, submit_batch
from xiaowei.origination.intake_decider import open_intake_decider
from xiaowei.origination.node_performance import store_node_performance
from xiaowei.store.database import make_engine
from xiaowei.store.migrate import current_revision, head_revision


def _engine() -> Any:
    url = get_settings().database_url
    if current_revision(url) != head_revision():
        fail("the transactional store is not at the latest schema: run `xiaowei db upgrade`")
    return make_engine(url)


def apply(
    file: Annotated[Path, typer.Argument(help=(
        "申请文件 — a JSON application, a JSON list, JSON Lines or CSV"))],
    user: Annotated[str | None, typer.Option("--user", help=(
        "录入人 who submits (default: $XIAOWEI_USER or the login name)"))] = None,
    no_automated: Annotated[bool, typer.Option("--no-automated", help=(
        "申请人拒绝纯自动化决策 (PIPL art. 24): a person decides"))] = False,
    batch: Annotated[bool, typer.Option("--batch", help=(
        "批量 many applications, with a progress bar"))] = False,
    model_dir: Annotated[list[str] | None, typer.Option("--model-dir", help=(
        "ALIAS=DIR: score the pack's model ALIAS with this directory instead of the registry "
        "(tests and demos)"))] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON document")] = False,
) -> None:
    """进件 — submit applications: decide, log, assign a manager and store each one."""
    apps, is_batch = read_applications(file)
    who = current_user(user)
    overrides = model_dirs_option(model_dir or [])
    engine = _engine()
    try:
        with open_intake_decider(get_settings().analytic_path, model_dirs=overrides) as built:
            if is_batch or batch:
                if batch:
                    with progress_bar() as bar:
                        task = bar.add_task("进件 applications", total=len(apps))
                        done = submit_batch(engine, built.decider, apps, user=who,
                                            automated_ok=not no_automated,
                                            party_key=built.party_key,
                                            progress=lambda n: bar.update(task, completed=n))
                else:
                    done = submit_batch(engine, built.decider, apps, user=who,
                                        automated_ok=not no_automated,
                                        party_key=built.party_key)
                _report_batch(done.to_json(), done.results, as_json)
                return
            try:
                result = submit(engine, built.decider, apps[0], user=who,
                                automated_ok=not no_automated, party_key=built.party_key)
            except ApplicationError as exc:
                fail(str(exc))
            except IntakeError as exc:
                fail(str(exc))
    finally:
        engine.dispose()
    if as_json:
        print_json(result.to_json())
    else:
        _render(result)


def _report_batch(doc: dict[str, Any], results: list[IntakeResult], as_json: bool) -> None:
    if as_json:
        print_json(doc)
        return
    for result in results:
        _render(result)
    for error in doc["errors"]:
        err.print(f"第 {error['row']} 行 row {error['row']} ({error['application_id']}): "
                  + "; ".join(error["problems"]), soft_wrap=True)
    out.print(f"受理 accepted {doc['accepted']} · 拒收 refused {doc['refused']}"
              + (f" · 隔离批次 quarantine batch {doc['batch_id']}" if doc["batch_id"] else ""))


def _render(result: IntakeResult) -> None:
    d = result.decision
    table = Table(show_header=False, title=f"进件 intake · {result.application_id}"
                  + ("" if result.created else " (已受理 already stored)"))
    for key in ("outcome", "mode", "limit", "dd_level", "manager_tier", "pack"):
        table.add_row(key, str(d.get(key)))
    table.add_row("status", result.status)
    table.add_row("automated_ok", str(result.automated_ok))
    table.add_row("manager", str(result.manager.get("manager_id") or
                                 f"— → {result.manager.get('queue')}"))
    out.print(table)
    explanation = result.manager.get("explanation") or {}
    if explanation:
        out.print(f"  {explanation.get('zh')}\n  {explanation.get('en')}", soft_wrap=True)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def nodes(
    as_of: Annotated[str | None, typer.Option("--as-of", help=(
        "观察日 YYYY-MM-DD: outcomes known by this day (default today)"))] = None,
    pack: Annotated[str | None, typer.Option("--pack", help="只看此策略包 one pack")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON document")] = False,
) -> None:
    """节点表现 — each strategy node's and rule's hit rate and realised bad rates."""
    day = None
    if as_of is not None:
        try:
            day = dt.date.fromisoformat(as_of)
        except ValueError:
            fail(f"--as-of: expected a date YYYY-MM-DD, got {as_of!r}")
    engine = _engine()
    try:
        stats = store_node_performance(engine, as_of=day, pack=pack)
    finally:
        engine.dispose()
    if as_json:
        print_json({"as_of": (day or dt.datetime.now(dt.UTC).date()).isoformat(),
                    "nodes": [s.to_json() for s in stats]})
        return
    table = Table(title="节点表现 node performance")
    for title in ("节点 node", "规则 rule", "运行 ran", "命中 hits", "命中率 hit rate",
                  "人工改判 overridden", "命中坏账率 bad | hit (n)",
                  "未命中坏账率 bad | no hit (n)"):
        table.add_column(title)
    for s in stats:
        table.add_row(s.node, s.rule or "（整体 all）", str(s.ran), str(s.hits),
                      _pct(s.hit_rate), str(s.overridden_hits),
                      f"{_pct(s.bad_rate_hits)} ({s.accepted_known_hits})",
                      f"{_pct(s.bad_rate_non_hits)} ({s.accepted_known_non_hits})")
    out.print(table)
