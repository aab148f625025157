"""A writable copy of the session's tiny bank: the nightly batch writes its tables into the
analytic store, and the session fixture's store is shared by every test."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any


def copy_bank(bank: dict[str, Any], dest: Path) -> Path:
    """The tiny analytic store and its governed snapshot, copied under ``dest``."""
    source = Path(bank["analytic"])
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, dest / source.name)
    if (source.parent / "governed").is_dir():
        shutil.copytree(source.parent / "governed", dest / "governed")
    return dest / source.name
