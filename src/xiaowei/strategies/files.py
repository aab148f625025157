"""A pack's files: read from a folder at submission, and rebuilt into a :class:`Pack` later.

Why the files are kept as text in the transactional store (and not under
``XIAOWEI_HOME/strategies``): a pack is small (a YAML file and a few list files, kilobytes to a
few megabytes), and every server that decides must see *the same* version and its state. In
the store, content, state and the live switch change in one transaction, servers on other
machines need no shared file system, and a backup of the database is a backup of every
strategy the bank ever ran. The content hash is still checked whenever a pack is rebuilt, so
an edited row is refused as :class:`TamperedPack`.

A pack version's files are its YAML (``main_file``) and every list file it names with
``file:``, keyed by their path relative to the YAML's folder (that is how
:func:`~xiaowei.engine.strategy.pack.load_pack` resolves them). Paths that leave the folder are
refused: a stored pack must be rebuildable anywhere from its own files.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from xiaowei.engine.strategy import Pack, load_pack, load_pack_text
from xiaowei.entities.datafiles import DataFileError
from xiaowei.strategies.errors import PackRefused, TamperedPack

PACK_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class PackSource:
    """A pack read from disk: its loaded form and the files that make it up."""

    pack: Pack
    main_file: str
    files: Mapping[str, str]
    source_path: str


def find_pack_file(path: str | Path) -> Path:
    """The pack YAML ``path`` names: the file itself, or a folder's one ``*.yaml`` (or its
    ``pack.yaml`` when there are several)."""
    path = Path(path)
    if path.is_file():
        return path
    if not path.is_dir():
        raise PackRefused(f"{path}: no such pack file or folder")
    candidates = sorted(p for p in path.iterdir() if p.suffix in PACK_SUFFIXES and p.is_file())
    if len(candidates) == 1:
        return candidates[0]
    for name in ("pack.yaml", "pack.yml"):
        if (path / name).is_file():
            return path / name
    found = ", ".join(p.name for p in candidates) or "none"
    raise PackRefused(f"{path}: expected one pack YAML file (or a pack.yaml), found {found}")


def read_pack(path: str | Path) -> PackSource:
    """Load and check the pack at ``path`` and collect its files; refuse it with every
    ``file:line`` problem if it does not load."""
    main = find_pack_file(path)
    try:
        pack = load_pack(main)
    except DataFileError as exc:  # PackError is one; so are YAML syntax errors
        raise PackRefused(f"pack refused:\n{exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PackRefused(f"{main}: cannot read: {exc}") from None
    files = {main.name: main.read_text("utf-8")}
    for relative in _list_files(files[main.name], main):
        try:
            files[relative] = (main.parent / relative).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PackRefused(f"{main}: cannot read list file {relative}: {exc}") from None
    rebuilt = load_files(main.name, files, str(main))
    if rebuilt.hash != pack.hash:
        raise PackRefused(f"{main}: its files changed while being read; try again")
    return PackSource(pack, main.name, files, str(main.resolve()))


def _list_files(text: str, main: Path) -> list[str]:
    """Relative paths of the list files the pack names, refusing any outside its folder."""
    data: Any = yaml.safe_load(text)
    lists = data.get("lists") if isinstance(data, Mapping) else None
    out = []
    for name, item in (lists or {}).items():
        if not isinstance(item, Mapping) or "file" not in item:
            continue
        relative = PurePosixPath(str(item["file"]).replace("\\", "/"))
        if relative.is_absolute() or ".." in relative.parts or relative.name == main.name:
            raise PackRefused(
                f"{main}: list {name!r} reads {item['file']!r}; a list file must be inside the "
                "pack's folder (a relative path without '..')"
            )
        out.append(str(relative))
    return out


def load_files(main_file: str, files: Mapping[str, str], label: str) -> Pack:
    """Rebuild a pack from its stored files, in a private temporary folder.

    ``label`` is the file name problems are reported under (e.g. ``admission@3:pack.yaml``).
    """
    with tempfile.TemporaryDirectory(prefix="xiaowei-pack-") as tmp:
        base = Path(tmp)
        write_files(main_file, files, base)
        try:
            return load_pack_text(files[main_file], label, base_dir=base)
        except DataFileError as exc:
            raise PackRefused(f"pack refused:\n{exc}") from None


def write_files(main_file: str, files: Mapping[str, str], folder: Path) -> Path:
    """Write a version's files under ``folder`` (as they were beside its YAML) and return the
    YAML's path — for callers that load packs by path, e.g. a backtest of ``name@3``."""
    for relative, text in files.items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, "utf-8")
    return folder / main_file


def load_stored(name: str, version: int, main_file: str, files: Mapping[str, str],
                content_hash: str) -> Pack:
    """Rebuild a stored version and check it is still the content that was submitted."""
    label = f"{name}@{version}:{main_file}"
    try:
        pack = load_files(main_file, files, label)
    except PackRefused as exc:
        raise TamperedPack(f"{name}@{version} no longer loads: {exc}") from None
    if pack.hash != content_hash:
        raise TamperedPack(
            f"{name}@{version}: stored files hash to {pack.hash[:12]}…, not the "
            f"{content_hash[:12]}… recorded at submission; the row was changed"
        )
    return pack
