"""`/api/strategies`: strategy pack versions — list, show, diff in words, submit, approve,
publish, roll back — through :class:`~xiaowei.strategies.store.StrategyStore`.

Why the store does every rule: maker ≠ checker, the life cycle, the hash check before a version
goes live and the audit rows are the store's, shared with ``xiaowei strategy`` and the pages;
this router only checks the permission (``strategies:read|submit|approve|publish``), reads and
renders. A submission is the pack's YAML as the request body (one file; a pack with list files
is submitted from its folder with the CLI), refused above :data:`MAX_PACK_BYTES` before it is
read; a pack that does not load is a 422 listing every ``file:line`` problem.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from xiaowei.api.deps import engine_of, require
from xiaowei.api.paging import Page, PageNo, PageSize, page_of
from xiaowei.security.principal import Principal
from xiaowei.strategies.errors import (
    InvalidReference,
    PackRefused,
    StrategyError,
    StrategyNotFound,
    TransitionRefused,
)
from xiaowei.strategies.lifecycle import StrategyStatus
from xiaowei.strategies.records import StrategyRecord
from xiaowei.strategies.store import StrategyStore

router = APIRouter(prefix="/api/strategies", tags=["strategies"])
Reader = Annotated[Principal, require("strategies:read")]
Submitter = Annotated[Principal, require("strategies:submit")]
Approver = Annotated[Principal, require("strategies:approve")]
Publisher = Annotated[Principal, require("strategies:publish")]
MAX_PACK_BYTES = 512 * 1024
MAX_NOTE = 2000
_YAML_BODY = {"requestBody": {"required": True, "content": {
    "text/plain": {"schema": {"type": "string", "maxLength": MAX_PACK_BYTES}},
    "application/yaml": {"schema": {"type": "string", "maxLength": MAX_PACK_BYTES}}}}}


class StrategyItem(BaseModel):
    """One pack version (file names, not their text)."""

    id: str = Field(description="name@version")
    name: str
    version: int
    status: str
    status_zh: str
    label: str
    content_hash: str
    pack_version: str = Field(description="the first 12 hex digits of the content hash")
    main_file: str
    files: list[str]
    submitted_by: str
    submitted_at: dt.datetime
    approved_by: str | None
    approved_at: dt.datetime | None


class StrategyEventItem(BaseModel):
    ref: str
    from_status: str | None
    to_status: str
    by: str
    at: dt.datetime
    note: str | None


class StrategyDetail(StrategyItem):
    """A version with its files' text and its audit trail."""

    texts: dict[str, str]
    history: list[StrategyEventItem]


class StrategyDiff(BaseModel):
    id: str = Field(description="old…new")
    old: str
    new: str
    changes: list[str] = Field(description="what changed, one sentence each")


class Submitted(StrategyItem):
    created: bool = Field(description="false: the same content was already submitted")


class Note(BaseModel):
    note: str | None = Field(None, max_length=MAX_NOTE)


class Rollback(BaseModel):
    note: str = Field(min_length=1, max_length=MAX_NOTE, description="why (required)")


def _item(record: StrategyRecord) -> StrategyItem:
    return StrategyItem(
        id=record.ref, name=record.name, version=record.version, status=str(record.status),
        status_zh=record.status.zh, label=record.label, content_hash=record.content_hash,
        pack_version=record.short_hash, main_file=record.main_file,
        files=sorted(record.files), submitted_by=record.submitted_by,
        submitted_at=record.submitted_at, approved_by=record.approved_by,
        approved_at=record.approved_at)


def _refused(exc: StrategyError) -> HTTPException:
    if isinstance(exc, StrategyNotFound | InvalidReference):
        return HTTPException(404, str(exc))
    if isinstance(exc, PackRefused):
        return HTTPException(422, str(exc))
    if isinstance(exc, TransitionRefused):
        return HTTPException(409, str(exc))
    return HTTPException(422, str(exc))


def _store(request: Request) -> StrategyStore:
    return StrategyStore(engine_of(request))


@router.get("")
def list_strategies(request: Request, _: Reader, page: PageNo = 1, size: PageSize = 50,
                    name: Annotated[str | None, Query(max_length=64)] = None,
                    status: StrategyStatus | None = None) -> Page[StrategyItem]:
    """Every version, by name then version; optionally of one pack or in one state."""
    try:
        records = _store(request).versions(name)
    except StrategyError as exc:
        raise _refused(exc) from None
    items = [_item(r) for r in records if status is None or r.status == status]
    return page_of(items, page, size)


