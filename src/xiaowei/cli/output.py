"""How commands talk: Rich for people (progress on stderr), one JSON document for machines.

With `--json` a command prints exactly one JSON object on stdout and nothing else there;
progress and notes still go to stderr so a pipe stays clean.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

out = Console()
err = Console(stderr=True)


def print_json(doc: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, default=str, sort_keys=True) + "\n")
    sys.stdout.flush()


@contextmanager
def progress_bar() -> Iterator[Progress]:
    """A progress display on stderr (it disappears on a non-terminal, leaving no noise)."""
    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=err, transient=False)
    with bar:
        yield bar


def fail(message: str, code: int = 2) -> None:
    """A clear error for a person, and a non-zero exit."""
    import typer

    err.print(f"[bold red]错误 error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


def current_user(by: str | None) -> str:
    """Who acts (for maker–checker and audit): ``--by``, else ``$XIAOWEI_USER``, else the
    operating-system login name."""
    for candidate in (by, os.environ.get("XIAOWEI_USER")):
        if candidate and candidate.strip():
            return candidate.strip()
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        fail("cannot tell who you are: pass --by USER or set XIAOWEI_USER")
        raise  # unreachable: fail() exits


def who_and_when(user: str | None, at: Any) -> str:
    """An audit cell: "wang.li 2026-11-29 23:46 UTC", or "—" when nobody has acted yet."""
    return "—" if user is None else f"{escape(user)} {at:%Y-%m-%d %H:%M} UTC"
