"""PII key rotation: move every encrypted value (and every blind index) to a new key.

Why it works without downtime: each ciphertext names its key (``v1:<key_id>:…``) and
:func:`xiaowei.security.pii.key_for` still reads retired keys, so during a rotation old and
new rows are both readable. The pass finds rows not yet under the current key, decrypts them
with whichever key wrote them and writes them back under the current one, a batch per
transaction — so it is idempotent (a finished row is not selected again) and resumable (run it
again after an interruption; it continues where it stopped). Blind indexes are keyed too, so
they are recomputed in the same update.

Keys: with a key file (``XIAOWEI_HOME/keys/pii.key``) :func:`new_key_file` retires the current
key into ``keys/retired/`` and writes a new one. With ``XIAOWEI_PII_KEY`` from a key vault, the
vault issues the new key: set ``XIAOWEI_PII_KEY`` to it and ``XIAOWEI_PII_RETIRED_KEYS`` to the
old one, then re-encrypt. Keep the retired key until :func:`pending` is 0 and backups made
before the rotation have expired. Restart running servers after a new key file is written:
each reads its key once.
"""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Column, Engine, Table, Text, and_, func, or_, select, type_coerce, update

from xiaowei.config import get_settings
from xiaowei.security import pii
from xiaowei.store.database import transaction
from xiaowei.store.tables import Base
from xiaowei.store.types import EncryptedString

BATCH = 500
# Blind-index column → the encrypted column whose value it indexes (per table).
BLIND_INDEXES: dict[str, dict[str, str]] = {"party": {"id_number_index": "id_number"}}


class RotationError(RuntimeError):
    """The key cannot be rotated here (e.g. it comes from the environment)."""


@dataclass
class RotationReport:
    key_id: str
    rewritten: dict[str, int] = field(default_factory=dict)
    remaining: int = 0

    def to_json(self) -> dict[str, object]:
        return {"key_id": self.key_id, "rewritten": self.rewritten,
                "total_rewritten": sum(self.rewritten.values()), "remaining": self.remaining}


def encrypted_columns() -> dict[Table, list[Column[str]]]:
    """Every ``EncryptedString`` column of the store, by table."""
    found: dict[Table, list[Column[str]]] = {}
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, EncryptedString)]
        if columns:
            found[table] = columns
    return found


def _stale(columns: list[Column[str]], key_id: str):  # type: ignore[no-untyped-def]
    current = f"{pii.FORMAT_VERSION}:{key_id}:%"
    return or_(*[and_(c.is_not(None), ~type_coerce(c, Text).like(current)) for c in columns])


def pending(engine: Engine) -> int:
    """How many rows still hold a value under another key than the current one."""
    key_id = pii.current_key().key_id
    with transaction(engine) as session:
        return sum(session.scalar(select(func.count()).select_from(t)
                                  .where(_stale(cols, key_id))) or 0
                   for t, cols in encrypted_columns().items())


def reencrypt(engine: Engine, *, batch: int = BATCH,
              progress: Callable[[int, int], None] | None = None,
              max_batches: int | None = None) -> RotationReport:
    """Re-encrypt every stale row under the current key (see the module doc).

    ``progress(done, total)`` is called after each batch; ``max_batches`` stops early (to
    test resumption, or to spread the work over several maintenance windows).
    """
    key_id = pii.current_key().key_id
    total, done, batches = pending(engine), 0, 0
    report = RotationReport(key_id)
    for table, columns in encrypted_columns().items():
        keys = list(table.primary_key.columns)
        indexes = BLIND_INDEXES.get(table.name, {})
        raw = [type_coerce(c, Text).label(c.name) for c in columns]
        while max_batches is None or batches < max_batches:
            with transaction(engine) as session:
                rows = session.execute(select(*keys, *raw).where(_stale(columns, key_id))
                                       .order_by(*keys).limit(batch)).mappings().all()
                for row in rows:
                    values = {c.name: None if row[c.name] is None else pii.decrypt(row[c.name])
                              for c in columns}
                    for index, source in indexes.items():
                        plain = values.get(source)
                        values[index] = None if plain is None else pii.blind_index(plain)
                    session.execute(update(table).where(*[k == row[k.name] for k in keys])
                                    .values(**values))
            if not rows:
                break
            batches += 1
            done += len(rows)
            report.rewritten[table.name] = report.rewritten.get(table.name, 0) + len(rows)
            if progress is not None:
                progress(done, total)
    report.remaining = pending(engine)
    return report


def new_key_file(home: Path | None = None) -> str:
    """Retire the key file's key into ``keys/retired/<key_id>.key`` and write a new key;
    returns the new key id. Refused when the key comes from ``XIAOWEI_PII_KEY``."""
    if os.environ.get(pii.ENV_KEY):
        raise RotationError(f"the PII key comes from {pii.ENV_KEY} (a key vault): issue a new "
                            f"key there, set {pii.ENV_KEY} to it and {pii.RETIRED_ENV} to the "
                            "old one, then run 'xiaowei keys rotate --resume'")
    home = home or get_settings().home
    path = home / pii.KEY_FILE
    old = pii.current_key()  # creates the key file on first use
    retired = home / pii.RETIRED_DIR
    retired.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_private(retired / f"{old.key_id}.key", path.read_text(encoding="ascii"))
    _write_private(path, base64.b64encode(os.urandom(pii.KEY_BYTES)).decode("ascii") + "\n")
    pii._key_from_home.cache_clear()  # this process reads the new key from now on
    return pii.current_key().key_id


def _write_private(path: Path, text: str) -> None:
    """Write through a 0600 temporary file and rename, so no reader sees half a key."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
