"""`xiaowei model register|approve|retire|list|show`: the model registry on the command line.

Why the user falls back to ``$XIAOWEI_USER`` and then the OS account: until authentication
arrives, the registry's four-eyes rule can only compare the ids people give, and on a shared
analytics server the login name is the most honest default. ``--by`` always wins.

``--json`` prints one JSON object on stdout:

- ``register``: the version's record (keys below) plus ``created`` (``false`` when the same
  content was already registered under that name and that version is returned);
- ``approve`` / ``retire``: the version's record after the step;
- ``list``: ``{"models": [record, …]}`` ordered by name and version;
- ``show``: the record plus ``events`` (``[{from, to, by, at, note}]``, oldest first) and
  ``artifact`` (``{verified, problem}``: whether the files still match their content hash).

A record has: name, version, ref, kind, status, status_zh, content_hash, files,
data_fingerprint, target, features, params, metrics, created_at, source_dir, registered_by,
registered_at, approved_by, approved_at, retired_by, retired_at, path.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from xiaowei.cli.output import current_user, err, fail, out, print_json, who_and_when
from xiaowei.config import get_settings
from xiaowei.modelling import (
    ModelRecord,
    ModelRegistry,
    ModelStatus,
    RegistryError,
    TamperedArtifact,
    open_registry,
)
from xiaowei.store import migrate

registry_app = typer.Typer(
    help="模型登记 — model registry: register, approve (four eyes), retire, list, show",
    no_args_is_help=True,
)
JsonFlag = Annotated[bool, typer.Option("--json", help="print one JSON document")]
By = Annotated[str | None, typer.Option(
    "--by", help="who does this (default: $XIAOWEI_USER, then the OS user)")]
Note = Annotated[str | None, typer.Option("--note", help="why, for the audit trail")]
Ref = Annotated[str, typer.Argument(help="NAME@VERSION, e.g. admission_scorecard@3")]
STYLE = {ModelStatus.DRAFT: "yellow", ModelStatus.APPROVED: "green", ModelStatus.RETIRED: "dim"}


@contextmanager
def _registry() -> Iterator[ModelRegistry]:
    """The configured registry on a store migrated to head; refusals become clear errors."""
    settings = get_settings()
    settings.ensure_home()
    migrate.upgrade(settings.database_url)
    try:
        with open_registry(settings.database_url, settings.home) as registry:
            yield registry
    except RegistryError as e:
        fail(str(e))


def _status(record: ModelRecord) -> str:
    status = record.status
    return f"[{STYLE[status]}]{status.zh} {status}[/]"


@registry_app.command("register")
def register(
    directory: Annotated[Path, typer.Argument(help="model directory with a model.json")],
    name: Annotated[str, typer.Option("--name", help="model name, e.g. admission_scorecard")],
    by: By = None,
    note: Note = None,
    as_json: JsonFlag = False,
) -> None:
    """登记模型 — register DIR as the next version of NAME (a draft awaiting approval)."""
    user = current_user(by)
    with _registry() as registry:
        result = registry.register(directory, name, user, note=note)
    record = result.record
    if as_json:
        print_json({**record.to_json(), "created": result.created})
        return
    if not result.created:
        err.print(f"已登记过 already registered as [bold]{record.ref}[/] ({_status(record)}); "
                  "nothing changed")
        return
    out.print(f"已登记 registered [bold]{record.ref}[/] ({_status(record)}) by "
              f"{escape(record.registered_by)} · sha256 {record.content_hash[:12]}… · "
              f"{escape(str(record.path))}")
    out.print(f"待批准 awaiting approval by someone other than {escape(record.registered_by)}: "
              f"xiaowei model approve {record.ref} --by USER")


@registry_app.command("approve")
def approve(ref: Ref, by: By = None, note: Note = None, as_json: JsonFlag = False) -> None:
    """批准 — approve a draft for production; the approver must not be the registrant."""
    user = current_user(by)
    with _registry() as registry:
        record = registry.approve(ref, user, note=note)
    if as_json:
        print_json(record.to_json())
        return
    out.print(f"已批准 approved [bold]{record.ref}[/] by {escape(user)} ({_status(record)})")


@registry_app.command("retire")
def retire(ref: Ref, by: By = None, note: Note = None, as_json: JsonFlag = False) -> None:
    """退役 — retire an approved version, or withdraw a draft (final)."""
    user = current_user(by)
    with _registry() as registry:
        record = registry.retire(ref, user, note=note)
    if as_json:
        print_json(record.to_json())
        return
    out.print(f"已退役 retired [bold]{record.ref}[/] by {escape(user)} ({_status(record)})")


@registry_app.command("list")
def list_models(
    name: Annotated[str | None, typer.Option("--name", help="only this model")] = None,
    as_json: JsonFlag = False,
) -> None:
    """模型列表 — every registered version with its status."""
    with _registry() as registry:
        records = registry.versions(name)
    if as_json:
        print_json({"models": [r.to_json() for r in records]})
        return
    table = Table(title=f"模型登记 model registry · {len(records)} versions")
    for col in ("模型 model", "类型 kind", "状态 status", "登记 registered", "批准 approved",
                "退役 retired"):
        table.add_column(col)
    for r in records:
        table.add_row(r.ref, r.kind, _status(r),
                      who_and_when(r.registered_by, r.registered_at),
                      who_and_when(r.approved_by, r.approved_at),
                      who_and_when(r.retired_by, r.retired_at))
    out.print(table)


@registry_app.command("show")
def show(
    ref: Annotated[str, typer.Argument(help="NAME@VERSION, NAME@approved or NAME")],
    as_json: JsonFlag = False,
) -> None:
    """模型详情 — one version's metadata, audit trail and whether its files are intact."""
    with _registry() as registry:
        record = registry.get(ref)
        events = registry.history(record.ref)
        try:
            registry.verify(record.ref)
            problem = None
        except TamperedArtifact as e:
            problem = str(e)
    if as_json:
        print_json({**record.to_json(), "events": [e.to_json() for e in events],
                    "artifact": {"verified": problem is None, "problem": problem}})
        return
    table = Table(show_header=False, title=f"模型 model {record.ref}")
    for key in ("kind", "target", "data_fingerprint", "content_hash", "created_at", "path"):
        table.add_row(key, escape(str(getattr(record, key))))
    table.add_row("status", _status(record))
    table.add_row("features", escape(", ".join(record.features)))
    table.add_row("metrics", escape(", ".join(f"{k}={v}" for k, v in record.metrics.items())))
    out.print(table)
    trail = Table(title="审计记录 audit trail")
    for col in ("时间 at", "操作人 by", "从 from", "到 to", "备注 note"):
        trail.add_column(col)
    for e in events:
        trail.add_row(f"{e.occurred_at:%Y-%m-%d %H:%M:%S} UTC", escape(e.actor),
                      str(e.from_status or "—"), str(e.to_status), escape(e.note or ""))
    out.print(trail)
    if problem is None:
        out.print("[green]文件完整 artifact verified[/]")
    else:
        err.print(f"[bold red]文件被改动 artifact changed:[/] {escape(problem)}")
