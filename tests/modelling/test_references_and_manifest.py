"""Names, ``name@version`` references, user ids and ``model.json`` are refused with messages
that name what is wrong — before anything is copied or stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xiaowei.modelling import (
    TRANSITIONS,
    InvalidReference,
    ManifestError,
    ModelRef,
    ModelStatus,
    TransitionRefused,
    read_manifest,
    validate_name,
)
from xiaowei.modelling.artifact import content_hash, file_digests
from xiaowei.modelling.lifecycle import check_transition
from xiaowei.modelling.reference import validate_user

VALID = {
    "kind": "gbdt", "features": ["a", "b"], "params": {"num_leaves": 15},
    "metrics": {"auc": 0.8}, "data_fingerprint": "ab" * 32, "target": "bad",
    "created_at": "2025-06-30T01:00:00Z",
}


@pytest.mark.parametrize("name", ["churn", "admission_scorecard", "pd-2025", "9lives", "a" * 63])
def test_valid_names(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize(("name", "why"), [
    ("", "empty"),
    ("a" * 64, "64 characters"),
    ("Churn", "lower-case"),
    ("churn model", "lower-case"),
    ("../etc", "lower-case"),
    ("_hidden", "starting with a letter or digit"),
    ("模型", "lower-case"),
])
def test_invalid_names_say_why(name: str, why: str) -> None:
    with pytest.raises(InvalidReference, match=why):
        validate_name(name)


@pytest.mark.parametrize(("text", "expected"), [
    ("churn@3", ModelRef("churn", 3)),
    ("churn@approved", ModelRef("churn")),
    ("churn", ModelRef("churn")),
    (" churn@12 ", ModelRef("churn", 12)),
])
def test_references_parse(text: str, expected: ModelRef) -> None:
    assert ModelRef.parse(text) == expected


@pytest.mark.parametrize(("text", "why"), [
    ("churn@", "must be a positive integer or 'approved', got ''"),
    ("churn@v3", "got 'v3'"),
    ("churn@-1", "got '-1'"),
    ("churn@0", "versions start at 1"),
    ("churn@latest", "got 'latest'"),
    ("churn@1@2", "more than one '@'"),
    ("@3", "no name before '@'"),
    ("Churn@3", "not allowed"),
    ("churn@³", "must be a positive integer"),
])
def test_malformed_references_say_why(text: str, why: str) -> None:
    with pytest.raises(InvalidReference, match=why):
        ModelRef.parse(text)


def test_steps_that_change_a_version_need_its_number() -> None:
    assert ModelRef.parse_exact("churn@2", "approve") == ModelRef("churn", 2)
    with pytest.raises(InvalidReference, match="approve needs an explicit version like 'churn@3'"):
        ModelRef.parse_exact("churn@approved", "approve")


@pytest.mark.parametrize(("user", "why"), [
    ("", "empty"), ("   ", "empty"), (None, "empty"), ("x" * 65, "longer than 64"),
    ("wang\nli", "control characters"),
])
def test_user_ids_refused(user: str | None, why: str) -> None:
    with pytest.raises(InvalidReference, match=f"approver .*{why}|approver is {why}"):
        validate_user(user, "approver")


def test_life_cycle_table() -> None:
    d, a, r = ModelStatus.DRAFT, ModelStatus.APPROVED, ModelStatus.RETIRED
    assert dict(TRANSITIONS) == {d: {a, r}, a: {r}, r: set()}
    check_transition("m@1", d, a, "li.na", "wang.li")  # allowed: no exception
    with pytest.raises(TransitionRefused, match="cannot retire m@1: it is retired"):
        check_transition("m@1", r, r, "li.na", "wang.li")
    with pytest.raises(TransitionRefused, match=r"it is approved .* allowed from approved: "
                                                r"retire → retired"):
        check_transition("m@1", a, a, "li.na", "wang.li")


def _write(tmp_path: Path, doc: object, raw: str | None = None) -> Path:
    folder = tmp_path / "fit"
    folder.mkdir(exist_ok=True)
    (folder / "model.json").write_text(raw if raw is not None else json.dumps(doc), "utf-8")
    return folder


def test_valid_manifest_keeps_unknown_keys(tmp_path: Path) -> None:
    manifest = read_manifest(_write(tmp_path, {**VALID, "report": "report.html"}))
    assert manifest.features == ["a", "b"] and manifest.kind == "gbdt"
    assert manifest.model_extra == {"report": "report.html"}


@pytest.mark.parametrize("key", sorted(VALID))
def test_each_required_key_is_named_when_missing(tmp_path: Path, key: str) -> None:
    folder = _write(tmp_path, {k: v for k, v in VALID.items() if k != key})
    with pytest.raises(ManifestError, match=f"model.json: missing key '{key}'"):
        read_manifest(folder)


@pytest.mark.parametrize(("key", "value", "why"), [
    ("features", "a,b", "key 'features': Input should be a valid list"),
    ("features", [], "at least one feature"),
    ("features", ["a", "a", "b"], "features listed twice: a"),
    ("features", ["a", " "], "entry 1 is blank"),
    ("kind", "Score Card", "lower-case word"),
    ("params", [1, 2], "key 'params': Input should be a valid dictionary"),
    ("data_fingerprint", "not-hex", "lower-case hex digest"),
    ("created_at", "2025-06-30T09:00:00", "time-zone offset"),
    ("created_at", "yesterday", "key 'created_at'"),
    ("target", "", "target column"),
])
def test_invalid_values_named(tmp_path: Path, key: str, value: object, why: str) -> None:
    with pytest.raises(ManifestError, match=why):
        read_manifest(_write(tmp_path, {**VALID, key: value}))


@pytest.mark.parametrize(("raw", "why"), [
    ('{"kind": "gbdt",', r"not valid JSON \(line 1, column 17"),
    ("[1, 2]", "must hold a JSON object, got list"),
    (json.dumps(VALID).replace("0.8", "NaN"), "NaN is not valid JSON"),
])
def test_unreadable_manifests(tmp_path: Path, raw: str, why: str) -> None:
    with pytest.raises(ManifestError, match=why):
        read_manifest(_write(tmp_path, None, raw=raw))


def test_missing_manifest_and_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"model\.json: is missing"):
        read_manifest(tmp_path)
    with pytest.raises(ManifestError, match="is not a directory"):
        read_manifest(tmp_path / "nowhere")


def test_content_hash_depends_on_names_and_bytes_only(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        (folder / "sub").mkdir(parents=True)
        (folder / "sub" / "w.bin").write_bytes(b"123")
        (folder / "model.json").write_text("{}")
    assert content_hash(file_digests(a)) == content_hash(file_digests(b))
    (b / "sub" / "w.bin").rename(b / "sub" / "w2.bin")
    assert content_hash(file_digests(a)) != content_hash(file_digests(b))
    assert list(file_digests(a)) == ["model.json", "sub/w.bin"]
