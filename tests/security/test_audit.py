"""The hash-chained audit log: appends chain, verify finds edits, deletions and reorderings,
and concurrent appends from many threads leave one unbroken chain (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
import threading

from sqlalchemy import Engine, delete, select, update

from xiaowei.security import audit
from xiaowei.store.database import transaction
from xiaowei.store.retry import retry_on_conflict
from xiaowei.store.tables import AuditLog


def _append(store: Engine, n: int) -> None:
    for i in range(n):
        with transaction(store) as session:
            audit.record(session, f"user{i}", "test.act", ("thing", f"T{i}"),
                         {"i": i, "amount": "12.50", "note": "通过"})


def test_appends_chain_and_verify_is_clean(store: Engine) -> None:
    _append(store, 5)
    with transaction(store) as session:
        rows = list(session.scalars(select(AuditLog).order_by(AuditLog.seq)))
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    assert audit.verify(store) == []
    assert audit.head(store) == (5, rows[-1].hash)


def test_odd_values_are_hashed_as_stored(store: Engine) -> None:
    import datetime as dt
    from decimal import Decimal

    with transaction(store) as session:
        audit.record(session, "  li  ", "x" * 80, ("loan", 42),  # type: ignore[arg-type]
                     {"amount": Decimal("1.10"), "on": dt.date(2026, 1, 2), "ratio": 0.1})
    assert audit.verify(store) == []
    entry = audit.entries(store)[0]
    assert (entry.actor, entry.subject_id, len(entry.action)) == ("li", "42", 64)
    assert entry.detail == {"amount": "1.10", "on": "2026-01-02", "ratio": 0.1}


def test_an_entry_rolled_back_with_its_act_leaves_no_trace(store: Engine) -> None:
    _append(store, 2)
    try:
        with transaction(store) as session:
            audit.record(session, "li", "test.act", ("thing", "X"))
            raise RuntimeError("the act failed")
    except RuntimeError:
        pass
    _append(store, 1)
    assert audit.head(store)[0] == 3 and audit.verify(store) == []


def test_an_edited_detail_is_named(store: Engine) -> None:
    _append(store, 4)
    with transaction(store) as session:
        session.execute(update(AuditLog).where(AuditLog.seq == 3)
                        .values(detail={"i": 2, "amount": "99999.00", "note": "通过"}))
    problems = audit.verify(store)
    assert [(p.seq, p.kind) for p in problems] == [(3, "edited")]
    assert "entry 3" in problems[0].message


def test_a_rewritten_hash_breaks_the_next_link(store: Engine) -> None:
    _append(store, 4)
    with transaction(store) as session:
        row = session.get_one(AuditLog, 2)
        text = audit.canonical(2, row.at, "someone.else", row.action, row.subject_kind,
                               row.subject_id, row.detail)
        row.actor, row.hash = "someone.else", audit.chain_hash(row.prev_hash, text)
    assert [(p.seq, p.kind) for p in audit.verify(store)] == [(3, "broken_link")]


def test_deleted_entries_in_the_middle_and_at_the_end_are_named(store: Engine) -> None:
    _append(store, 6)
    with transaction(store) as session:
        session.execute(delete(AuditLog).where(AuditLog.seq == 3))
    assert [(p.seq, p.kind) for p in audit.verify(store)] == [(3, "missing")]
    with transaction(store) as session:
        session.execute(delete(AuditLog).where(AuditLog.seq >= 5))
    problems = audit.verify(store)
    assert [(p.seq, p.kind) for p in problems] == [(3, "missing"), (5, "missing")]
    assert "5–6" in problems[1].message


def test_reordered_entries_are_named(store: Engine) -> None:
    _append(store, 4)
    with transaction(store) as session:
        a, b = session.get_one(AuditLog, 2), session.get_one(AuditLog, 3)
        a.detail, b.detail = b.detail, a.detail
        a.subject_id, b.subject_id = b.subject_id, a.subject_id
    assert {(p.seq, p.kind) for p in audit.verify(store)} == {(2, "edited"), (3, "edited")}


def test_concurrent_appends_keep_one_chain(store: Engine) -> None:
    threads, each = 8, 10
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(each):
                def attempt(i: int = i) -> None:
                    with transaction(store) as session:
                        audit.record(session, f"t{t}", "test.race", ("thread", str(t)), {"i": i})
                retry_on_conflict(attempt, RuntimeError)
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []
    assert audit.head(store)[0] == threads * each
    assert audit.verify(store) == []
    with transaction(store) as session:
        prevs = list(session.scalars(select(AuditLog.prev_hash)))
    assert len(set(prevs)) == threads * each  # no two entries chain onto one predecessor
