"""Every error of the API as RFC 9457 ``application/problem+json``.

Why one module: a client (the bank's channel systems, the pages, a test) parses one error shape
whatever went wrong — ``type``, ``title``, ``status``, ``detail``, ``instance`` and, for a
refused application, ``problems``: every field problem, so a form can mark all of them at once.
The ``request_id`` member ties an answer to the server's log line (see :mod:`xiaowei.api.logs`).

A 500 says nothing of the cause: the exception's message may carry a customer's data or the
database's internals, so the answer is generic and the log keeps only the exception's type and
where it was raised, under the request id.

The OpenAPI document is made to say the same (:func:`document_problems`): every operation's
4xx answers are problems, not FastAPI's default ``HTTPValidationError``.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from xiaowei.origination.decide import ApplicationError
from xiaowei.origination.intake import IntakeConflict, IntakeError, StoreBusy, UnknownParty
from xiaowei.store.retry import is_write_conflict

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:xiaowei:problem:"
log = logging.getLogger("xiaowei.api")


class Problem(BaseModel):
    """An RFC 9457 problem detail, as the OpenAPI document describes every 4xx answer."""

    model_config = ConfigDict(extra="allow")

    type: str = Field("about:blank", description="a URI naming the kind of problem")
    title: str = Field(description="the kind of problem, zh · en")
    status: int = Field(description="the HTTP status code")
    detail: str | None = Field(None, description="what went wrong in this request")
    instance: str | None = Field(None, description="the request's path")
    request_id: str | None = Field(None, description="the X-Request-ID of the request")
    problems: list[str] | None = Field(
        None, description="each field problem as 'field: what is wrong' (422 only)")


def problem_response(request: Request, status: int, *, detail: str | None = None,
                     kind: str | None = None, title: str | None = None,
                     problems: Sequence[str] | None = None,
                     headers: Mapping[str, str] | None = None,
                     extra: Mapping[str, Any] | None = None) -> JSONResponse:
    """A problem answer; ``kind`` (a slug) names a problem of this API, else ``about:blank``
    with the HTTP status phrase as its title, as RFC 9457 asks; ``extra``: more members."""
    phrase = _phrase(status)
    doc: dict[str, Any] = {"type": f"{TYPE_PREFIX}{kind}" if kind else "about:blank",
                           "title": title or phrase, "status": status}
    if detail is not None:
        doc["detail"] = detail
    doc["instance"] = request.url.path
    request_id = request_id_of(request)
    if request_id:
        doc["request_id"] = request_id
    if problems is not None:
        doc["problems"] = list(problems)
    doc.update(extra or {})
    out = dict(headers or {})
    if request_id:
        out.setdefault("X-Request-ID", request_id)
    return JSONResponse(doc, status, headers=out, media_type=MEDIA_TYPE)


def request_id_of(request: Request) -> str | None:
    """The id the request-id middleware gave this request (kept in the ASGI scope's state)."""
    state = request.scope.get("state")
    return state.get("request_id") if isinstance(state, Mapping) else None


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _location(loc: Sequence[Any]) -> str:
    """``('body', 'amount')`` → ``amount``; ``('header', 'X-User')`` → ``header X-User``."""
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    elif parts and parts[0] in ("query", "path", "header", "cookie"):
        parts = [f"{parts[0]} {'.'.join(parts[1:])}"]
    return ".".join(parts) or "body"


async def _invalid_application(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApplicationError)
    return problem_response(request, 422, kind="invalid-application",
                            title="申请无效 · invalid application",
                            detail=f"{len(exc.problems)} field problem(s) in the application",
                            problems=exc.problems)


def _store_busy(request: Request) -> JSONResponse:
    return problem_response(request, 503, kind="store-busy",
                            title="系统繁忙 · store busy",
                            detail="the store is busy with concurrent writes; nothing was "
                                   "stored, try again", headers={"Retry-After": "1"})


async def _locked(request: Request, exc: Exception) -> JSONResponse:
    """A write that met a lock (SQLite's "database is locked", a serialisation failure) is
    a 503 the client may retry, not a 500: nothing was stored."""
    assert isinstance(exc, OperationalError)
    if is_write_conflict(exc):
        return _store_busy(request)
    return await _server_error(request, exc)


async def _intake_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, StoreBusy):
        return _store_busy(request)
    if isinstance(exc, IntakeConflict):
        return problem_response(request, 409, kind="application-key-conflict",
                                title="申请编号冲突 · application key conflict",
                                detail=str(exc), problems=[str(exc)])
    kind, title = (("unknown-party", "客户未登记 · unknown party")
                   if isinstance(exc, UnknownParty)
                   else ("application-refused", "申请被拒收 · application refused"))
    return problem_response(request, 422, kind=kind, title=title, detail=str(exc),
                            problems=[str(exc)])


async def _request_invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [f"{_location(e.get('loc', ()))}: {e.get('msg', 'invalid')}"
                for e in exc.errors()]
    return problem_response(request, 422, kind="invalid-request",
                            title="请求无效 · invalid request",
                            detail=f"{len(problems)} problem(s) in the request",
                            problems=problems)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    problems = ([str(p) for p in exc.detail] if isinstance(exc.detail, list) else None)
    return problem_response(request, exc.status_code, detail=detail, problems=problems,
                            headers=exc.headers)


async def _server_error(request: Request, exc: Exception) -> JSONResponse:
    """A generic 500; the log names the exception's type and place, never its message."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
    log.error("unhandled %s at %s (request %s)", type(exc).__name__, where,
              request_id_of(request) or "-")
    return problem_response(request, 500, kind="internal-error",
                            title="服务内部错误 · internal error",
                            detail="the server failed to answer; quote the request id to "
                                   "the operators")


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` as a problem, and say so in its OpenAPI document."""
    app.add_exception_handler(ApplicationError, _invalid_application)
    app.add_exception_handler(IntakeError, _intake_error)
    app.add_exception_handler(OperationalError, _locked)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _server_error)
    document_problems(app)


def document_problems(app: FastAPI) -> None:
    """Make ``app.openapi()`` describe every 4xx answer as a :class:`Problem`."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        _patch(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _patch(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = Problem.model_json_schema()
    problem = {"description": "a problem (RFC 9457)",
               "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for code in list(responses):
                if code.startswith("4"):
                    responses[code] = {**problem, "description": responses[code].get(
                        "description", problem["description"])}
            responses.setdefault("4XX", problem)
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)


__all__ = ["MEDIA_TYPE", "Problem", "install_problem_handlers", "problem_response",
           "request_id_of"]