@router.get("/{name}/{version}")
def read_strategy(request: Request, name: str, version: int, _: Reader) -> StrategyDetail:
    """One version: record, files' text and audit trail."""
    store = _store(request)
    try:
        record = store.get(f"{name}@{version}")
        history = store.history(record.ref)
    except StrategyError as exc:
        raise _refused(exc) from None
    return StrategyDetail(**_item(record).model_dump(), texts=dict(record.files), history=[
        StrategyEventItem(ref=f"{e.name}@{e.version}",
                          from_status=str(e.from_status) if e.from_status else None,
                          to_status=str(e.to_status), by=e.actor, at=e.occurred_at,
                          note=e.note) for e in history])


@router.get("/{name}/{version}/diff")
async def diff_strategy(request: Request, name: str, version: int, _: Reader,
                        against: Annotated[int, Query(ge=1, description="the older version")]
                        ) -> StrategyDiff:
    """What changed from ``name@against`` to ``name@version``, one sentence each."""
    old, new = f"{name}@{against}", f"{name}@{version}"
    try:
        changes = await run_in_threadpool(_store(request).diff, old, new)
    except StrategyError as exc:
        raise _refused(exc) from None
    return StrategyDiff(id=f"{old}…{new}", old=old, new=new, changes=changes)


@router.post("", status_code=201, openapi_extra=_YAML_BODY)
async def submit_strategy(request: Request, response: Response, principal: Submitter,
                          note: Annotated[str | None, Query(max_length=MAX_NOTE)] = None
                          ) -> Submitted:
    """Submit a pack's YAML (the body) as a draft: 201 when new, 200 when the same content
    was already submitted (that version is returned)."""
    text = await _pack_text(request)
    store, by = _store(request), principal.name

    def submit() -> Submitted:
        with tempfile.TemporaryDirectory(prefix="xiaowei-pack-") as folder:
            path = Path(folder) / "pack.yaml"
            path.write_text(text, "utf-8")
            done = store.submit(path, by, note=note)
        return Submitted(**_item(done.record).model_dump(), created=done.created)

    try:
        submitted = await run_in_threadpool(submit)
    except StrategyError as exc:
        raise _refused(exc) from None
    if not submitted.created:
        response.status_code = 200
    return submitted


async def _pack_text(request: Request) -> str:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_PACK_BYTES:
        raise HTTPException(413, f"a pack may have at most {MAX_PACK_BYTES:,} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_PACK_BYTES:
            raise HTTPException(413, f"a pack may have at most {MAX_PACK_BYTES:,} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(422, "the pack must be UTF-8 text (YAML)") from None
    if not text.strip():
        raise HTTPException(422, "the body is empty: send the pack's YAML")
    return text


async def _step(request: Request, action: str, name: str, version: int, by: str,
                note: str | None) -> StrategyItem:
    store = _store(request)
    steps = {"approve": store.approve, "publish": store.publish}
    try:
        record = await run_in_threadpool(steps[action], f"{name}@{version}", by, note=note)
    except StrategyError as exc:
        raise _refused(exc) from None
    return _item(record)


@router.post("/{name}/{version}/approve")
async def approve_strategy(request: Request, name: str, version: int, principal: Approver,
                           body: Annotated[Note | None, Body()] = None) -> StrategyItem:
    """Checker approval of a draft; the author may not approve their own (maker–checker)."""
    return await _step(request, "approve", name, version, principal.name,
                       (body or Note()).note)


@router.post("/{name}/{version}/publish")
async def publish_strategy(request: Request, name: str, version: int, principal: Publisher,
                           body: Annotated[Note | None, Body()] = None) -> StrategyItem:
    """Make an approved version live; the servers follow within seconds."""
    return await _step(request, "publish", name, version, principal.name,
                       (body or Note()).note)


@router.post("/{name}/rollback")
async def rollback_strategy(request: Request, name: str, principal: Publisher,
                            body: Annotated[Rollback, Body()]) -> StrategyItem:
    """Take the live version out and make the one live before it live again (a note why)."""
    try:
        record = await run_in_threadpool(_store(request).rollback, name, principal.name,
                                         note=body.note)
    except StrategyError as exc:
        raise _refused(exc) from None
    return _item(record)
