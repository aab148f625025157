"""Fixtures for the model registry: a migrated store on each backend and tiny model folders.

A "model" here is a ``model.json`` and one dummy body file: the registry never reads a model
body, so nothing heavier is needed to test it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from xiaowei.modelling import ModelRegistry

FINGERPRINT = "5e" * 32

MakeModel = Callable[..., Path]


def manifest(**overrides: Any) -> dict[str, Any]:
    """A valid model.json document, with ``overrides`` applied (``None`` removes a key)."""
    doc: dict[str, Any] = {
        "kind": "scorecard",
        "features": ["revenue_growth_12m", "overdue_days_max_6m", "tax_grade"],
        "params": {"bins": 5, "pdo": 20, "base_score": 600},
        "metrics": {"auc": 0.781, "ks": 0.42, "by_split": {"test": {"auc": 0.77}}},
        "data_fingerprint": FINGERPRINT,
        "target": "bad_90d",
        "created_at": "2025-06-30T09:00:00+08:00",
        "trainer": "xiaowei model fit",
    }
    for key, value in overrides.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


@pytest.fixture
def make_model(tmp_path: Path) -> MakeModel:
    """Write a model directory under tmp_path: ``make_model("a", body=b"x", auc=0.8)``."""

    def make(folder: str = "model", body: bytes = b"weights-v1", **overrides: Any) -> Path:
        path = tmp_path / "fits" / folder
        path.mkdir(parents=True, exist_ok=True)
        (path / "model.json").write_text(json.dumps(manifest(**overrides)), encoding="utf-8")
        (path / "body.bin").write_bytes(body)
        return path

    return make


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    return migrated_engine


@pytest.fixture
def registry(engine: Engine) -> ModelRegistry:
    """A registry whose artifacts go under the test's XIAOWEI_HOME/models."""
    return ModelRegistry(engine)
