"""The customer 360 after a nightly batch: the tags come from the batch's history (with the day
each changed), and a post-loan panel shows each loan's class, stage and track and the warnings
raised for the borrower, in the catalogue's words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from tests.postloan.bank_copy import copy_bank
from tests.web.workbench import sign_in, workbench_app

from xiaowei.data.tags.service import data_as_of
from xiaowei.postloan.monitoring import run_monitoring
from xiaowei.postloan.warning_catalogue import load_warning_catalogue
from xiaowei.store.analytic import AnalyticStore
from xiaowei.store.database import transaction
from xiaowei.store.tables import Loan


def test_the_customer_page_shows_the_batch(pipeline_bank: dict[str, Any],
                                           pipeline_store: Engine, tmp_path: Path) -> None:
    copy = copy_bank(pipeline_bank, tmp_path / "bank")
    with AnalyticStore(copy, read_only=False) as analytic:
        day = data_as_of(analytic)
        run_monitoring(analytic, day, full_tags=True)  # the tag history too
        warned = analytic.connection.execute(
            "SELECT d.loan_id, w.signal FROM postloan.warning w JOIN postloan.loan_day d "
            "ON d.party_id = w.party_id AND d.as_of = w.raised_on "
            "WHERE w.raised_on = ? ORDER BY w.level_rank DESC, d.loan_id LIMIT 50",
            [day]).fetchall()
    with transaction(pipeline_store) as session:
        known = dict(session.execute(select(Loan.loan_id, Loan.party_id).where(
            Loan.loan_id.in_([loan for loan, _ in warned]))).all())
    loan, signal = next((lo, s) for lo, s in warned if lo in known)
    app, passwords = workbench_app(pipeline_store, {**pipeline_bank, "analytic": copy})
    with TestClient(app, base_url="https://testserver") as client:
        sign_in(client, passwords, "risk_analyst")
        page = client.get(f"/web/customers/{known[loan]}")
    assert page.status_code == 200, page.text
    html = page.text
    assert "贷后监测" in html and loan in html
    assert load_warning_catalogue().signal(signal).zh in html
    assert "贷后日批保存的标签取值" in html  # the tags came from the batch's history
    assert any(word in html for word in ("正常", "关注", "次级", "可疑", "损失"))
