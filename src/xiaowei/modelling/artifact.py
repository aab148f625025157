"""A model's files on disk: fingerprinted, copied into place atomically, checked on load.

Why a content hash of every file: a strategy that loads ``admission@3`` must run exactly what
was approved. The hash taken at registration is kept in the store, away from the files, so a
file edited, added or removed afterwards is caught when the model is loaded — and the
per-file digests say which one.

Why copy-then-rename: the artifact is copied into a staging directory beside its final place
and renamed into ``<name>/<version>`` in one step, so a crash or a full disk leaves either the
whole artifact or nothing, never half a model that a strategy could load.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import uuid
from pathlib import Path

from xiaowei.modelling.errors import ManifestError, TamperedArtifact

STAGING_PREFIX = ".staging-"
ORPHAN_PREFIX = ".orphan-"
CHUNK = 1 << 20


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_digests(directory: Path) -> dict[str, str]:
    """Relative POSIX path → sha256 of every file under ``directory``.

    Symbolic links and special files are refused: a link would put something outside the
    artifact into it, and the registry could not promise what it points at tomorrow.
    """
    digests: dict[str, str] = {}
    for top, dirnames, filenames in os.walk(directory, followlinks=False):
        base = Path(top)
        for entry in [*dirnames, *filenames]:
            path = base / entry
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise ManifestError(
                    f"{path}: is a symbolic link; a model artifact must hold the file itself"
                )
            if entry in filenames and not stat.S_ISREG(mode):
                raise ManifestError(f"{path}: is not a regular file")
            if stat.S_ISREG(mode):
                digests[path.relative_to(directory).as_posix()] = _file_digest(path)
    return dict(sorted(digests.items()))


def content_hash(digests: dict[str, str]) -> str:
    """One sha256 over the sorted (path, file digest) pairs: same files, same hash.

    Names and contents count; timestamps, permissions and the directory's own location do
    not, so the same model copied elsewhere is recognised as the same artifact.
    """
    combined = hashlib.sha256()
    for path in sorted(digests):
        combined.update(path.encode("utf-8") + b"\0" + digests[path].encode("ascii") + b"\n")
    return combined.hexdigest()


def stage_copy(source: Path, parent: Path) -> Path:
    """Copy ``source`` into a fresh staging directory under ``parent`` and return it.

    On any failure the staging directory is removed before the error propagates.
    """
    parent.mkdir(parents=True, exist_ok=True)
    staging = parent / f"{STAGING_PREFIX}{uuid.uuid4().hex}"
    try:
        shutil.copytree(source, staging, symlinks=True, copy_function=shutil.copy2)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def place(staging: Path, final: Path) -> None:
    """Rename ``staging`` to ``final`` in one step.

    The caller holds the store's row for this version, so anything already at ``final`` is
    the leftover of a registration that crashed before committing: it is moved aside and
    removed rather than trusted.
    """
    if final.exists() or final.is_symlink():
        aside = final.with_name(f"{ORPHAN_PREFIX}{final.name}-{uuid.uuid4().hex}")
        os.rename(final, aside)
        shutil.rmtree(aside, ignore_errors=True)
    os.rename(staging, final)


def verify(directory: Path, expected: dict[str, str], expected_hash: str, ref: str) -> None:
    """Raise :class:`TamperedArtifact` unless ``directory`` holds exactly the registered files."""
    if not directory.is_dir():
        raise TamperedArtifact(f"{ref}: artifact directory {directory} is missing")
    try:
        actual = file_digests(directory)
    except ManifestError as exc:
        raise TamperedArtifact(f"{ref}: artifact changed since registration: {exc}") from exc
    if actual == expected and content_hash(actual) == expected_hash:
        return
    changes = [f"{p} missing" if p not in actual else f"{p} modified"
               for p in sorted(expected) if actual.get(p) != expected[p]]
    changes += [f"{p} added" for p in sorted(actual) if p not in expected]
    raise TamperedArtifact(
        f"{ref}: artifact in {directory} changed since registration "
        f"({'; '.join(changes) or 'content hash differs'}); "
        "re-register the intended files as a new version instead of editing them in place"
    )
