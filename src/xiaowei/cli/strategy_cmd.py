"""`xiaowei strategy submit|approve|publish|rollback|withdraw|list|show|diff`: strategy pack
versions on the command line.

The verbs, in the order a pack meets them (the issue's ``publish`` is the step that makes a
version live; approval is a separate checker step before it):

- ``submit PACK_DIR_OR_FILE`` — the maker hands in a pack: it is checked (refused with every
  ``file:line`` problem), stored as the next draft ``NAME@N`` (NAME is ``pack.name``);
  identical content returns the existing version;
- ``approve NAME@N`` — the checker, a person other than the author, approves the draft;
- ``publish NAME@N`` — an approved (or earlier live) version goes live; servers switch to it
  within their poll interval, without a restart; the previous live version is superseded;
- ``rollback NAME --note WHY`` — the live version is taken out and the one live before it is
  live again;
- ``withdraw NAME@N`` — a draft or approved version that never went live is dropped;
- ``list``, ``show NAME[@N]`` (default: the live version; ``--text`` prints the stored YAML),
  ``diff NAME@A NAME@B`` (what changed, in words).

Who does a step is ``--by``, else ``$XIAOWEI_USER``, else the OS login (as ``xiaowei model``).
Refusals exit 2 with ``错误 error: …``.

``--json`` prints one JSON object on stdout:

- ``submit``: the record plus ``created`` (``false`` when the content was already submitted);
- ``approve`` / ``publish`` / ``withdraw``: the record after the step; ``rollback``: the record
  of the version now live;
- ``list``: ``{"strategies": [record, …]}`` by name and version;
- ``show``: the record plus ``events`` (``[{ref, from, to, by, at, note}]``, oldest first),
  ``summary`` (``{segments, flows, nodes, lists, models}``, or ``null`` if it does not load)
  and ``pack`` (``{verified, problem}``: whether the stored files still load to their hash);
- ``diff``: ``{"old": ref, "new": ref, "changes": [sentence, …]}``.

A record has: name, version, ref, status, status_zh, content_hash, pack_version, label,
main_file, files, source_path, submitted_by, submitted_at, approved_by, approved_at.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from xiaowei.cli.output import current_user, err, fail, out, print_json, who_and_when
from xiaowei.config import get_settings
from xiaowei.engine.strategy import Pack
from xiaowei.store import migrate
from xiaowei.strategies import (
    StrategyError,
    StrategyRecord,
    StrategyStatus,
    StrategyStore,
    TamperedPack,
    open_store,
)

app = typer.Typer(
    help="策略版本 — strategy packs: submit, approve (maker–checker), publish, rollback, "
         "list, show, diff",
    no_args_is_help=True,
)
JsonFlag = Annotated[bool, typer.Option("--json", help="print one JSON document")]
By = Annotated[str | None, typer.Option(
    "--by", help="who does this (default: $XIAOWEI_USER, then the OS user)")]
Note = Annotated[str | None, typer.Option("--note", help="why, for the audit trail")]
Ref = Annotated[str, typer.Argument(help="NAME@VERSION, e.g. admission@3")]
_S = StrategyStatus
STYLE = {_S.DRAFT: "yellow", _S.APPROVED: "cyan", _S.LIVE: "bold green",
         _S.SUPERSEDED: "dim", _S.ROLLED_BACK: "red", _S.WITHDRAWN: "dim"}


@contextmanager
def _store() -> Iterator[StrategyStore]:
    """The configured store, migrated to head; refusals become clear errors (exit 2)."""
    settings = get_settings()
    settings.ensure_home()
    migrate.upgrade(settings.database_url)
    try:
        with open_store(settings.database_url) as store:
            yield store
    except StrategyError as e:
        fail(str(e))


def _status(record: StrategyRecord) -> str:
    return f"[{STYLE[record.status]}]{record.status.zh} {record.status}[/]"


def _done(record: StrategyRecord, verb: str, as_json: bool, user: str) -> None:
    if as_json:
        print_json(record.to_json())
        return
    out.print(f"{verb} [bold]{record.ref}[/] by {escape(user)} ({_status(record)})")


@app.command("submit")
def submit(
    path: Annotated[Path, typer.Argument(help="the pack's YAML file, or its folder")],
    by: By = None,
    note: Note = None,
    as_json: JsonFlag = False,
) -> None:
    """提交 — check a pack and store it as the next draft of its name (maker)."""
    user = current_user(by)
    with _store() as store:
        result = store.submit(path, user, note=note)
    record = result.record
    if as_json:
        print_json({**record.to_json(), "created": result.created})
        return
    if not result.created:
        err.print(f"已提交过 already submitted as [bold]{record.ref}[/] ({_status(record)}); "
                  "nothing changed")
        return
    out.print(f"已提交 submitted [bold]{record.ref}[/] ({_status(record)}) by {escape(user)} · "
              f"pack version {record.short_hash}")
    out.print(f"待批准 awaiting approval by someone other than {escape(user)}: "
              f"xiaowei strategy approve {record.ref} --by USER")


@app.command("approve")
def approve(ref: Ref, by: By = None, note: Note = None, as_json: JsonFlag = False) -> None:
    """批准 — approve a draft (checker); the approver must not be its author."""
    user = current_user(by)
    with _store() as store:
        record = store.approve(ref, user, note=note)
    _done(record, "已批准 approved", as_json, user)


@app.command("publish")
def publish(ref: Ref, by: By = None, note: Note = None, as_json: JsonFlag = False) -> None:
    """发布 — make an approved version live; servers switch to it without a restart."""
    user = current_user(by)
    with _store() as store:
        record = store.publish(ref, user, note=note)
    _done(record, "已发布 published", as_json, user)


@app.command("rollback")
def rollback(
    name: Annotated[str, typer.Argument(help="pack name, e.g. admission")],
    note: Annotated[str, typer.Option("--note", help="why (required, for the audit trail)")],
    by: By = None,
    as_json: JsonFlag = False,
) -> None:
    """回滚 — take the live version out and make the one live before it live again."""
    user = current_user(by)
    with _store() as store:
        record = store.rollback(name, user, note=note)
    _done(record, "已回滚 rolled back; live again:", as_json, user)


@app.command("withdraw")
def withdraw(ref: Ref, by: By = None, note: Note = None, as_json: JsonFlag = False) -> None:
    """撤回 — drop a draft or approved version that never went live (final)."""
    user = current_user(by)
    with _store() as store:
        record = store.withdraw(ref, user, note=note)
    _done(record, "已撤回 withdrawn", as_json, user)


@app.command("list")
def list_versions(
    name: Annotated[str | None, typer.Option("--name", help="only this pack")] = None,
    as_json: JsonFlag = False,
) -> None:
    """策略列表 — every version with its status."""
    with _store() as store:
        records = store.versions(name)
    if as_json:
        print_json({"strategies": [r.to_json() for r in records]})
        return
    table = Table(title=f"策略版本 strategy versions · {len(records)}")
    for col in ("版本 version", "状态 status", "标签 label", "内容 hash", "提交 submitted",
                "批准 approved"):
        table.add_column(col)
    for r in records:
        table.add_row(r.ref, _status(r), escape(r.label), r.short_hash,
                      who_and_when(r.submitted_by, r.submitted_at),
                      who_and_when(r.approved_by, r.approved_at))
    out.print(table)


def _summary(pack: Pack) -> dict[str, Any]:
    return {
        "segments": [s.id for s in pack.segments], "flows": sorted(pack.flows),
        "nodes": sum(len(nodes) for nodes in pack.flows.values()),
        "lists": {name: len(values) for name, values in sorted(pack.lists.items())},
        "models": dict(sorted(pack.models.items())),
    }


@app.command("show")
def show(
    ref: Annotated[str, typer.Argument(help="NAME@VERSION, or NAME for the live version")],
    text: Annotated[bool, typer.Option("--text", help="print the stored pack YAML")] = False,
    as_json: JsonFlag = False,
) -> None:
    """策略详情 — one version's summary and audit trail (or its stored text)."""
    with _store() as store:
        record = store.get(ref)
        events = store.history(record.ref)
        try:
            summary, problem = _summary(store.load_record(record)), None
        except TamperedPack as e:
            summary, problem = None, str(e)
    if text:
        typer.echo(record.files[record.main_file], nl=False)
        return
    if as_json:
        print_json({**record.to_json(), "events": [e.to_json() for e in events],
                    "summary": summary, "pack": {"verified": problem is None,
                                                 "problem": problem}})
        return
    table = Table(show_header=False, title=f"策略 strategy {record.ref}")
    table.add_row("status", _status(record))
    for key in ("label", "content_hash", "main_file", "source_path"):
        table.add_row(key, escape(str(getattr(record, key))))
    table.add_row("files", escape(", ".join(sorted(record.files))))
    for key, value in (summary or {}).items():
        table.add_row(key, escape(str(value)))
    out.print(table)
    trail = Table(title="审计记录 audit trail")
    for col in ("时间 at", "操作人 by", "从 from", "到 to", "备注 note"):
        trail.add_column(col)
    for e in events:
        trail.add_row(f"{e.occurred_at:%Y-%m-%d %H:%M:%S} UTC", escape(e.actor),
                      str(e.from_status or "—"), str(e.to_status), escape(e.note or ""))
    out.print(trail)
    if problem is not None:
        err.print(f"[bold red]内容被改动 pack changed:[/] {escape(problem)}")


@app.command("diff")
def diff_versions(
    old: Annotated[str, typer.Argument(help="NAME@A (or NAME for the live version)")],
    new: Annotated[str, typer.Argument(help="NAME@B")],
    as_json: JsonFlag = False,
) -> None:
    """差异 — what changed from one version to another, in words."""
    with _store() as store:
        old_ref, new_ref = store.get(old).ref, store.get(new).ref
        changes = store.diff(old_ref, new_ref)
    if as_json:
        print_json({"old": old_ref, "new": new_ref, "changes": changes})
        return
    out.print(f"[bold]{old_ref} → {new_ref}[/]: {len(changes)} 处变化 changes")
    for line in changes:
        out.print(f"  • {escape(line)}")
