"""`xiaowei staff`: customer-manager management (员工管理). This file holds the command group
``staff_app``; ``events`` is its first command, others are registered on the same app.

``staff events --input EVENTS.jsonl [--json]``: one behaviour event per line (a JSON object:
``event_id``, ``kind`` = checkin | track_point | visit_log | operation, ``manager_id``,
``occurred_at`` and the kind's fields; see docs/staff.md). Each event is stored once by its
``event_id``; a resent one is a duplicate (nothing stored twice); a refused one is quarantined
with the field and the reason, and the command exits 1. A file that cannot be read, or a line
that is not a JSON object, stops the whole file before anything is stored (exit 2), naming the
line.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from xiaowei.cli.output import err, fail, out, print_json
from xiaowei.config import get_settings
from xiaowei.staff.event_intake import EventIntake, take_events
from xiaowei.staff.events import KINDS
from xiaowei.store.database import make_engine

staff_app = typer.Typer(help="员工管理 · customer-manager management", no_args_is_help=True)


def read_events(path: Path) -> list[dict[str, Any]]:
    """The events of a JSON Lines file; exits 2 naming the file or the line when it cannot
    be read (nothing is stored from a file that is only partly readable)."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        fail(f"没有此文件 no such file: {path}")
    except IsADirectoryError:
        fail(f"是目录而非文件 is a directory, not a file: {path}")
    except UnicodeDecodeError as exc:
        fail(f"不是 UTF-8 文本 not UTF-8 text: {path} (byte {exc.start})")
    except OSError as exc:
        fail(f"无法读取 cannot read {path}: {exc.strerror or exc}")
    events: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            fail(f"第 {number} 行 line {number}: 不是 JSON not JSON ({exc.msg}); "
                 "nothing was stored")
        if not isinstance(record, dict):
            fail(f"第 {number} 行 line {number}: 事件应为 JSON 对象 an event is a JSON "
                 "object; nothing was stored")
        events.append(record)
    return events


def _print(result: EventIntake, kinds: dict[str, str]) -> None:
    accepted = Counter(kinds.get(event_id, "?") for event_id in result.accepted)
    table = Table(title=f"行为事件入库 behaviour events · batch {result.batch_id}")
    for name in ("类型 kind", "入库 stored"):
        table.add_column(name)
    for kind in KINDS:
        table.add_row(kind, f"{accepted.get(kind, 0):,}")
    out.print(table)
    out.print(f"入库 stored {len(result.accepted):,} · 重复（已入库）duplicates "
              f"{len(result.duplicates):,} · 隔离 quarantined {len(result.quarantined):,}")


@staff_app.command("events")
def events(input_file: Annotated[Path, typer.Option("--input", help="events, JSON Lines")],
           as_json: Annotated[bool, typer.Option("--json", help="print one JSON document")]
           = False) -> None:
    """行为事件入库 — store check-ins, path points, visit logs and app operations once by event
    id; refusals are quarantined with reasons."""
    records = read_events(input_file)
    engine = make_engine(get_settings().database_url)
    try:
        result = take_events(engine, records, source=str(input_file))
    finally:
        engine.dispose()
    if as_json:
        print_json(result.to_json())
    else:
        _print(result, {str(r.get("event_id", "")).strip(): str(r.get("kind"))
                        for r in records})
    for q in result.quarantined:
        err.print(f"隔离 quarantined 第 {q['row']} 行 line {q['row']} "
                  f"({escape(str(q['event_id']))}): {escape(q['reason'])}", soft_wrap=True)
    if result.quarantined:
        raise typer.Exit(1)


__all__ = ["read_events", "staff_app"]
