"""`/api/models`: the model registry — list, show (with links to the version's report files),
approve, retire — through :class:`~xiaowei.modelling.registry.ModelRegistry`.

Why the registry does every rule: maker ≠ checker (the registrant may not approve), the life
cycle and the audit rows are shared with ``xiaowei model`` and the pages; this router checks
``models:read`` / ``models:approve`` and renders. A version's report files (HTML, Markdown,
SVG, CSV, JSON, text among its registered files) are listed by link and served from the
registry's folder only when registered under that exact name — never any other path.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path, PurePosixPath
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, HTTPException, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from xiaowei.api.deps import engine_of, require
from xiaowei.api.paging import Page, PageNo, PageSize, page_of
from xiaowei.modelling.errors import (
    InvalidReference,
    ModelNotFound,
    RegistryError,
    TransitionRefused,
)
from xiaowei.modelling.lifecycle import ModelStatus
from xiaowei.modelling.records import ModelRecord
from xiaowei.modelling.registry import MODELS_DIR, ModelRegistry
from xiaowei.security.principal import Principal

router = APIRouter(prefix="/api/models", tags=["models"])
Reader = Annotated[Principal, require("models:read")]
Approver = Annotated[Principal, require("models:approve")]
MAX_NOTE = 2000
REPORT_TYPES = {".html": "text/html", ".md": "text/markdown", ".svg": "image/svg+xml",
                ".csv": "text/csv", ".json": "application/json", ".txt": "text/plain"}
_FILE_RESPONSES: dict[int | str, dict[str, Any]] = {200: {
    "description": "the report file", "content": {t: {"schema": {"type": "string"}}
                                                  for t in sorted(set(REPORT_TYPES.values()))}}}


class ReportLink(BaseModel):
    name: str
    media_type: str
    href: str


class ModelItem(BaseModel):
    """One registered model version."""

    id: str = Field(description="name@version")
    name: str
    version: int
    kind: str
    status: str
    status_zh: str
    target: str
    features: int = Field(description="how many features it reads")
    metrics: dict[str, Any]
    content_hash: str
    registered_by: str
    registered_at: dt.datetime
    approved_by: str | None
    approved_at: dt.datetime | None
    retired_by: str | None
    retired_at: dt.datetime | None


class ModelEventItem(BaseModel):
    from_status: str | None
    to_status: str
    by: str
    at: dt.datetime
    note: str | None


class ModelDetail(ModelItem):
    """A version with its features, parameters, files, report links and audit trail."""

    feature_names: list[str]
    params: dict[str, Any]
    files: list[str]
    reports: list[ReportLink]
    history: list[ModelEventItem]


class Note(BaseModel):
    note: str | None = Field(None, max_length=MAX_NOTE)


def _registry(request: Request) -> ModelRegistry:
    return ModelRegistry(engine_of(request), Path(request.app.state.home) / MODELS_DIR)


def _item(r: ModelRecord) -> ModelItem:
    return ModelItem(id=r.ref, name=r.name, version=r.version, kind=r.kind,
                     status=str(r.status), status_zh=r.status.zh, target=r.target,
                     features=len(r.features), metrics=dict(r.metrics or {}),
                     content_hash=r.content_hash, registered_by=r.registered_by,
                     registered_at=r.registered_at, approved_by=r.approved_by,
                     approved_at=r.approved_at, retired_by=r.retired_by,
                     retired_at=r.retired_at)


def _refused(exc: RegistryError) -> HTTPException:
    if isinstance(exc, ModelNotFound | InvalidReference):
        return HTTPException(404, str(exc))
    if isinstance(exc, TransitionRefused):
        return HTTPException(409, str(exc))
    return HTTPException(422, str(exc))


def _record(request: Request, name: str, version: int) -> ModelRecord:
    try:
        return _registry(request).get(f"{name}@{version}")
    except RegistryError as exc:
        raise _refused(exc) from None


@router.get("")
def list_models(request: Request, _: Reader, page: PageNo = 1, size: PageSize = 50,
                name: Annotated[str | None, Query(max_length=64)] = None,
                status: ModelStatus | None = None) -> Page[ModelItem]:
    """Every registered version, by name then version; optionally of one name or state."""
    try:
        records = _registry(request).versions(name, status)
    except RegistryError as exc:
        raise _refused(exc) from None
    return page_of([_item(r) for r in records], page, size)


def _reports(record: ModelRecord) -> list[ReportLink]:
    base = f"/api/models/{quote(record.name)}/{record.version}/files/"
    return [ReportLink(name=f, media_type=REPORT_TYPES[PurePosixPath(f).suffix.lower()],
                       href=base + quote(f)) for f in sorted(record.files)
            if PurePosixPath(f).suffix.lower() in REPORT_TYPES]


@router.get("/{name}/{version}")
def read_model(request: Request, name: str, version: int, _: Reader) -> ModelDetail:
    """One version (404 when unknown): record, report links and audit trail."""
    record = _record(request, name, version)
    try:
        history = _registry(request).history(record.ref)
    except RegistryError as exc:
        raise _refused(exc) from None
    return ModelDetail(
        **_item(record).model_dump(), feature_names=list(record.features),
        params=dict(record.params or {}), files=sorted(record.files), reports=_reports(record),
        history=[ModelEventItem(from_status=str(e.from_status) if e.from_status else None,
                                to_status=str(e.to_status), by=e.actor, at=e.occurred_at,
                                note=e.note) for e in history])


@router.get("/{name}/{version}/files/{file_name:path}", response_class=FileResponse,
            responses=_FILE_RESPONSES)
def model_file(request: Request, name: str, version: int, file_name: str,
               _: Reader) -> FileResponse:
    """One report file of the version, as registered (404 for any other name)."""
    record = _record(request, name, version)
    suffix = PurePosixPath(file_name).suffix.lower()
    path = (record.path / file_name).resolve()
    if (file_name not in record.files or suffix not in REPORT_TYPES
            or not path.is_relative_to(record.path.resolve()) or not path.is_file()):
        raise HTTPException(404, f"{record.ref} has no report file {file_name!r}")
    return FileResponse(path, media_type=REPORT_TYPES[suffix],
                        headers={"X-Content-Type-Options": "nosniff",
                                 "Content-Security-Policy": "sandbox"})


async def _step(request: Request, action: str, name: str, version: int, principal: Principal,
                note: str | None) -> ModelItem:
    registry = _registry(request)
    step = registry.approve if action == "approve" else registry.retire
    try:
        record = await run_in_threadpool(step, f"{name}@{version}", principal.name, note=note)
    except RegistryError as exc:
        raise _refused(exc) from None
    return _item(record)


@router.post("/{name}/{version}/approve")
async def approve_model(request: Request, name: str, version: int, principal: Approver,
                        body: Annotated[Note | None, Body()] = None) -> ModelItem:
    """Approve a draft for production; the registrant may not approve their own."""
    return await _step(request, "approve", name, version, principal, (body or Note()).note)


@router.post("/{name}/{version}/retire")
async def retire_model(request: Request, name: str, version: int, principal: Approver,
                       body: Annotated[Note | None, Body()] = None) -> ModelItem:
    """Retire an approved version, or withdraw a draft (final)."""
    return await _step(request, "retire", name, version, principal, (body or Note()).note)
