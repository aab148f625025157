"""The model registry on SQLite and PostgreSQL: versions, four-eyes approval, the life cycle,
tamper detection, atomic copies and concurrent registrations."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError

from xiaowei.modelling import (
    ManifestError,
    ModelNotFound,
    ModelRegistry,
    ModelStatus,
    NotForProduction,
    TamperedArtifact,
    TransitionRefused,
)
from xiaowei.modelling import artifact as artifact_module
from xiaowei.store.database import transaction
from xiaowei.store.tables import ModelEvent, ModelVersion

MakeModel = Callable[..., Path]  # the make_model fixture: (folder, body=, **manifest overrides)


def _rows(engine: Engine) -> list[tuple[str, int, str]]:
    with transaction(engine) as session:
        return [tuple(r) for r in session.execute(select(
            ModelVersion.name, ModelVersion.version, ModelVersion.status
        ).order_by(ModelVersion.name, ModelVersion.version))]


def _leftovers(root: Path) -> list[str]:
    """Anything in the models tree that is not a finished ``<name>/<version>`` artifact."""
    if not root.exists():
        return []
    return sorted(p.name for p in root.glob("*/*") if not p.name.isdigit())


# -- registration ------------------------------------------------------------------------


def test_register_copies_files_and_records_metadata(
    registry: ModelRegistry, make_model: MakeModel, xiaowei_home: Path
) -> None:
    source = make_model("fit1")
    result = registry.register(source, "admission_scorecard", "wang.li", note="first fit")

    record = result.record
    assert result.created is True
    assert (record.name, record.version, record.status) == ("admission_scorecard", 1, "draft")
    assert record.path == xiaowei_home / "models" / "admission_scorecard" / "1"
    assert (record.path / "body.bin").read_bytes() == b"weights-v1"
    assert json.loads((record.path / "model.json").read_text())["trainer"] == "xiaowei model fit"
    assert record.features == ("revenue_growth_12m", "overdue_days_max_6m", "tax_grade")
    assert record.params == {"bins": 5, "pdo": 20, "base_score": 600}
    assert record.metrics["by_split"] == {"test": {"auc": 0.77}}
    assert record.data_fingerprint == "5e" * 32 and record.target == "bad_90d"
    assert record.created_at == dt.datetime(2025, 6, 30, 1, 0, tzinfo=dt.UTC)
    assert record.registered_by == "wang.li" and record.approved_by is None
    assert set(record.files) == {"model.json", "body.bin"}
    assert len(record.content_hash) == 64

    # What the store returns afterwards equals what register returned.
    assert registry.get("admission_scorecard@1") == record
    [event] = registry.history("admission_scorecard@1")
    assert (event.from_status, event.to_status, event.actor, event.note) == (
        None, ModelStatus.DRAFT, "wang.li", "first fit")


def test_versions_increment_per_name(registry: ModelRegistry, make_model: MakeModel) -> None:
    first = registry.register(make_model("a", body=b"one"), "churn", "wang.li").record
    second = registry.register(make_model("b", body=b"two"), "churn", "wang.li").record
    other = registry.register(make_model("c", body=b"one"), "behaviour", "wang.li").record
    assert (first.version, second.version, other.version) == (1, 2, 1)
    assert (second.path / "body.bin").read_bytes() == b"two"
    assert [r.ref for r in registry.versions()] == ["behaviour@1", "churn@1", "churn@2"]
    assert [r.ref for r in registry.versions("churn")] == ["churn@1", "churn@2"]


def test_same_content_again_returns_the_existing_version(
    registry: ModelRegistry, make_model: MakeModel, engine: Engine, tmp_path: Path
) -> None:
    first = registry.register(make_model("a"), "churn", "wang.li")
    # The same files from another folder (copied, so timestamps differ) by another person.
    copy = shutil.copytree(make_model("a"), tmp_path / "elsewhere")
    again = registry.register(copy, "churn", "li.na")
    assert again.created is False
    assert again.record == first.record
    assert _rows(engine) == [("churn", 1, "draft")]
    assert len(registry.history("churn@1")) == 1
    assert _leftovers(registry.root) == []
    # Content counts, not the folder: one changed byte is a new version.
    changed = registry.register(make_model("b", body=b"weights-v2"), "churn", "wang.li")
    assert (changed.created, changed.record.version) == (True, 2)


def test_missing_features_refused_naming_key_and_file(
    registry: ModelRegistry, make_model: MakeModel, engine: Engine
) -> None:
    source = make_model("bad", features=None)
    with pytest.raises(ManifestError, match="missing key 'features'") as info:
        registry.register(source, "churn", "wang.li")
    assert str(source / "model.json") in str(info.value)
    assert _rows(engine) == []
    assert not (registry.root / "churn").exists()


def test_failed_copy_leaves_nothing_half_written(
    registry: ModelRegistry, make_model: MakeModel, engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry.register(make_model("a"), "churn", "wang.li")
    copied: list[str] = []
    real_copy = shutil.copy2

    def copy_then_fail(src: str, dst: str, **kwargs: object) -> object:
        if copied:
            raise OSError(28, "No space left on device")
        copied.append(src)
        return real_copy(src, dst, **kwargs)

    monkeypatch.setattr(shutil, "copy2", copy_then_fail)
    with pytest.raises(OSError, match="No space left"):
        registry.register(make_model("b", body=b"two"), "churn", "wang.li")
    assert copied  # the failure came half-way, after one file
    assert _rows(engine) == [("churn", 1, "draft")]
    assert sorted(p.name for p in (registry.root / "churn").iterdir()) == ["1"]


def test_failure_after_the_row_rolls_back_and_removes_the_files(
    registry: ModelRegistry, make_model: MakeModel, engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_rename(staging: Path, final: Path) -> None:
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(artifact_module, "place", no_rename)
    with pytest.raises(OSError, match="Permission denied"):
        registry.register(make_model("a"), "churn", "wang.li")
    assert _rows(engine) == []
    assert not (registry.root / "churn").exists()


def test_leftover_of_a_crashed_registration_is_replaced(
    registry: ModelRegistry, make_model: MakeModel
) -> None:
    orphan = registry.root / "churn" / "1"
    orphan.mkdir(parents=True)
    (orphan / "half.bin").write_bytes(b"half a model")
    record = registry.register(make_model("a"), "churn", "wang.li").record
    assert record.version == 1
    assert sorted(p.name for p in record.path.iterdir()) == ["body.bin", "model.json"]
    assert registry.verify("churn@1") == record


def test_a_lost_race_for_a_number_retries_with_the_next(
    registry: ModelRegistry, make_model: MakeModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry.register(make_model("a", body=b"one"), "churn", "wang.li")
    real_next = ModelRegistry._next_version
    calls: list[int] = []

    def stale_first(self: ModelRegistry, session: object, name: str) -> int:
        calls.append(1)
        # As if another process took the number between our read and our insert.
        return 1 if len(calls) == 1 else real_next(self, session, name)  # type: ignore[arg-type]

    monkeypatch.setattr(ModelRegistry, "_next_version", stale_first)
    record = registry.register(make_model("b", body=b"two"), "churn", "wang.li").record
    assert len(calls) == 2
    assert record.version == 2 and (record.path / "body.bin").read_bytes() == b"two"
    assert (registry.root / "churn" / "1" / "body.bin").read_bytes() == b"one"


def test_concurrent_registrations_get_distinct_versions(
    engine: Engine, make_model: MakeModel
) -> None:
    workers = 6
    sources = [make_model(f"m{i}", body=f"weights-{i}".encode()) for i in range(workers)]
    start = threading.Barrier(workers)
    results: dict[int, int] = {}
    errors: list[BaseException] = []

    def register(i: int) -> None:
        registry = ModelRegistry(engine)
        start.wait()
        try:
            results[i] = registry.register(sources[i], "churn", f"user{i}").record.version
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results.values()) == list(range(1, workers + 1))
    registry = ModelRegistry(engine)
    for i, version in results.items():
        record = registry.verify(f"churn@{version}")
        assert (record.path / "body.bin").read_bytes() == f"weights-{i}".encode()
    assert _leftovers(registry.root) == []


def test_symbolic_link_in_a_model_directory_refused(
    registry: ModelRegistry, make_model: MakeModel, tmp_path: Path
) -> None:
    source = make_model("a")
    (tmp_path / "outside.txt").write_text("not part of the model")
    (source / "extra.txt").symlink_to(tmp_path / "outside.txt")
    with pytest.raises(ManifestError, match=r"extra\.txt: is a symbolic link"):
        registry.register(source, "churn", "wang.li")


# -- life cycle --------------------------------------------------------------------------


def test_registrant_cannot_approve_their_own_model(
    registry: ModelRegistry, make_model: MakeModel
) -> None:
    registry.register(make_model("a"), "churn", "wang.li")
    for same in ("wang.li", " Wang.Li "):
        with pytest.raises(TransitionRefused, match="second person"):
            registry.approve("churn@1", same)
    record = registry.get("churn@1")
    assert record.status is ModelStatus.DRAFT and record.approved_by is None
    assert len(registry.history("churn@1")) == 1


def test_second_person_approves(registry: ModelRegistry, make_model: MakeModel) -> None:
    registry.register(make_model("a"), "churn", "wang.li")
    record = registry.approve("churn@1", "li.na", note="validated on 2025Q2")
    assert record.status is ModelStatus.APPROVED
    assert record.approved_by == "li.na" and record.approved_at is not None
    assert registry.get("churn@1") == record
    steps = [(e.from_status, e.to_status, e.actor, e.note) for e in registry.history("churn@1")]
    assert steps == [(None, "draft", "wang.li", None),
                     ("draft", "approved", "li.na", "validated on 2025Q2")]


def test_store_itself_refuses_an_approval_by_the_registrant(
    registry: ModelRegistry, make_model: MakeModel, engine: Engine
) -> None:
    """The four-eyes rule holds even for code that writes the table directly."""
    registry.register(make_model("a"), "churn", "wang.li")
    with pytest.raises(IntegrityError), transaction(engine) as session:
        session.execute(update(ModelVersion).values(status="approved", approved_by="WANG.LI"))


def test_retired_cannot_be_approved(registry: ModelRegistry, make_model: MakeModel) -> None:
    registry.register(make_model("a"), "churn", "wang.li")
    registry.approve("churn@1", "li.na")
    retired = registry.retire("churn@1", "zhao.min", note="drift in 2025Q3")
    assert retired.status is ModelStatus.RETIRED and retired.retired_by == "zhao.min"
    with pytest.raises(TransitionRefused, match="it is retired") as info:
        registry.approve("churn@1", "li.na")
    assert "final" in str(info.value)
    with pytest.raises(TransitionRefused, match="it is retired"):
        registry.retire("churn@1", "zhao.min")
    assert [e.to_status for e in registry.history("churn@1")] == ["draft", "approved", "retired"]


def test_draft_can_be_withdrawn_and_approved_cannot_be_approved_again(
    registry: ModelRegistry, make_model: MakeModel
) -> None:
    registry.register(make_model("a", body=b"one"), "churn", "wang.li")
    registry.register(make_model("b", body=b"two"), "churn", "wang.li")
    withdrawn = registry.retire("churn@1", "wang.li", note="wrong target")
    assert withdrawn.status is ModelStatus.RETIRED and withdrawn.approved_by is None
    registry.approve("churn@2", "li.na")
    with pytest.raises(TransitionRefused, match="it is approved"):
        registry.approve("churn@2", "zhao.min")


def test_list_shows_each_versions_status(
    registry: ModelRegistry, make_model: MakeModel, engine: Engine
) -> None:
    for i in range(3):
        registry.register(make_model(f"m{i}", body=bytes([i])), "churn", "wang.li")
    registry.approve("churn@2", "li.na")
    registry.retire("churn@3", "wang.li")
    assert [(r.ref, r.status) for r in registry.versions()] == [
        ("churn@1", "draft"), ("churn@2", "approved"), ("churn@3", "retired")]
    assert [r.ref for r in registry.versions(status="draft")] == ["churn@1"]
    assert _rows(engine) == [("churn", 1, "draft"), ("churn", 2, "approved"),
                             ("churn", 3, "retired")]
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(ModelEvent)) == 5


def test_unknown_versions_say_what_exists(
    registry: ModelRegistry, make_model: MakeModel
) -> None:
    registry.register(make_model("a"), "churn", "wang.li")
    with pytest.raises(ModelNotFound, match=r"churn@7 does not exist \(known: churn@1 draft\)"):
        registry.approve("churn@7", "li.na")
    with pytest.raises(ModelNotFound, match="no model named 'fraud'"):
        registry.get("fraud@1")


# -- resolving for strategies --------------------------------------------------------------


def test_resolve_follows_the_newest_approved_version(
    registry: ModelRegistry, make_model: MakeModel
) -> None:
    for i in range(3):
        registry.register(make_model(f"m{i}", body=bytes([i])), "churn", "wang.li")
    with pytest.raises(ModelNotFound, match="churn has no approved version"):
        registry.resolve("churn")
    registry.approve("churn@1", "li.na")
    registry.approve("churn@2", "li.na")
    for ref in ("churn", "churn@approved", " churn@approved "):
        assert registry.resolve(ref).record.version == 2
    pinned = registry.resolve("churn@1")
    assert pinned.path == registry.root / "churn" / "1"
    assert (pinned.path / "body.bin").read_bytes() == bytes([0])
    registry.retire("churn@2", "zhao.min")
    assert registry.resolve("churn").record.version == 1


def test_drafts_and_retired_only_with_allow_draft(
    registry: ModelRegistry, make_model: MakeModel
) -> None:
    registry.register(make_model("a", body=b"one"), "churn", "wang.li")
    registry.register(make_model("b", body=b"two"), "churn", "wang.li")
    registry.retire("churn@2", "wang.li")
    with pytest.raises(NotForProduction, match="churn@1 is draft"):
        registry.resolve("churn@1")
    with pytest.raises(NotForProduction, match="churn@2 is retired"):
        registry.resolve("churn@2")
    assert registry.resolve("churn@1", allow_draft=True).record.status is ModelStatus.DRAFT
    assert registry.resolve("churn@2", allow_draft=True).record.status is ModelStatus.RETIRED


@pytest.mark.parametrize("change", ["modified", "added", "missing", "directory"])
def test_tampered_artifact_refused_on_load(
    registry: ModelRegistry, make_model: MakeModel, change: str
) -> None:
    record = registry.register(make_model("a"), "churn", "wang.li").record
    registry.approve("churn@1", "li.na")
    assert registry.resolve("churn@1").path == record.path
    if change == "modified":
        (record.path / "body.bin").write_bytes(b"weights-v1 with a better cut-off")
        expected = r"body\.bin modified"
    elif change == "added":
        (record.path / "patch.py").write_text("THRESHOLD = 0")
        expected = r"patch\.py added"
    elif change == "missing":
        (record.path / "body.bin").unlink()
        expected = r"body\.bin missing"
    else:
        shutil.rmtree(record.path)
        expected = "artifact directory .* is missing"
    with pytest.raises(TamperedArtifact, match=expected):
        registry.resolve("churn@1")
    with pytest.raises(TamperedArtifact):
        registry.resolve("churn@1", allow_draft=True)


def test_concurrent_approvals_only_one_wins(
    registry: ModelRegistry, make_model: MakeModel, engine: Engine
) -> None:
    registry.register(make_model("a"), "churn", "wang.li")
    workers = 5
    start = threading.Barrier(workers)
    outcomes: list[str] = []

    def approve(i: int) -> None:
        start.wait()
        try:
            ModelRegistry(engine).approve("churn@1", f"approver{i}")
            outcomes.append("approved")
        except TransitionRefused as exc:
            outcomes.append("refused" if "it is approved" in str(exc) else str(exc))

    threads = [threading.Thread(target=approve, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["approved"] + ["refused"] * (workers - 1)
    steps = [(e.from_status, e.to_status) for e in registry.history("churn@1")]
    assert steps == [(None, "draft"), ("draft", "approved")]
    assert registry.get("churn@1").approved_by == next(
        e.actor for e in registry.history("churn@1") if e.to_status == "approved")
