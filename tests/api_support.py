"""Helpers the API tests share: settings for the tiny bank's store, and counting stored rows.

A plain module (not conftest) so tests import it like any other code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from xiaowei.config import Settings
from xiaowei.store.tables import (
    Application,
    ApplicationIntake,
    Decision,
    DecisionLog,
    QuarantinedRow,
    Task,
)

STORED = (Application, ApplicationIntake, Decision, DecisionLog, Task, QuarantinedRow)


def bank_settings(store: Engine, bank: dict[str, Any]) -> Settings:
    """Settings pointing at the test store and the tiny bank's analytic file."""
    return Settings(home=Path(bank["home"]),
                    database_url=store.url.render_as_string(hide_password=False),
                    analytic_path=Path(bank["analytic"]))


def model_dirs(bank: dict[str, Any]) -> dict[str, str]:
    """The tiny bank's fitted scorecard, in place of the model registry."""
    return {"app_score": str(bank["model"])}


def stored_counts(store: Engine) -> dict[str, int]:
    """Rows in every table a submission writes to — equal before and after a refusal."""
    with store.connect() as connection:
        return {t.__tablename__: connection.scalar(select(func.count()).select_from(t)) or 0
                for t in STORED}


OPS_USER = "ops.admin"
OPS_PASSWORD = "Ops-Tester-2026-long"


def bearer_headers(client: Any, store: Engine, *, name: str = OPS_USER,
                   role: str = "admin") -> dict[str, str]:
    """An ``Authorization`` header for a new user of ``role`` (admin: submits and reads all
    applications), got the way a channel system gets one: ``POST /api/auth/token``."""
    from xiaowei.security.users import add_user

    add_user(store, name, role, OPS_PASSWORD)
    res = client.post("/api/auth/token", data={"username": name, "password": OPS_PASSWORD})
    assert res.status_code == 200, res.text
    return {"Authorization": f"Bearer {res.json()['access_token']}"}
