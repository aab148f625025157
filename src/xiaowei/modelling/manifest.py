"""``model.json``: the description every model directory carries, checked before registration.

Why the registry checks it rather than trusting the writer: the registry copies these fields
into the store, where approvers, auditors and strategies read them without opening files. A
model registered without its features or its training-data fingerprint could never be
explained or reproduced, so it is refused at the door with the key and the file named.

The contract (written by ``xiaowei model fit --out DIR``): a JSON object with at least
``kind``, ``features``, ``params``, ``metrics``, ``data_fingerprint``, ``target`` and
``created_at``; other keys are kept in the file and ignored here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from xiaowei.modelling.errors import ManifestError

MANIFEST = "model.json"
HEX = re.compile(r"[0-9a-f]{16,128}")
KIND = re.compile(r"[a-z][a-z0-9_]{0,31}")


class ModelManifest(BaseModel):
    """The fields of ``model.json`` the registry stores; unknown keys are allowed and kept."""

    model_config = ConfigDict(extra="allow", frozen=True)

    kind: str = Field(description="what sort of model: 'scorecard', 'gbdt', …")
    features: list[str] = Field(description="input columns, in the order the model reads them")
    params: dict[str, Any]
    metrics: dict[str, Any]
    data_fingerprint: str = Field(description="hex digest of the training data (sha256)")
    target: str
    created_at: AwareDatetime

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if not KIND.fullmatch(value):
            raise ValueError(
                f"must be a lower-case word like 'scorecard' or 'gbdt' (≤ 32 characters), "
                f"got {value!r}"
            )
        return value

    @field_validator("features")
    @classmethod
    def _features(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("must list at least one feature")
        blank = [i for i, f in enumerate(value) if not f.strip()]
        if blank:
            raise ValueError(f"entry {blank[0]} is blank")
        repeated = sorted(f for f, n in Counter(value).items() if n > 1)
        if repeated:
            raise ValueError(f"features listed twice: {', '.join(repeated)}")
        return value

    @field_validator("data_fingerprint")
    @classmethod
    def _fingerprint(cls, value: str) -> str:
        if not HEX.fullmatch(value):
            raise ValueError(
                f"must be a lower-case hex digest (a sha256 has 64 characters), got {value!r}"
            )
        return value

    @field_validator("target")
    @classmethod
    def _target(cls, value: str) -> str:
        if not value.strip() or len(value) > 128:
            raise ValueError(f"must name the target column (1–128 characters), got {value!r}")
        return value

    @property
    def created_at_utc(self) -> dt.datetime:
        """``created_at`` in UTC, as the store keeps instants."""
        return self.created_at.astimezone(dt.UTC)


def _refuse_constant(token: str) -> Any:
    # NaN and Infinity are not JSON; PostgreSQL's JSON type would refuse them later, far from
    # the file that holds them.
    raise ValueError(f"{token} is not valid JSON (write null for an undefined metric)")


def read_manifest(directory: str | Path) -> ModelManifest:
    """Read and check ``directory/model.json``; :class:`ManifestError` naming key and file."""
    folder = Path(directory)
    if not folder.is_dir():
        raise ManifestError(f"{folder}: is not a directory (expected a model directory)")
    path = folder / MANIFEST
    if not path.is_file():
        raise ManifestError(f"{path}: is missing (every model directory needs a {MANIFEST})")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: cannot be read as UTF-8 text ({exc})") from exc
    try:
        doc = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ManifestError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    except ValueError as exc:
        raise ManifestError(f"{path}: {exc}") from exc
    if not isinstance(doc, dict):
        raise ManifestError(f"{path}: must hold a JSON object, got {type(doc).__name__}")
    try:
        return ModelManifest.model_validate(doc)
    except ValidationError as exc:
        raise ManifestError(f"{path}: " + "; ".join(_problems(exc))) from exc


def _problems(exc: ValidationError) -> list[str]:
    """One phrase per problem, naming the key: "missing key 'features'"."""
    problems = []
    for error in exc.errors(include_url=False):
        key = ".".join(str(part) for part in error["loc"]) or "(document)"
        if error["type"] == "missing":
            problems.append(f"missing key '{key}'")
            continue
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "timezone_aware":
            message = "must carry a time-zone offset, e.g. 2025-06-30T09:00:00+08:00"
        problems.append(f"key '{key}': {message}")
    return problems
