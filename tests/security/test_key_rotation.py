"""PII key rotation: every encrypted column and blind index moves to the new key, in
resumable batches, with old rows readable mid-way."""

from __future__ import annotations

import base64
import datetime as dt
import os

import pytest
from sqlalchemy import Engine, Text, select, type_coerce

from xiaowei.security import key_rotation, pii
from xiaowei.store.database import transaction
from xiaowei.store.tables import CustomerManager, Party


def _parties(store: Engine, n: int) -> None:
    with transaction(store) as session:
        for i in range(n):
            number = f"3301061990010{i:04d}X"[:18]
            session.add(Party(party_id=f"P{i:03d}", party_type="business_owner",
                              id_number=number, id_number_index=pii.blind_index(number),
                              name=f"张{i}", name_masked="张*", phone=None if i % 3 else
                              "13912345678", region_code="330106",
                              created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)))


def _key_ids(store: Engine) -> set[str]:
    with transaction(store) as session:
        raw = session.scalars(select(type_coerce(Party.name, Text))).all()
    return {text.split(":")[1] for text in raw}


def test_rotation_is_resumable_and_old_rows_stay_readable(store: Engine) -> None:
    _parties(store, 25)
    old = pii.current_key().key_id
    new = key_rotation.new_key_file()
    assert new != old and key_rotation.pending(store) == 25 + 2  # parties + managers' phones
    done = key_rotation.reencrypt(store, batch=10, max_batches=2)  # as if interrupted
    assert sum(done.rewritten.values()) == 20 and done.remaining == 7
    assert _key_ids(store) == {old, new}
    with transaction(store) as session:  # mid-way: both keys in the table, all readable
        names = [p.name for p in session.scalars(select(Party).order_by(Party.party_id))]
    assert names == [f"张{i}" for i in range(25)]
    report = key_rotation.reencrypt(store, batch=10)
    assert report.remaining == 0 and key_rotation.pending(store) == 0
    assert _key_ids(store) == {new}
    again = key_rotation.reencrypt(store)  # idempotent: nothing left to do
    assert sum(again.rewritten.values()) == 0
    with transaction(store) as session:
        found = session.scalar(select(Party).where(
            Party.id_number_index == pii.blind_index("33010619900100003X")))
        manager = session.get_one(CustomerManager, "M1")
    assert found is not None and found.name == "张3"  # blind index recomputed under new key
    assert manager.phone == "13812345678"


def test_without_the_retired_key_old_rows_are_unreadable(store: Engine) -> None:
    _parties(store, 2)
    key_rotation.new_key_file()
    retired = pii.get_settings().home / pii.RETIRED_DIR
    for f in retired.glob("*.key"):
        f.unlink()
    with transaction(store) as session, pytest.raises(pii.PiiError, match="retired"):
        session.get_one(Party, "P000").name  # noqa: B018


def test_a_vault_key_is_not_rotated_by_file(store: Engine,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pii.ENV_KEY, base64.b64encode(os.urandom(32)).decode())
    with pytest.raises(key_rotation.RotationError, match="key vault"):
        key_rotation.new_key_file()


def test_vault_rotation_reads_retired_keys_from_the_environment(
        store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = (base64.b64encode(os.urandom(32)).decode() for _ in range(2))
    monkeypatch.setenv(pii.ENV_KEY, first)
    _parties(store, 3)
    monkeypatch.setenv(pii.ENV_KEY, second)
    file_key = (pii.get_settings().home / pii.KEY_FILE).read_text()  # the managers' phones
    monkeypatch.setenv(pii.RETIRED_ENV, f"{first}, {file_key}")
    assert key_rotation.reencrypt(store).remaining == 0
    monkeypatch.delenv(pii.RETIRED_ENV)
    with transaction(store) as session:
        assert session.get_one(Party, "P002").name == "张2"


def test_every_blind_index_column_is_rotated() -> None:
    from xiaowei.store.tables import Base

    indexed = {(t.name, c.name) for t in Base.metadata.sorted_tables for c in t.columns
               if c.name.endswith("_index")}
    covered = {(t, c) for t, cols in key_rotation.BLIND_INDEXES.items() for c in cols}
    assert indexed == covered
