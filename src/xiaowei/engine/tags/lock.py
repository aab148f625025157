"""The catalogue lock: each tag's version and content hash, so a silent redefinition is refused.

Why: a strategy, a model and an audit trail name a tag *and its version*. If someone changes a
threshold in a tag's SQL and forgets to bump the version, last month's decisions and this
month's would read "the same" tag with different meanings. ``tags.lock.json`` (committed next to
the catalogue) records name → (version, hash); ``check_lock`` refuses a catalogue where the hash
changed but the version did not, or the version moved while nothing that decides the value did
(a fixed description or label is not a new version).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from xiaowei.engine.tags.catalogue import Catalogue, CatalogueError, Problem

LOCK_FORMAT = 1
LOCK_NAME = "tags.lock.json"


def lock(catalogue: Catalogue) -> dict[str, Any]:
    """The lock document for ``catalogue`` (name → version and content hash)."""
    return {
        "format": LOCK_FORMAT,
        "tags": {
            name: {"version": t.definition.version, "hash": t.content_hash}
            for name, t in sorted(catalogue.tags.items())
        },
    }


def write_lock(catalogue: Catalogue, path: str | Path) -> Path:
    """Write the lock file (stable key order, so it diffs well) and return its path."""
    target = Path(path)
    target.write_text(json.dumps(lock(catalogue), indent=2, sort_keys=True) + "\n", "utf-8")
    return target


def read_lock(path: str | Path) -> dict[str, Any]:
    """Read and shape-check a lock file."""
    data = json.loads(Path(path).read_text("utf-8"))
    if not isinstance(data, dict) or data.get("format") != LOCK_FORMAT:
        raise ValueError(f"{path}: not a format-{LOCK_FORMAT} tag lock file")
    if not isinstance(data.get("tags"), dict):
        raise ValueError(f"{path}: 'tags' must be an object of name → {{version, hash}}")
    return data


def check_lock(catalogue: Catalogue, previous: dict[str, Any] | str | Path) -> list[str]:
    """Refuse version mistakes against ``previous``; return the names of changed tags.

    New tags and removed tags are allowed (removal is a catalogue decision, not a redefinition).
    """
    old = read_lock(previous) if isinstance(previous, str | Path) else previous
    problems: list[Problem] = []
    changed: list[str] = []
    for name, tag in catalogue.tags.items():
        entry = old["tags"].get(name)
        if entry is None:
            continue
        version, was = tag.definition.version, int(entry["version"])
        same = entry["hash"] == tag.content_hash
        where = (tag.origin.file, tag.origin.version_line, f"{tag.origin.key}.version")
        if not same and version <= was:
            problems.append(
                (
                    *where,
                    f"tag {name!r} changed but its version is {version}; "
                    f"the lock has version {was}, so this must be {was + 1}",
                )
            )
        elif same and version != was:
            problems.append(
                (
                    *where,
                    f"tag {name!r} is unchanged but its version moved from "
                    f"{was} to {version}; only a change of definition makes a version",
                )
            )
        elif not same:
            changed.append(name)
    if problems:
        raise CatalogueError(problems)
    return changed
