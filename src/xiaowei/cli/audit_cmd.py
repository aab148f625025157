"""`xiaowei audit verify|list` and `xiaowei keys rotate`: the audit chain and the PII key.

``audit verify`` walks the hash chain; it exits 1 and names every edited, missing or
out-of-place entry when the chain is broken. ``--json`` → ``{ok, entries, head_hash,
problems: [{seq, kind, message}]}``. Keep the printed ``head_hash`` somewhere the database's
administrators cannot write: it anchors the chain.

``audit list`` shows the newest entries (``--action login`` filters by prefix). ``--json`` →
``{"entries": [{seq, at, actor, action, subject_kind, subject_id, detail, prev_hash,
hash}]}``.

``keys rotate`` writes a new PII key (retiring the old one, still readable) and re-encrypts
every personal-data column under it, with a progress bar; ``--resume`` only finishes an
interrupted re-encryption. ``--json`` → ``{key_id, rewritten, total_rewritten, remaining}``.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from xiaowei.cli.output import current_user, err, fail, out, print_json, progress_bar
from xiaowei.cli.users_cmd import store
from xiaowei.security import audit, key_rotation
from xiaowei.store.database import transaction

app = typer.Typer(help="审计 — the hash-chained audit log", no_args_is_help=True)
keys_app = typer.Typer(help="密钥 — the personal-data (PII) encryption key",
                       no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="print one JSON document")]


@app.command("verify")
def verify(as_json: JsonFlag = False) -> None:
    """校验审计链 — check that no entry was edited, deleted or reordered (exit 1 if so)."""
    with store() as engine:
        problems = audit.verify(engine)
        entries, head_hash = audit.head(engine)
    if as_json:
        print_json({"ok": not problems, "entries": entries, "head_hash": head_hash,
                    "problems": [p.to_json() for p in problems]})
    elif problems:
        for p in problems:
            err.print(f"[bold red]审计链断裂 broken:[/] {escape(p.message)}")
    else:
        out.print(f"审计链完整 audit chain intact: {entries} entries, head {head_hash}")
    if problems:
        raise typer.Exit(1)


@app.command("list")
def list_(limit: Annotated[int, typer.Option("--limit", min=1, max=10000)] = 50,
          action: Annotated[str | None, typer.Option("--action", help="prefix, e.g. login")]
          = None,
          actor: Annotated[str | None, typer.Option("--actor")] = None,
          as_json: JsonFlag = False) -> None:
    """审计记录 — the newest audit entries."""
    with store() as engine:
        found = audit.entries(engine, limit=limit, action=action, actor=actor)
    if as_json:
        print_json({"entries": [e.to_json() for e in found]})
        return
    table = Table("seq", "at (UTC)", "actor", "action", "subject")
    for e in found:
        table.add_row(str(e.seq), f"{e.at:%Y-%m-%d %H:%M:%S}", escape(e.actor),
                      escape(e.action), escape(f"{e.subject_kind} {e.subject_id or ''}"))
    out.print(table)


@keys_app.command("rotate")
def rotate(resume: Annotated[bool, typer.Option(
               "--resume", help="only finish re-encrypting under the current key")] = False,
           by: Annotated[str | None, typer.Option("--by")] = None,
           as_json: JsonFlag = False) -> None:
    """轮换个人信息密钥 — new PII key, then re-encrypt every encrypted column."""
    with store() as engine:
        if not resume:
            try:
                key_id = key_rotation.new_key_file()
            except key_rotation.RotationError as exc:
                fail(str(exc))
            with transaction(engine) as session:
                audit.record(session, current_user(by), "keys.rotate", ("pii_key", key_id))
        with progress_bar() as bar:
            task = bar.add_task("重新加密 re-encrypting", total=key_rotation.pending(engine))
            report = key_rotation.reencrypt(
                engine, progress=lambda done, total: bar.update(task, completed=done))
    if as_json:
        print_json(report.to_json())
    else:
        out.print(f"密钥 key {report.key_id}: re-encrypted "
                  f"{sum(report.rewritten.values())} rows, {report.remaining} remaining")
