"""The strategy store on SQLite and PostgreSQL: content-hashed versions, maker–checker,
publishing, one live version per pack, audited rollback, diffs in words, refusal of malformed
packs, and concurrent submissions."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.exc import IntegrityError

from xiaowei.engine.strategy import load_pack
from xiaowei.store.database import transaction
from xiaowei.store.tables import StrategyLive, StrategyVersion
from xiaowei.strategies import (
    PackRefused,
    StrategyError,
    StrategyNotFound,
    StrategyStatus,
    StrategyStore,
    TamperedPack,
    TransitionRefused,
)

MakePack = Callable[..., Path]
OWNER_AGE = "tag.age < 22"


def _live(store: StrategyStore, make_pack: MakePack, n: int = 2) -> list[str]:
    """Submit ``n`` versions (differing in the O001 age threshold), approve and publish each
    in turn; returns their references."""
    refs = []
    for i in range(n):
        path = make_pack(f"v{i}", {OWNER_AGE: f"tag.age < {22 + i}"})
        ref = store.submit(path, "zhao.min").record.ref
        store.approve(ref, "li.na")
        store.publish(ref, "chen.gang", note=f"go live {i}")
        refs.append(ref)
    return refs


def test_submit_stores_the_files_as_a_draft_keyed_by_the_pack_hash(
    store: StrategyStore, make_pack: MakePack
) -> None:
    path = make_pack()
    result = store.submit(path, "zhao.min", note="first cut")
    record = result.record
    assert result.created is True
    assert (record.ref, record.status, record.label) == ("example@1", "draft", "2024.1")
    assert record.content_hash == load_pack(path / "pack.yaml").hash
    assert record.files == {
        "pack.yaml": (path / "pack.yaml").read_text("utf-8"),
        "blacklist.txt": (path / "blacklist.txt").read_text("utf-8"),
    }
    [event] = store.history("example@1")
    assert (event.from_status, event.to_status, event.actor, event.note) == (
        None, StrategyStatus.DRAFT, "zhao.min", "first cut")
    _, pack = store.load("example@1")  # rebuilt from the store alone
    assert pack.hash == record.content_hash and "13800000000" in str(pack.lists["blacklist"])


def test_identical_resubmission_is_idempotent(store: StrategyStore, make_pack: MakePack) -> None:
    first = store.submit(make_pack("a"), "zhao.min").record
    # Same behaviour, different comment and file path: the same version, nothing added.
    again = store.submit(make_pack("b", {"# A small": "# Reworded: a small"}), "qian.li")
    assert again.created is False and again.record == first
    assert [r.ref for r in store.versions()] == ["example@1"]
    assert len(store.history("example@1")) == 1
    # A changed list file is a changed pack.
    changed = make_pack("c")
    (changed / "blacklist.txt").write_text("13900000001\n", "utf-8")
    assert store.submit(changed, "zhao.min").record.version == 2


def test_malformed_pack_is_refused_with_file_and_line(
    store: StrategyStore, make_pack: MakePack
) -> None:
    path = make_pack("bad", {OWNER_AGE: "tag.agex < 22"})
    with pytest.raises(PackRefused) as refused:
        store.submit(path, "zhao.min")
    message = str(refused.value)
    assert f"{path / 'pack.yaml'}:145:" in message and "unknown name 'tag.agex'" in message
    assert store.versions() == []


def test_list_file_outside_the_pack_folder_is_refused(
    store: StrategyStore, make_pack: MakePack
) -> None:
    path = make_pack("escape", {"file: blacklist.txt": "file: ../blacklist.txt"})
    (path.parent / "blacklist.txt").write_text("1\n", "utf-8")
    with pytest.raises(PackRefused, match=r"outside the pack's folder"):
        store.submit(path, "zhao.min")


def test_author_cannot_approve_in_code_or_in_the_database(
    store: StrategyStore, make_pack: MakePack, engine: Engine
) -> None:
    store.submit(make_pack(), "zhao.min")
    with pytest.raises(TransitionRefused, match="maker–checker"):
        store.approve("example@1", " Zhao.Min ")
    with pytest.raises(IntegrityError), transaction(engine) as session:
        session.execute(update(StrategyVersion).values(approved_by="ZHAO.MIN"))
    assert store.get("example@1").status is StrategyStatus.DRAFT


def test_approve_then_publish_makes_the_version_live(
    store: StrategyStore, make_pack: MakePack
) -> None:
    store.submit(make_pack(), "zhao.min")
    with pytest.raises(TransitionRefused, match="cannot publish example@1: it is draft"):
        store.publish("example@1", "chen.gang")
    with pytest.raises(StrategyNotFound, match="no live version"):
        store.get("example")
    approved = store.approve("example@1", "li.na", note="checked")
    assert (approved.status, approved.approved_by) == (StrategyStatus.APPROVED, "li.na")
    live = store.publish("example@1", "chen.gang", note="go live")
    assert live.status is StrategyStatus.LIVE
    assert store.get("example") == store.get("example@live") == live
    assert store.live_version("example") == (1, live.content_hash)
    assert [(e.from_status, e.to_status, e.actor) for e in store.history("example@1")] == [
        (None, "draft", "zhao.min"), ("draft", "approved", "li.na"),
        ("approved", "live", "chen.gang")]


def test_only_one_version_is_live_per_name(
    store: StrategyStore, make_pack: MakePack, engine: Engine
) -> None:
    one, two = _live(store, make_pack)
    assert [(r.ref, r.status) for r in store.versions("example")] == [
        (one, "superseded"), (two, "live")]
    assert store.live_version("example")[0] == 2
    [superseded] = [e for e in store.history(one) if e.to_status == "superseded"]
    assert (superseded.actor, superseded.note) == ("chen.gang", "superseded by example@2")
    with pytest.raises(IntegrityError), transaction(engine) as session:
        session.add(StrategyLive(name="example", version=1, content_hash="0" * 64,
                                 since=store.clock(), switched_by="x"))


def test_rollback_restores_the_previous_live_version_and_is_audited(
    store: StrategyStore, make_pack: MakePack
) -> None:
    one, two, three = _live(store, make_pack, 3)
    with pytest.raises(StrategyError, match="note"):
        store.rollback("example", "chen.gang", note=" ")
    back = store.rollback("example", "chen.gang", note="approval rate fell")
    assert back.ref == two and store.get("example").ref == two
    assert store.get(three).status is StrategyStatus.ROLLED_BACK
    rolled = store.history(three)[-1]
    assert (rolled.from_status, rolled.to_status, rolled.actor, rolled.note) == (
        "live", "rolled_back", "chen.gang", "approval rate fell")
    assert store.history(two)[-1].note == "rollback: approval rate fell"
    # A second rollback walks further back, never forward to the rolled-back version.
    assert store.rollback("example", "chen.gang", note="still wrong").ref == one
    with pytest.raises(TransitionRefused, match="no earlier version"):
        store.rollback("example", "chen.gang", note="again")
    # A rolled-back version may be published again, without a second approval.
    assert store.publish(three, "chen.gang").status is StrategyStatus.LIVE


def test_diff_between_versions_is_in_words(store: StrategyStore, make_pack: MakePack) -> None:
    store.submit(make_pack("a"), "zhao.min")
    store.submit(make_pack("b", {OWNER_AGE: "tag.age < 30"}), "zhao.min")
    assert store.diff("example@1", "example@2") == [
        "rule O001: when `tag.age < 22` → `tag.age < 30`"]
    assert store.diff("example@1", "example@1") == []


def test_withdrawn_draft_cannot_be_approved(store: StrategyStore, make_pack: MakePack) -> None:
    store.submit(make_pack(), "zhao.min")
    assert store.withdraw("example@1", "zhao.min").status is StrategyStatus.WITHDRAWN
    with pytest.raises(TransitionRefused, match="it is withdrawn"):
        store.approve("example@1", "li.na")


def test_a_changed_row_is_refused_at_publish(
    store: StrategyStore, make_pack: MakePack, engine: Engine
) -> None:
    record = store.submit(make_pack(), "zhao.min").record
    store.approve(record.ref, "li.na")
    edited = {**record.files, "pack.yaml": record.files["pack.yaml"].replace("22", "99")}
    with transaction(engine) as session:
        session.execute(update(StrategyVersion).values(files=edited))
    with pytest.raises(TamperedPack, match="recorded at submission"):
        store.publish(record.ref, "chen.gang")
    assert store.live_version("example") is None


def test_concurrent_submissions_get_distinct_numbers(
    engine: Engine, make_pack: MakePack
) -> None:
    workers = 6
    paths = [make_pack(f"c{i}", {OWNER_AGE: f"tag.age < {30 + i}"}) for i in range(workers)]
    start = threading.Barrier(workers)
    results: dict[int, int] = {}
    errors: list[BaseException] = []

    def submit(i: int) -> None:
        store = StrategyStore(engine)
        start.wait()
        try:
            results[i] = store.submit(paths[i], f"user{i}").record.version
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results.values()) == list(range(1, workers + 1))
    store = StrategyStore(engine)
    for i, version in results.items():
        assert store.get(f"example@{version}").submitted_by == f"user{i}"
