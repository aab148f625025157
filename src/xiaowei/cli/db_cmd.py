"""`xiaowei db`: migrations of the transactional store."""

from __future__ import annotations

from typing import Annotated

import typer

from xiaowei.cli.output import out, print_json
from xiaowei.config import get_settings
from xiaowei.store import migrate

app = typer.Typer(help="数据库迁移 — transactional store migrations (Alembic)",
                  no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="print one JSON document")]


def _url() -> str:
    settings = get_settings()
    settings.ensure_home()
    return settings.database_url


@app.command()
def upgrade(revision: str = "head", as_json: JsonFlag = False) -> None:
    """升级到最新结构 — migrate up (default: head)."""
    migrate.upgrade(_url(), revision)
    current = migrate.current_revision(_url())
    if as_json:
        print_json({"revision": current, "database": _masked_url()})
    else:
        out.print(f"数据库已升级 database at revision [bold]{current}[/] ({_masked_url()})")


@app.command()
def downgrade(revision: str = "base", as_json: JsonFlag = False) -> None:
    """回退 — migrate down (default: base, i.e. drop everything)."""
    migrate.downgrade(_url(), revision)
    current = migrate.current_revision(_url())
    if as_json:
        print_json({"revision": current, "database": _masked_url()})
    else:
        out.print(f"数据库已回退 database at revision {current}")


@app.command()
def current(as_json: JsonFlag = False) -> None:
    """当前版本 — show the current revision."""
    rev = migrate.current_revision(_url())
    if as_json:
        print_json({"revision": rev, "head": migrate.head_revision(),
                    "database": _masked_url()})
    else:
        out.print(f"revision {rev} (head {migrate.head_revision()})")


def _masked_url() -> str:
    """The database URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(get_settings().database_url).render_as_string(hide_password=True)
