"""Schema migrations of the transactional store, callable from code (CLI, tests, deploys).

Why the Alembic configuration is built here rather than read from an ``alembic.ini``: the
migrations ship inside the package, so an installed xiaowei can migrate a bank's database
from any working directory, with no file to keep in step.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from xiaowei.config import get_settings
from xiaowei.store.database import make_engine, normalise_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _url_text(url: str | URL | None) -> str:
    chosen = url if url is not None else get_settings().database_url
    return normalise_url(chosen).render_as_string(hide_password=False)


def alembic_config(url: str | URL | None = None) -> Config:
    """An Alembic config for ``url`` (default: the configured database).

    The URL travels in ``attributes``, not in the ini options, because ini interpolation
    would mangle a password containing ``%``.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.attributes["url"] = _url_text(url)
    return config


def upgrade(url: str | URL | None = None, revision: str = "head") -> None:
    """Bring the database up to ``revision`` (default: the newest)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | URL | None = None, revision: str = "base") -> None:
    """Take the database down to ``revision`` (default: empty)."""
    command.downgrade(alembic_config(url), revision)


def current_revision(url: str | URL | None = None) -> str | None:
    """The revision the database is at; ``None`` when it was never migrated."""
    engine = make_engine(_url_text(url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    """The newest revision shipped with this version of xiaowei."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
