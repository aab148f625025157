"""`/api/customers/{id}/tags` and `/api/tags`: what the bank knows of a customer, by
category, and the tag catalogue itself.

Why a customer's tags come from the decision log (``decision_log.inputs``, the latest decision
on any of their applications): those are exactly the values the engine read when it decided,
so the answer is what the bank *knew then* and can show an auditor — the same source as the
customer page. The values are the catalogue's (codes, counts, ratios), not personal data, but a
tag the catalogue does not know, or whose name says it holds a name, phone or ID, is masked:
PIPL's minimum necessary, as for ``/api/customers``. A customer outside the caller's scope is
a 404.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from xiaowei.api.deps import engine_of, require_read
from xiaowei.api.paging import Page, PageNo, PageSize, page_of
from xiaowei.data.tags.service import bank_catalogue
from xiaowei.engine.tags.models import CATEGORY_LABELS
from xiaowei.entities.masking import mask_value
from xiaowei.security.principal import Principal, visible_parties
from xiaowei.store.database import transaction
from xiaowei.store.tables import Application, DecisionLog, Party

router = APIRouter(tags=["tags"])
Reader = Annotated[Principal, require_read("customers")]
PERSONAL_SUFFIXES = ("_name", "_phone", "_id_number", "_uscc", "_address")
OTHER = "other"


class Labelled(BaseModel):
    zh: str
    en: str


class CatalogueTag(BaseModel):
    """One tag of the bank's catalogue."""

    id: str = Field(description="the tag's name")
    label: Labelled
    category: str
    category_label: Labelled
    entity: str
    type: str
    unit: str
    cadence: str
    version: int
    owner: str
    description: str


class TagValue(BaseModel):
    id: str = Field(description="the tag's name")
    label: Labelled
    type: str | None
    unit: str | None
    value: bool | int | float | str | None
    masked: bool = Field(description="the value is personal and shown masked")


class TagCategory(BaseModel):
    id: str = Field(description="the category: fact, risk, business (other: not catalogued)")
    label: Labelled
    tags: list[TagValue]


class PartyTags(BaseModel):
    """A customer's latest tags as the engine read them, by category."""

    id: str = Field(description="the customer's party id")
    as_of: dt.datetime | None = Field(description="when the decision that read them was made")
    application_id: str | None
    categories: list[TagCategory]


@cache
def _catalogue() -> dict[str, CatalogueTag]:
    out = {}
    for name, tag in sorted(bank_catalogue().tags.items()):
        d = tag.definition
        zh, en = CATEGORY_LABELS.get(str(d.category), (str(d.category), str(d.category)))
        out[name] = CatalogueTag(
            id=name, label=Labelled(zh=d.label.zh, en=d.label.en), category=str(d.category),
            category_label=Labelled(zh=zh, en=en), entity=d.entity, type=d.type,
            unit=d.unit, cadence=d.cadence, version=d.version, owner=d.owner,
            description=d.description)
    return out


@router.get("/api/tags")
def list_tags(principal: Reader, page: PageNo = 1, size: PageSize = 200,
              category: str | None = None) -> Page[CatalogueTag]:
    """The tag catalogue by name: labels zh/en, category, type, unit, cadence, version."""
    tags = [t for t in _catalogue().values() if category is None or t.category == category]
    return page_of(tags, page, size)


def _personal(name: str, value: Any, known: CatalogueTag | None) -> bool:
    if name.endswith(PERSONAL_SUFFIXES):
        return True
    return known is None and isinstance(value, str)


def _plain(value: Any) -> bool | int | float | str | None:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # a Decimal or a date, as text


def group(inputs: dict[str, Any]) -> list[TagCategory]:
    """The ``tag.*`` values of one decision's inputs, by category (catalogue order), masked
    where personal."""
    catalogue = _catalogue()
    groups: dict[str, list[TagValue]] = {}
    for key, value in sorted(inputs.items()):
        if not key.startswith("tag."):
            continue
        name = key[4:]
        known = catalogue.get(name)
        masked = _personal(name, value, known)
        label = known.label if known else Labelled(zh=name, en=name)
        groups.setdefault(known.category if known else OTHER, []).append(TagValue(
            id=name, label=label, type=known.type if known else None,
            unit=known.unit if known else None,
            value=mask_value(value) if masked else _plain(value), masked=masked))
    order = [c for c in (*CATEGORY_LABELS, OTHER) if c in groups]
    return [TagCategory(id=c, label=Labelled(zh=CATEGORY_LABELS.get(c, ("其他", "other"))[0],
                                             en=CATEGORY_LABELS.get(c, ("其他", "other"))[1]),
                        tags=groups[c]) for c in order]


@router.get("/api/customers/{party_id}/tags")
def party_tags(request: Request, party_id: str, principal: Reader) -> PartyTags:
    """The customer's latest tags by category (404 outside the caller's scope); empty when
    no decision has read any yet."""
    with transaction(engine_of(request)) as session:
        found = session.scalar(select(Party.party_id).where(Party.party_id == party_id,
                                                            visible_parties(principal)))
        if found is None:
            raise HTTPException(404, f"no customer {party_id!r}")
        log = session.scalar(
            select(DecisionLog).join(Application,
                                     Application.application_id == DecisionLog.application_id)
            .where(Application.party_id == party_id)
            .order_by(DecisionLog.decided_at.desc(), DecisionLog.seq.desc()).limit(1))
        if log is None:
            return PartyTags(id=party_id, as_of=None, application_id=None, categories=[])
        return PartyTags(id=party_id, as_of=log.decided_at, application_id=log.application_id,
                         categories=group(dict(log.inputs or {})))
