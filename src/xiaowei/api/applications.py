"""`/v1/applications`: submit one or many applications, read one back. Logic lives in
:mod:`xiaowei.origination.intake`; this router only parses and renders.

The applicant's refusal of a purely automated decision (PIPL art. 24) comes as the header
``X-Automated-Ok: false`` or the body field ``automated_ok: false``. Who submits is the
signed-in principal (``applications:create``); reading one is row-level: an application
outside the caller's scope is a 404, like an unknown one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, HTTPException, Request, Response
from sqlalchemy import select

from xiaowei.api.deps import require, require_read
from xiaowei.origination.decide import ApplicationError
from xiaowei.origination.intake import get_application, submit, submit_batch
from xiaowei.security.principal import Principal, visible_applications
from xiaowei.store.database import transaction
from xiaowei.store.tables import Application

router = APIRouter(prefix="/v1/applications", tags=["applications"])

AutomatedOk = Annotated[bool, Header(alias="X-Automated-Ok")]
Submitter = Annotated[Principal, require("applications:create")]
Reader = Annotated[Principal, require_read("applications")]


def _split(doc: Any, header_ok: bool) -> tuple[Any, bool]:
    """The application without ``automated_ok``, and the applicant's choice (either place)."""
    if not isinstance(doc, dict) or "automated_ok" not in doc:
        return doc, header_ok
    flag = doc["automated_ok"]
    if not isinstance(flag, bool):
        raise ApplicationError([f"automated_ok: expected true or false, got {flag!r}"])
    return {k: v for k, v in doc.items() if k != "automated_ok"}, header_ok and flag


@router.post("", status_code=201)
def post_application(request: Request, response: Response, doc: Annotated[Any, Body()],
                     principal: Submitter, automated_ok: AutomatedOk = True) -> dict[str, Any]:
    """Submit one application: 201 when stored now, 200 when it already was (same payload)."""
    application, ok = _split(doc, automated_ok)
    intake = request.app.state.intake
    result = submit(request.app.state.engine, intake.decider, application, user=principal.name,
                    automated_ok=ok, party_key=intake.party_key)
    if not result.created:
        response.status_code = 200
    return result.to_json()


@router.post("/batch")
def post_batch(request: Request, docs: Annotated[list[Any], Body()], principal: Submitter,
               automated_ok: AutomatedOk = True) -> dict[str, Any]:
    """Submit many; bad rows are listed by position (1-based) and quarantined."""
    intake = request.app.state.intake
    return submit_batch(request.app.state.engine, intake.decider, docs, user=principal.name,
                        automated_ok=automated_ok, party_key=intake.party_key,
                        source="api batch").to_json()


@router.get("/{application_id}")
def read_application(request: Request, application_id: str,
                     principal: Reader) -> dict[str, Any]:
    """The stored decision, manager and status; 404 when the key is unknown or the
    application is outside the caller's scope."""
    engine = request.app.state.engine
    with transaction(engine) as session:
        visible = session.scalar(select(Application.application_id).where(
            Application.application_id == application_id, visible_applications(principal)))
    found = get_application(engine, application_id) if visible is not None else None
    if found is None:
        raise HTTPException(404, f"no application {application_id!r} was submitted")
    return found.to_json()
