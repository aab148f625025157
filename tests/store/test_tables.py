"""Every table round-trips exactly on both backends; constraints refuse bad rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from xiaowei.security.pii import blind_index
from xiaowei.store.database import session_factory, transaction
from xiaowei.store.tables import (
    ApiToken,
    Application,
    ApplicationIntake,
    AppUser,
    AuditLog,
    Base,
    Branch,
    CustomerManager,
    Decision,
    DecisionLog,
    LoadBatch,
    Loan,
    LoanPayment,
    LoginAttempt,
    ModelEvent,
    ModelVersion,
    Party,
    QuarantinedRow,
    Repayment,
    StaffEvent,
    StrategyEvent,
    StrategyLive,
    StrategyVersion,
    Task,
    TaskEvent,
    WebSession,
)

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
APPLIED = dt.datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=SHANGHAI)
ID_NUMBER = "33010619900101123X"


def book() -> list[Base]:
    """One row of every table, parents first, with the awkward values a bank really has."""
    return [
        Branch(branch_id="B000", name="杭州分行", region_code="330100"),
        Branch(branch_id="B001", name="西湖支行", region_code="330106", parent_id="B000"),
        CustomerManager(
            manager_id="M001",
            name="王经理",
            branch_id="B001",
            risk_tier=2,
            hired_on=dt.date(2019, 7, 1),
            phone="13812345678",
        ),
        Party(
            party_id="P00000001",
            party_type="enterprise",
            uscc="91330106MA2XXXXX1L",
            name="杭州某某贸易有限公司",
            name_masked="杭州****有限公司",
            region_code="330106",
            industry_code="F5191",
            established_on=dt.date(2016, 4, 18),
            created_at=APPLIED,
        ),
        Party(
            party_id="P00000002",
            party_type="business_owner",
            id_number=ID_NUMBER,
            id_number_index=blind_index(ID_NUMBER),
            name="张三丰",
            name_masked="张**",
            phone="13912345678",
            region_code="330106",
            created_at=APPLIED,
        ),
        Application(
            application_id="A0001",
            party_id="P00000001",
            applied_at=APPLIED,
            channel="mobile",
            product_intent="经营贷",
            amount=Decimal("1234567.89"),
            term_months=12,
            manager_id="M001",
            branch_id="B001",
            status="approved",
            source_ref="core:778899",
        ),
        Decision(
            decision_id="D0001",
            application_id="A0001",
            outcome="approve",
            decided_at=APPLIED + dt.timedelta(minutes=3),
            decided_by="engine",
            reasons=[{"code": "R001", "zh": "纳税评级A", "en": "tax grade A", "weight": 0.25}],
            approved_amount=Decimal("1000000.00"),
            strategy_version="admission/v3",
        ),
        Loan(
            loan_id="L0001",
            application_id="A0001",
            party_id="P00000001",
            principal=Decimal("1000000.00"),
            annual_rate=Decimal("0.043500"),
            term_months=12,
            start_date=dt.date(2025, 3, 5),
            maturity_date=dt.date(2026, 3, 5),
            repayment_method="equal_installment",
            status="active",
        ),
        Repayment(
            loan_id="L0001",
            period=1,
            due_date=dt.date(2025, 4, 5),
            principal_due=Decimal("81698.03"),
            interest_due=Decimal("3625.00"),
            paid_on=dt.date(2025, 4, 3),
            paid_amount=Decimal("85323.03"),
        ),
        Repayment(
            loan_id="L0001",
            period=2,
            due_date=dt.date(2025, 5, 5),
            principal_due=Decimal("81994.19"),
            interest_due=Decimal("3328.84"),
            paid_amount=Decimal("0.00"),
        ),
        LoanPayment(
            payment_id="PAY-0001",
            loan_id="L0001",
            paid_on=dt.date(2025, 4, 3),
            amount=Decimal("85323.03"),
            allocation={"penalty": "0.00", "interest": "3625.00", "principal": "81698.03",
                        "suspense": "0.00"},
            received_at=dt.datetime(2025, 4, 3, 10, 15, tzinfo=dt.UTC),
            received_by="teller.wu",
        ),
        Task(
            task_id="T0001",
            kind="dd_visit",
            status="open",
            party_id="P00000001",
            application_id="A0001",
            assignee_id="M001",
            created_at=APPLIED,
            due_at=APPLIED + dt.timedelta(days=2),
            payload={"dd_level": "light", "checklist": ["门头照片", "库存"], "n": 3},
            claimed_by="li.na",
            claimed_at=APPLIED + dt.timedelta(hours=1),
            result={"verdict": "ok", "photos": 2},
            queue="due_diligence",
            revision=2,
        ),
        TaskEvent(
            event_id=1,
            task_id="T0001",
            at=APPLIED + dt.timedelta(hours=1),
            actor="li.na",
            action="claim",
            from_status="open",
            to_status="claimed",
            note="认领 claimed",
            detail={"queue": "due_diligence"},
        ),
        ApplicationIntake(
            application_id="A0001",
            payload_sha256="5e" * 32,
            received_at=APPLIED,
            received_by="wang.li",
            channel_ref="web-7f3a",
            automated_ok=False,
            status="in_review",
        ),
        DecisionLog(
            decision_id="D-A0001-1",
            application_id="A0001",
            seq=1,
            decided_at=APPLIED,
            pack="default",
            pack_version="6f" * 32,
            models={"app_score@approved": "app_score@3"},
            inputs={"app.amount": 1234567.89, "tag.纳税等级": "A", "tag.x": None},
            outputs={"outcome": "review", "mode": "human", "limit": 0},
            trace=[{"node": "antifraud", "hits": ["AF01"], "micros": 3.5}],
            outcome="review",
            mode="human",
            dd_level="deep",
            manager_tier=3,
            limit_amount=Decimal("500000.00"),
            micros=812.5,
        ),
        LoadBatch(
            batch_id="20250301-0001",
            source_dir="/data/in/2025-03-01",
            started_at=APPLIED,
            finished_at=APPLIED + dt.timedelta(seconds=42),
            status="done",
            rows_in=3,
            rows_accepted=2,
            rows_quarantined=1,
            fingerprint="sha256:abc",
        ),
        QuarantinedRow(
            batch_id="20250301-0001",
            table_name="applications",
            row_number=7,
            column_name="id_number",
            reason="校验位错误 bad check digit",
            raw={"id_number": "330106********1234", "amount_fen": 100, "note": None},
        ),
        StaffEvent(
            event_id="APP-M001-000001",
            kind="checkin",
            manager_id="M001",
            occurred_at=APPLIED,
            received_at=APPLIED + dt.timedelta(seconds=3),
            lat=30.259243,
            lon=120.130274,
            accuracy_m=12.5,
            mock_location=False,
            device_id="MD-M001",
            payload={"purpose": "贷前调查", "application_no": "A0001"},
            content_hash="9c" * 32,
            batch_id="20250301-0001",
        ),
        ModelVersion(
            name="admission_scorecard",
            version=1,
            kind="scorecard",
            status="approved",
            content_hash="0f" * 32,
            files={"model.json": "1a" * 32, "body/weights.bin": "2b" * 32},
            data_fingerprint="3c" * 32,
            target="bad_90d",
            features=["revenue_growth_12m", "纳税等级"],
            params={"bins": 5, "pdo": 20, "nested": {"a": [1, 2.5, None]}},
            metrics={"auc": 0.781, "ks": 0.42},
            created_at=APPLIED,
            source_dir="/data/fits/2025-06",
            registered_by="wang.li",
            registered_at=APPLIED,
            approved_by="li.na",
            approved_at=APPLIED,
        ),
        ModelEvent(
            name="admission_scorecard",
            version=1,
            from_status="draft",
            to_status="approved",
            actor="li.na",
            occurred_at=APPLIED,
            note="四眼复核 second-person review",
        ),
        StrategyVersion(
            name="admission",
            version=1,
            status="live",
            content_hash="4d" * 32,
            label="2025.1",
            main_file="pack.yaml",
            files={"pack.yaml": "pack:\n  name: admission\n", "lists/黑名单.txt": "138\n"},
            source_path="/data/packs/admission",
            submitted_by="zhao.min",
            submitted_at=APPLIED,
            approved_by="li.na",
            approved_at=APPLIED,
        ),
        StrategyEvent(
            name="admission",
            version=1,
            from_status="approved",
            to_status="live",
            actor="chen.gang",
            occurred_at=APPLIED,
            note="上线 go live",
        ),
        StrategyLive(
            name="admission",
            version=1,
            content_hash="4d" * 32,
            since=APPLIED,
            switched_by="chen.gang",
        ),
        AppUser(user_id="U0001", name="wang.li", display_name="王立", role="customer_manager",
                branch_id="B001", manager_id="M001", password_hash="$argon2id$v=19$x",
                active=True, created_at=APPLIED, password_changed_at=APPLIED),
        ApiToken(token_id="0123456789abcdef", user_id="U0001", secret_sha256="5e" * 32,
                 scopes=["customers", "applications:create"], created_at=APPLIED,
                 expires_at=APPLIED + dt.timedelta(days=30), revoked_at=None,
                 last_used_at=None),
        WebSession(session_id="6f" * 32, user_id="U0001", csrf_sha256="7a" * 32,
                   created_at=APPLIED, expires_at=APPLIED + dt.timedelta(hours=8),
                   revoked_at=None),
        LoginAttempt(id=None, name="wang.li", at=APPLIED, ok=False, remote="10.0.0.8"),
        AuditLog(seq=1, at=APPLIED, actor="wang.li", action="pii.view",
                 subject_kind="party", subject_id="P0001",
                 detail={"fields": ["id_number", "name"]}, prev_hash="0" * 64,
                 hash="8b" * 32),
    ]


def _columns(row: Base) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


def _identity(row: Base) -> tuple[Any, ...]:
    return tuple(getattr(row, c.key) for c in row.__table__.primary_key.columns)


def _write_book(engine: Engine, amount: Decimal | None = None) -> list[Base]:
    written = book()
    if amount is not None:
        next(r for r in written if isinstance(r, Application)).amount = amount
    with transaction(engine) as session:
        session.add_all(written)
    return written


def test_every_table_round_trips(engine: Engine) -> None:
    expected = [_columns(r) for r in book()]
    written = _write_book(engine)
    # audit_head's single row is created by migration 0005, not written here.
    assert {r.__tablename__ for r in written} == set(Base.metadata.tables) - {"audit_head"}
    with session_factory(engine)() as session:
        found = [_columns(session.get_one(type(r), _identity(r))) for r in written]
    for want, got in zip(expected, found, strict=True):
        if want.get("id", 0) is None:  # quarantined_row.id is assigned by the database
            assert isinstance(got["id"], int)
            want["id"] = got["id"]
        assert got == want


def test_money_and_rates_come_back_as_exact_decimals(engine: Engine) -> None:
    _write_book(engine)
    with session_factory(engine)() as session:
        application = session.get_one(Application, "A0001")
        loan = session.get_one(Loan, "L0001")
        due = session.get_one(Repayment, ("L0001", 2))
    assert type(application.amount) is Decimal
    assert str(application.amount) == "1234567.89"
    assert str(loan.annual_rate) == "0.043500"
    assert str(due.paid_amount) == "0.00"


@pytest.mark.parametrize("amount", ["0.01", "-0.01", "9999999999999.99", "9999999999999999.99"])
def test_extreme_amounts_round_trip_exactly(engine: Engine, amount: str) -> None:
    """15 significant digits on SQLite (a float underneath), all 18 on PostgreSQL."""
    if engine.dialect.name == "sqlite" and len(amount.replace(".", "").lstrip("-")) > 15:
        with pytest.raises(StatementError, match="SQLite"):
            _write_book(engine, amount=Decimal(amount))
        return
    _write_book(engine, amount=Decimal(amount))
    with session_factory(engine)() as session:
        assert str(session.get_one(Application, "A0001").amount) == amount


def test_instants_come_back_as_the_same_instant_in_utc(engine: Engine) -> None:
    _write_book(engine)
    with session_factory(engine)() as session:
        applied_at = session.get_one(Application, "A0001").applied_at
    assert applied_at == APPLIED
    assert applied_at.utcoffset() == dt.timedelta(0)
    assert applied_at.hour == 1  # 09:30 in Shanghai is 01:30 UTC, on both backends


def test_repayment_paid_amount_defaults_to_zero(engine: Engine) -> None:
    _write_book(engine)
    with transaction(engine) as session:
        session.add(
            Repayment(
                loan_id="L0001",
                period=3,
                due_date=dt.date(2025, 6, 5),
                principal_due=Decimal("82291.42"),
                interest_due=Decimal("3031.61"),
            )
        )
    with session_factory(engine)() as session:
        assert session.get_one(Repayment, ("L0001", 3)).paid_amount == Decimal("0.00")


def test_personal_data_is_encrypted_in_the_database(engine: Engine) -> None:
    _write_book(engine)
    with engine.connect() as connection:
        name, id_number, phone = connection.execute(
            text("SELECT name, id_number, phone FROM party WHERE party_id = 'P00000002'")
        ).one()
        (manager_phone,) = connection.execute(
            text("SELECT phone FROM customer_manager WHERE manager_id = 'M001'")
        ).one()
    for stored, plain in [
        (name, "张三丰"),
        (id_number, ID_NUMBER),
        (phone, "13912345678"),
        (manager_phone, "13812345678"),
    ]:
        assert stored.startswith("v1:")
        assert plain not in stored
        assert plain[-4:] not in stored
    with session_factory(engine)() as session:
        party = session.get_one(Party, "P00000002")
    assert (party.name, party.id_number, party.phone) == ("张三丰", ID_NUMBER, "13912345678")


def test_party_is_found_by_the_blind_index_of_its_id_number(engine: Engine) -> None:
    _write_book(engine)
    lookup = select(Party).where(Party.id_number_index == blind_index("33010619900101123x "))
    with session_factory(engine)() as session:
        party = session.scalars(lookup).one()
    assert party.party_id == "P00000002"


def _insert_fails(engine: Engine, row: Base) -> None:
    with pytest.raises(IntegrityError), transaction(engine) as session:
        session.add(row)


def test_duplicate_uscc_is_refused(engine: Engine) -> None:
    _write_book(engine)
    twin = Party(
        party_id="P00000003",
        party_type="enterprise",
        uscc="91330106MA2XXXXX1L",
        name="另一家公司",
        name_masked="另***",
        region_code="330106",
        created_at=APPLIED,
    )
    _insert_fails(engine, twin)


def test_duplicate_id_number_index_is_refused(engine: Engine) -> None:
    _write_book(engine)
    twin = Party(
        party_id="P00000003",
        party_type="business_owner",
        id_number=ID_NUMBER,
        id_number_index=blind_index(ID_NUMBER),
        name="张三丰",
        name_masked="张**",
        region_code="330106",
        created_at=APPLIED,
    )
    _insert_fails(engine, twin)


def test_second_loan_on_one_application_is_refused(engine: Engine) -> None:
    _write_book(engine)
    with session_factory(engine)() as session:
        loan = session.get_one(Loan, "L0001")
        session.expunge(loan)
    loan.loan_id = "L0002"
    _insert_fails(engine, loan)


def test_duplicate_repayment_period_is_refused(engine: Engine) -> None:
    _write_book(engine)
    _insert_fails(
        engine,
        Repayment(
            loan_id="L0001",
            period=1,
            due_date=dt.date(2025, 4, 5),
            principal_due=Decimal("1.00"),
            interest_due=Decimal("0.00"),
        ),
    )


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    orphan = Task(task_id="T9", kind="x", status="open", party_id="NOPE", created_at=APPLIED)
    _insert_fails(engine, orphan)


@pytest.mark.parametrize("tier", [0, 4])
def test_manager_risk_tier_outside_one_to_three_is_refused(engine: Engine, tier: int) -> None:
    _write_book(engine)
    manager = CustomerManager(
        manager_id="M002", name="李", branch_id="B001", risk_tier=tier, hired_on=dt.date.today()
    )
    _insert_fails(engine, manager)


def test_unknown_party_type_is_refused(engine: Engine) -> None:
    stranger = Party(
        party_id="P9",
        party_type="bank",
        name="x",
        name_masked="*",
        region_code="330106",
        created_at=APPLIED,
    )
    _insert_fails(engine, stranger)
