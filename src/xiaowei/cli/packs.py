"""A strategy pack named on the command line: a YAML file (or its folder) or a stored version.

Why shared: ``xiaowei decide --pack`` and ``xiaowei backtest --pack/--against`` accept the
same names — a path an analyst is editing, or ``NAME@N`` / ``NAME@live`` from the strategy
store (rebuilt and checked against its content hash, so a tampered row is refused). A pack is
checked here, so a typo costs seconds and the error names file and line.
"""

from __future__ import annotations

from pathlib import Path

from xiaowei.cli.output import fail
from xiaowei.config import get_settings
from xiaowei.origination.backtest import PackUnderTest
from xiaowei.strategies import InvalidReference, PackRefused, StrategyError, StrategyRef
from xiaowei.strategies.files import read_pack, write_files


def _looks_like_path(spec: str) -> bool:
    return Path(spec).exists() or spec.endswith((".yaml", ".yml")) or "/" in spec \
        or "\\" in spec


def resolve_pack(spec: str, folder: Path) -> PackUnderTest:
    """A pack file is loaded and checked here (errors name file and line); a stored version
    is rebuilt, checked against its content hash and written under ``folder``."""
    if _looks_like_path(spec):
        try:
            source = read_pack(spec)
        except PackRefused as exc:
            fail(str(exc))
        return PackUnderTest(spec, Path(source.source_path))
    try:
        StrategyRef.parse(spec)
    except InvalidReference as exc:
        fail(f"{spec!r} is neither a pack file nor a stored version NAME@N: {exc}")
    from xiaowei.store import migrate
    from xiaowei.strategies import open_store

    settings = get_settings()
    settings.ensure_home()
    try:
        migrate.upgrade(settings.database_url)
        with open_store(settings.database_url) as store:
            record = store.get(spec)
            store.load_record(record)  # refuses a row whose files no longer match the hash
    except StrategyError as exc:
        fail(str(exc))
    main = write_files(record.main_file, record.files, folder / f"{record.name}@{record.version}")
    return PackUnderTest(record.ref, main)


__all__ = ["PackUnderTest", "resolve_pack"]
