"""`/api/customers/{id}/tags` (the tags the engine last read, by category; 404 outside scope)
and `/api/tags` (the catalogue)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.api.desk_support import Desk, open_desk

from xiaowei.api.tags import group


@pytest.fixture
def desk(pipeline_store: Engine, pipeline_bank: dict[str, Any]) -> Iterator[Desk]:
    with open_desk(pipeline_store, pipeline_bank) as opened:
        yield opened


def test_catalogue_is_paged_and_labelled(desk: Desk) -> None:
    whole = desk.client.get("/api/tags", headers=desk.as_("cm")).json()
    assert whole["total"] == len(whole["items"]) > 20
    names = [t["id"] for t in whole["items"]]
    assert names == sorted(names)
    first = whole["items"][0]
    assert first["label"]["zh"] and first["label"]["en"] and first["version"] >= 1
    assert {t["category"] for t in whole["items"]} <= {"fact", "risk", "business"}
    risk = desk.client.get("/api/tags", params={"category": "risk", "size": 3},
                           headers=desk.as_("cm")).json()
    assert len(risk["items"]) == 3 and all(t["category"] == "risk" for t in risk["items"])
    assert desk.client.get("/api/tags", params={"size": 201},
                           headers=desk.as_("cm")).status_code == 422


def test_a_customers_tags_within_scope(desk: Desk, pipeline_bank: dict[str, Any]) -> None:
    desk.review(pipeline_bank, "TG-1")
    party = desk.scalar("select party_id from application where application_id = 'TG-1'")
    res = desk.client.get(f"/api/customers/{party}/tags", headers=desk.as_("approver"))
    assert res.status_code == 200, res.text
    doc = res.json()
    assert doc["id"] == party and doc["application_id"] == "TG-1"
    categories = [c["id"] for c in doc["categories"]]
    assert categories and categories[0] == "fact"
    values = {t["id"]: t for c in doc["categories"] for t in c["tags"]}
    assert values["party_type"]["value"] in ("enterprise", "individual_business",
                                             "business_owner")
    for name, status in {"approver.x": 404, "cm.x": 404, "analyst.a": 200,
                         "supervisor": 200}.items():
        got = desk.client.get(f"/api/customers/{party}/tags", headers=desk.as_(name))
        assert got.status_code == status, name
    assert desk.client.get("/api/customers/NO-SUCH/tags",
                           headers=desk.as_("admin")).status_code == 404


def test_personal_values_are_masked() -> None:
    groups = group({"tag.legal_rep_name": "张三丰", "tag.party_type": "enterprise",
                    "tag.unknown_text": "13812345678", "app.amount": 5})
    values = {t.id: t for c in groups for t in c.tags}
    assert set(values) == {"legal_rep_name", "party_type", "unknown_text"}
    assert values["legal_rep_name"].masked and values["legal_rep_name"].value != "张三丰"
    assert values["unknown_text"].masked and "12345" not in str(values["unknown_text"].value)
    assert not values["party_type"].masked and values["party_type"].value == "enterprise"
