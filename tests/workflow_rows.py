"""Rows the review-queue, due-diligence and CLI tests need: a migrated store holding one
branch, one manager, one party and applications with an engine decision in the log.

A normal module (not a conftest) so tests import it by name.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from xiaowei.store.database import transaction
from xiaowei.store.tables import (
    Application,
    ApplicationIntake,
    Branch,
    CustomerManager,
    DecisionLog,
    Party,
)

APPLIED = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
MANAGER = "M001"


def seed_bank(engine: Engine) -> None:
    """The branch, the manager and the party every application below belongs to."""
    with transaction(engine) as session:
        session.add_all([
            Branch(branch_id="B001", name="西湖支行", region_code="330106"),
            CustomerManager(manager_id=MANAGER, name="王经理", branch_id="B001", risk_tier=2,
                            hired_on=dt.date(2020, 1, 1)),
            Party(party_id="P001", party_type="enterprise", uscc="91330106MA2XXXXX1L",
                  name="杭州某某贸易有限公司", name_masked="杭州**贸易有限公司",
                  region_code="330106", industry_code="F51", created_at=APPLIED),
        ])


def seed_application(engine: Engine, application_id: str, *, amount: str = "500000",
                     outcome: str = "review", mode: str = "human", limit: str | None = "400000",
                     dd_level: str = "none", manager: str | None = MANAGER) -> str:
    """An application with its intake record and one engine decision in the log."""
    outputs: dict[str, Any] = {
        "outcome": outcome, "mode": mode, "grade": "C1", "segment": "enterprise",
        "reasons": [{"code": "RT03", "zh": "评级C2且金额较大", "en": "grade C2 with a large amount",
                     "node": "rating"}],
        "scores": {"scorecard": 0.083}}
    with transaction(engine) as session:
        session.add(Application(
            application_id=application_id, party_id="P001", applied_at=APPLIED,
            channel="mobile", product_intent="working_capital", amount=Decimal(amount),
            term_months=12, manager_id=manager, branch_id="B001", status="submitted"))
        session.flush()
        session.add(ApplicationIntake(
            application_id=application_id, payload_sha256="0" * 64, received_at=APPLIED,
            received_by="channel", automated_ok=True, status="decided"))
        session.add(DecisionLog(
            decision_id=f"L{application_id}", application_id=application_id, seq=1,
            decided_at=APPLIED, pack="default", pack_version="abc123", models={},
            inputs={"tag.tax_sales_12m": 2400000, "app.amount": int(Decimal(amount))},
            outputs=outputs,
            trace=[{"node": "rating", "kind": "table", "flow": "main",
                    "outputs": {"grade": "C1"}, "hits": ["RT03"], "micros": 3.0}],
            outcome=outcome, mode=mode, dd_level=dd_level, manager_tier=2,
            limit_amount=Decimal(limit) if limit is not None else None, micros=120.0))
    return application_id


def intake_status(engine: Engine, application_id: str) -> str:
    with transaction(engine) as session:
        return session.get_one(ApplicationIntake, application_id).status
