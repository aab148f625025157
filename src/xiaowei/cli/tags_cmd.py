"""`xiaowei tags`: the tag catalogue, batch computation, and one party's tags."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.table import Table

from xiaowei.cli.output import fail, out, print_json, progress_bar
from xiaowei.config import get_settings
from xiaowei.data.tags.service import bank_catalogue, compute_all, data_as_of, party_tags
from xiaowei.store.analytic import AnalyticStore

app = typer.Typer(help="标签 — tags: catalogue, computation, a party's tags", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="print one JSON document")]
AsOf = Annotated[str | None, typer.Option(
    "--as-of", help="YYYY-MM-DD; default: the latest date of the loaded data")]
CATEGORY_ZH = {"fact": "事实", "risk": "风险", "business": "业务属性"}


def _date(text: str | None, analytic: AnalyticStore) -> dt.date:
    if text is None:
        try:
            return data_as_of(analytic)
        except LookupError as e:
            fail(str(e))
    try:
        return dt.date.fromisoformat(text)  # type: ignore[arg-type]
    except ValueError:
        fail(f"--as-of must be a date like 2025-12-31, got {text!r}")
    raise AssertionError  # unreachable


@app.command("list")
def list_tags(as_json: JsonFlag = False) -> None:
    """标签目录 — every tag with its category, version and label."""
    cat = bank_catalogue()
    rows = [{"name": t.definition.name, "category": t.definition.category,
             "version": t.definition.version, "type": t.definition.type,
             "unit": t.definition.unit, "label_zh": t.definition.label.zh,
             "label_en": t.definition.label.en, "cadence": t.definition.cadence,
             "owner": t.definition.owner} for t in cat.tags.values()]
    if as_json:
        import json
        import sys

        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return
    table = Table(title=f"标签目录 tag catalogue · {len(rows)} tags")
    for col in ("标签 name", "类别", "版本", "中文名", "label"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["name"], CATEGORY_ZH.get(r["category"], r["category"]),
                      str(r["version"]), r["label_zh"], r["label_en"])
    out.print(table)


@app.command()
def compute(as_of: AsOf = None,
            engine: Annotated[str, typer.Option(help="duckdb | spark")] = "duckdb",
            as_json: JsonFlag = False) -> None:
    """批量计算 — all tags for all parties as of a date (stored in the tag history)."""
    if engine not in ("duckdb", "spark"):
        fail(f"--engine must be duckdb or spark, got {engine!r}")
    with AnalyticStore(get_settings().analytic_path) as analytic:
        day = _date(as_of, analytic)
        with progress_bar() as bar:
            task = bar.add_task(f"计算标签 computing tags as of {day} on {engine}", total=None)
            summary, _ = compute_all(analytic, day, engine, progress=lambda _t, done, total:
                                     bar.update(task, completed=done, total=total))
    if as_json:
        print_json(summary.to_json())
        return
    doc = summary.to_json()
    table = Table(show_header=False, title="标签计算 tag run")
    for k in ("as_of", "engine", "tags", "parties", "values", "seconds", "fingerprint",
              "history"):
        table.add_row(k, str(doc[k]))
    out.print(table)


@app.command()
def show(party: Annotated[str, typer.Argument(help="party id, e.g. P00AB689FE78B0D3B")],
         as_of: AsOf = None, as_json: JsonFlag = False) -> None:
    """客户标签 — one party's tags as of a date."""
    with AnalyticStore(get_settings().analytic_path) as analytic:
        day = _date(as_of, analytic)
        known = analytic.connection.execute(
            "SELECT COUNT(*) FROM gov.party_profile WHERE party_id = ?", [party]).fetchall()
        if not known[0][0]:
            fail(f"party {party!r} is not in the governed data")
        values = party_tags(analytic, party, day)
    if as_json:
        print_json({"party_id": party, "as_of": day.isoformat(), "tags": values})
        return
    cat = bank_catalogue()
    table = Table(title=f"客户标签 tags of {party} as of {day}")
    for col in ("类别", "标签", "中文名", "值 value", "单位"):
        table.add_column(col)
    for name, tag in cat.tags.items():
        d = tag.definition
        value = values.get(name)
        table.add_row(CATEGORY_ZH.get(d.category, d.category), name, d.label.zh,
                      "—" if value is None else _fmt(value), d.unit)
    out.print(table)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


@app.command()
def changes(since: Annotated[str, typer.Option("--since", help="YYYY-MM-DD")],
            until: Annotated[str | None, typer.Option(
                "--until", help="YYYY-MM-DD; default: the latest date of the loaded data")] = None,
            tag: Annotated[list[str] | None, typer.Option("--tag", help="only these tags")] = None,
            limit: Annotated[int, typer.Option(help="rows to print (all with --json)")] = 50,
            as_json: JsonFlag = False) -> None:
    """标签变动 — 'tag T of party P changed from a to b on D', from the stored history."""
    from xiaowei.data.tags.service import HISTORY_SCHEMA
    from xiaowei.engine.tags import TagHistory

    with AnalyticStore(get_settings().analytic_path) as analytic:
        start = _date(since, analytic)
        end = _date(until, analytic)
        if start > end:
            fail(f"--since {start} is after --until {end}")
        history = TagHistory(analytic.connection, schema=HISTORY_SCHEMA)
        events = history.changes(start, end, tag)
    if as_json:
        print_json({"since": start.isoformat(), "until": end.isoformat(),
                    "changes": [{"party_id": e.entity_id, "tag": e.tag,
                                 "on": e.on.isoformat(), "old": e.old, "new": e.new,
                                 "kind": e.kind} for e in events]})
        return
    table = Table(title=f"标签变动 tag changes {start} … {end}: {len(events):,}")
    for col in ("日期 on", "客户 party", "标签 tag", "原值 old", "新值 new"):
        table.add_column(col)
    for e in events[:limit]:
        table.add_row(e.on.isoformat(), e.entity_id, e.tag, e.old or "—", e.new or "—")
    out.print(table)
