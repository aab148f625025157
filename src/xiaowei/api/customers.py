"""`/api/customers`: the customers the caller may see, masked; one customer, unmasked only
on request with ``pii:view`` — and then the view is audited.

Why masked by default even for roles allowed to unmask: PIPL's "minimum necessary" — a list
page never needs a full ID number, and each unmasking leaves an audit entry (``pii.view``),
so it should happen only when a person asks for it (``?reveal=true``). A customer outside the
caller's scope is a 404, indistinguishable from one that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from sqlalchemy import func, select

from xiaowei.api.deps import engine_of, require_read
from xiaowei.entities.masking import mask_id_number, mask_phone, mask_uscc
from xiaowei.security import audit
from xiaowei.security.principal import Principal, visible_parties
from xiaowei.store.database import transaction
from xiaowei.store.tables import Application, Loan, Party

router = APIRouter(prefix="/api/customers", tags=["customers"])
Reader = Annotated[Principal, require_read("customers")]
MAX_SIZE = 200

_applications = (select(func.count()).where(Application.party_id == Party.party_id)
                 .correlate(Party).scalar_subquery().label("applications"))
_loans = (select(func.count()).where(Loan.party_id == Party.party_id)
          .correlate(Party).scalar_subquery().label("loans"))
_SUMMARY = (Party.party_id, Party.party_type, Party.name_masked, Party.region_code,
            Party.industry_code, _applications, _loans)


def _summary(row: Any) -> dict[str, Any]:
    return {"id": row.party_id, "party_type": row.party_type, "name_masked": row.name_masked,
            "region_code": row.region_code, "industry_code": row.industry_code,
            "applications": row.applications, "loans": row.loans}


@router.get("")
def list_customers(request: Request, principal: Reader,
                   page: Annotated[int, Query(ge=1)] = 1,
                   size: Annotated[int, Query(ge=1, le=MAX_SIZE)] = 50) -> dict[str, Any]:
    """A page of the customers the caller may see, by id, personal data masked."""
    visible = visible_parties(principal)
    with transaction(engine_of(request)) as session:
        total = session.scalar(select(func.count()).select_from(Party).where(visible)) or 0
        rows = session.execute(select(*_SUMMARY).where(visible).order_by(Party.party_id)
                               .offset((page - 1) * size).limit(size)).all()
    return {"items": [_summary(r) for r in rows], "page": page, "size": size, "total": total}


@router.get("/{party_id}")
def read_customer(request: Request, party_id: str, principal: Reader,
                  reveal: bool = False) -> dict[str, Any]:
    """One customer (404 outside the caller's scope); ``reveal=true`` unmasks the name, ID
    number and phone for a role with ``pii:view`` (403 without), and audits the view."""
    if reveal and not principal.has("pii:view"):
        raise HTTPException(403, f"{principal.name} ({principal.role}) lacks permission "
                                 "'pii:view'")
    with transaction(engine_of(request)) as session:
        row = session.execute(select(*_SUMMARY).where(Party.party_id == party_id,
                                                      visible_parties(principal))).first()
        if row is None:
            raise HTTPException(404, f"no customer {party_id!r}")
        party = session.get_one(Party, party_id)
        doc = {**_summary(row), "uscc_masked": mask_uscc(party.uscc),
               "id_number_masked": mask_id_number(party.id_number),
               "phone_masked": mask_phone(party.phone),
               "established_on": party.established_on.isoformat()
               if party.established_on else None}
        if reveal:
            doc["pii"] = {"name": party.name, "id_number": party.id_number,
                          "phone": party.phone, "uscc": party.uscc}
            audit.record(session, principal.name, "pii.view", ("party", party_id),
                         {"fields": sorted(k for k, v in doc["pii"].items() if v is not None),
                          "via": "GET /api/customers/{id}", "role": principal.role})
    return doc
