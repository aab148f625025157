"""The transactional store's tables: who the bank serves, what they asked for, what was
decided, what was lent and repaid, the work that followed, how raw data was loaded, and
which model versions the bank has registered and approved.

Why these columns: they are the records that must be consistent at every instant (one
decision per application step, one loan per approved application, no repayment without a
loan). Everything analytical — tags, history, backtests — lives in DuckDB instead.

Only many-to-one relationships are declared, for one reason: they tell the ORM to insert
parents before children when a whole graph is added in one flush (without them the order is
arbitrary and foreign keys fail). Collections are queried explicitly where needed.

Rules carried by the column types (see :mod:`xiaowei.store.types`): money is ``Decimal``,
instants are timezone-aware UTC, personal data is encrypted at rest.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from xiaowei.store.types import EncryptedString, Money, Rate, UtcDateTime

# Named constraints make migrations identical on SQLite and PostgreSQL, and let a later
# migration drop a constraint by a name it can know in advance.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

PARTY_TYPES = ("enterprise", "individual_business", "business_owner")

ID = 32  # length of the bank's own identifiers, e.g. 'P00001234'
CODE = 32  # length of enumerated codes: status, channel, outcome …


class Base(DeclarativeBase):
    """Declarative base for every transactional table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Branch(Base):
    """A branch or sub-branch (支行); ``parent_id`` forms the branch tree."""

    __tablename__ = "branch"

    branch_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    region_code: Mapped[str] = mapped_column(String(12))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("branch.branch_id"), index=True)

    parent: Mapped[Branch | None] = relationship(remote_side=[branch_id])


class CustomerManager(Base):
    """A customer manager (客户经理); ``risk_tier`` 1–3 limits which cases they may handle;
    ``staff_tier_cap`` is the staff batch's advice (ability rating, portfolio quality, behaviour
    risk), only ever lower — matching uses the lower of the two (migration 0008)."""

    __tablename__ = "customer_manager"
    __table_args__ = (CheckConstraint("risk_tier BETWEEN 1 AND 3", name="risk_tier_range"),)

    manager_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    branch_id: Mapped[str] = mapped_column(ForeignKey("branch.branch_id"), index=True)
    risk_tier: Mapped[int]
    hired_on: Mapped[dt.date] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(EncryptedString())
    staff_tier_cap: Mapped[int | None] = mapped_column(default=None)

    branch: Mapped[Branch] = relationship()


class Party(Base):
    """An enterprise, individual business (个体工商户) or business owner the bank knows.

    ``uscc`` (unified social credit code) is public registry data and stays in clear; the
    ID number, name and phone are encrypted, and the ID number is found by its blind index.
    """

    __tablename__ = "party"
    __table_args__ = (
        CheckConstraint(
            "party_type IN (" + ", ".join(f"'{t}'" for t in PARTY_TYPES) + ")",
            name="party_type_known",
        ),
    )

    party_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    party_type: Mapped[str] = mapped_column(String(CODE))
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    id_number: Mapped[str | None] = mapped_column(EncryptedString())
    id_number_index: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(EncryptedString())
    name_masked: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(EncryptedString())
    region_code: Mapped[str] = mapped_column(String(12))
    industry_code: Mapped[str | None] = mapped_column(String(8))
    established_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class Application(Base):
    """A credit application, whatever the product: every one enters the same pipeline.

    ``manager_id`` may be empty at intake because the strategy decides which tier of
    manager must handle the case.
    """

    __tablename__ = "application"

    application_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    party_id: Mapped[str] = mapped_column(ForeignKey("party.party_id"), index=True)
    applied_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    channel: Mapped[str] = mapped_column(String(CODE))
    product_intent: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Money())
    term_months: Mapped[int]
    manager_id: Mapped[str | None] = mapped_column(
        ForeignKey("customer_manager.manager_id"), index=True
    )
    branch_id: Mapped[str] = mapped_column(ForeignKey("branch.branch_id"), index=True)
    status: Mapped[str] = mapped_column(String(CODE))
    source_ref: Mapped[str | None] = mapped_column(String(128))

    party: Mapped[Party] = relationship()
    manager: Mapped[CustomerManager | None] = relationship()
    branch: Mapped[Branch] = relationship()


class Decision(Base):
    """One decision on an application (engine or person), with its reasons, for audit."""

    __tablename__ = "decision"

    decision_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    application_id: Mapped[str] = mapped_column(
        ForeignKey("application.application_id"), index=True
    )
    outcome: Mapped[str] = mapped_column(String(CODE))
    decided_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    decided_by: Mapped[str] = mapped_column(String(64))
    reasons: Mapped[Any] = mapped_column(JSON)
    approved_amount: Mapped[Decimal | None] = mapped_column(Money())
    strategy_version: Mapped[str | None] = mapped_column(String(64))

    application: Mapped[Application] = relationship()


class Loan(Base):
    """A loan drawn on an approved application; at most one per application."""

    __tablename__ = "loan"

    loan_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    application_id: Mapped[str] = mapped_column(
        ForeignKey("application.application_id"), unique=True
    )
    party_id: Mapped[str] = mapped_column(ForeignKey("party.party_id"), index=True)
    principal: Mapped[Decimal] = mapped_column(Money())
    annual_rate: Mapped[Decimal] = mapped_column(Rate())
    term_months: Mapped[int]
    start_date: Mapped[dt.date] = mapped_column(Date)
    maturity_date: Mapped[dt.date] = mapped_column(Date)
    repayment_method: Mapped[str] = mapped_column(String(CODE))
    status: Mapped[str] = mapped_column(String(CODE))

    application: Mapped[Application] = relationship()
    party: Mapped[Party] = relationship()


class Repayment(Base):
    """One period of a loan's schedule and what was paid against it."""

    __tablename__ = "repayment"

    loan_id: Mapped[str] = mapped_column(ForeignKey("loan.loan_id"), primary_key=True)
    period: Mapped[int] = mapped_column(primary_key=True)
    due_date: Mapped[dt.date] = mapped_column(Date)
    principal_due: Mapped[Decimal] = mapped_column(Money())
    interest_due: Mapped[Decimal] = mapped_column(Money())
    paid_on: Mapped[dt.date | None] = mapped_column(Date)
    paid_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))

    loan: Mapped[Loan] = relationship()


class LoanPayment(Base):
    """Money received for a loan (migration 0006): booked once by the sender's payment id,
    with how it was allocated — ``{"penalty", "interest", "principal", "suspense"}`` in yuan
    as text (exact) — so a resent file books nothing twice and every yuan is accounted for."""

    __tablename__ = "loan_payment"

    payment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loan.loan_id"), index=True)
    paid_on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money())
    allocation: Mapped[Any] = mapped_column(JSON)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    received_by: Mapped[str] = mapped_column(String(64))

    loan: Mapped[Loan] = relationship()


class Task(Base):
    """Work for a person that a decision created: a visit, a review, a collection call."""

    __tablename__ = "task"

    task_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(CODE))
    party_id: Mapped[str | None] = mapped_column(ForeignKey("party.party_id"), index=True)
    application_id: Mapped[str | None] = mapped_column(
        ForeignKey("application.application_id"), index=True
    )
    assignee_id: Mapped[str | None] = mapped_column(
        ForeignKey("customer_manager.manager_id"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    due_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    payload: Mapped[Any] = mapped_column(JSON, default=dict)
    # Work-queue state (migration 0004): a person claims the task, closes it with a result;
    # ``queue`` names the queue ("manual_review", "due_diligence") and ``claimed_by`` holds
    # any user id (approvers are not customer managers); ``revision`` is optimistic locking.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    result: Mapped[Any | None] = mapped_column(JSON)
    queue: Mapped[str | None] = mapped_column(String(CODE), index=True)
    revision: Mapped[int] = mapped_column(default=0, server_default=text("0"))

    party: Mapped[Party | None] = relationship()
    application: Mapped[Application | None] = relationship()
    assignee: Mapped[CustomerManager | None] = relationship()


class TaskEvent(Base):
    """One step of a task's life (created, claimed, released, closed …): who, when, from,
    to and why. Rows are only ever added: it is the audit trail of people's work."""

    __tablename__ = "task_event"

    event_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("task.task_id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(CODE))
    from_status: Mapped[str | None] = mapped_column(String(CODE))
    to_status: Mapped[str | None] = mapped_column(String(CODE))
    note: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[Any | None] = mapped_column(JSON)

    task: Mapped[Task] = relationship()


INTAKE_STATUSES = ("received", "decided", "in_review", "in_dd", "closed")


class ApplicationIntake(Base):
    """How an application entered the pipeline — its idempotency record.

    The application's key is the primary key, so concurrent submissions of one application
    cannot both land; ``payload_sha256`` tells a retry (same content) from a key reused for
    other content. ``automated_ok`` is false when the applicant refused a purely automated
    decision (PIPL art. 24). ``status`` is one of :data:`INTAKE_STATUSES`.
    """

    __tablename__ = "application_intake"

    application_id: Mapped[str] = mapped_column(
        ForeignKey("application.application_id"), primary_key=True
    )
    payload_sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    received_by: Mapped[str] = mapped_column(String(64))
    channel_ref: Mapped[str | None] = mapped_column(String(128))
    automated_ok: Mapped[bool]
    status: Mapped[str] = mapped_column(String(CODE))

    application: Mapped[Application] = relationship()


class DecisionLog(Base):
    """One engine decision with every input it used (数据埋点), for node performance.

    ``outputs`` is the decision without its trace, ``trace`` the per-node record. A retried
    submission cannot log twice: ``(application_id, pack_version, seq)`` is unique.
    ``superseded_by`` points at a later engine decision on the same application.
    """

    __tablename__ = "decision_log"
    __table_args__ = (
        UniqueConstraint("application_id", "pack_version", "seq",
                         name="uq_decision_log_application_pack_seq"),
    )

    decision_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    application_id: Mapped[str] = mapped_column(
        ForeignKey("application.application_id"), index=True
    )
    seq: Mapped[int]
    decided_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    pack: Mapped[str] = mapped_column(String(63))
    pack_version: Mapped[str] = mapped_column(String(64))
    models: Mapped[Any] = mapped_column(JSON)
    inputs: Mapped[Any] = mapped_column(JSON)
    outputs: Mapped[Any] = mapped_column(JSON)
    trace: Mapped[Any] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(CODE))
    mode: Mapped[str] = mapped_column(String(CODE))
    dd_level: Mapped[str | None] = mapped_column(String(CODE))
    manager_tier: Mapped[int | None]
    limit_amount: Mapped[Decimal | None] = mapped_column(Money())
    micros: Mapped[float] = mapped_column(Float)
    superseded_by: Mapped[str | None] = mapped_column(String(ID))

    application: Mapped[Application] = relationship()


class LoadBatch(Base):
    """One load of a source directory; ``fingerprint`` lets a loader skip identical reloads."""

    __tablename__ = "load_batch"

    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source_dir: Mapped[str] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(CODE))
    rows_in: Mapped[int] = mapped_column(default=0)
    rows_accepted: Mapped[int] = mapped_column(default=0)
    rows_quarantined: Mapped[int] = mapped_column(default=0)
    fingerprint: Mapped[str | None] = mapped_column(String(128))


class QuarantinedRow(Base):
    """A raw row a load rejected, kept with the reason so data owners can fix the source.

    ``raw`` must have its personal-data columns masked first
    (see :mod:`xiaowei.entities.masking`): quarantine is read by many people.
    """

    __tablename__ = "quarantined_row"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(
        ForeignKey("load_batch.batch_id", ondelete="CASCADE"), index=True
    )
    table_name: Mapped[str] = mapped_column(String(64))
    row_number: Mapped[int]
    column_name: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[Any] = mapped_column(JSON)

    batch: Mapped[LoadBatch] = relationship()


MODEL_STATUSES = ("draft", "approved", "retired")
MODEL_NAME = 63  # a model's name is also a directory name and a strategy's reference
USER = 64  # a plain user id until authentication arrives


class ModelVersion(Base):
    """One registered version of a model: where its files are, what it was trained on, and
    where it stands in its life cycle (see :mod:`xiaowei.modelling.lifecycle`).

    ``(name, version)`` is the primary key, so two registrations racing for the same number
    cannot both win. ``(name, content_hash)`` is unique, so the same artifact is never
    registered twice under one name. The four-eyes rule (the approver is not the registrant)
    is also a check constraint, so no code path can bypass it.
    """

    __tablename__ = "model_version"
    __table_args__ = (
        UniqueConstraint("name", "content_hash", name="uq_model_version_name_content_hash"),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in MODEL_STATUSES) + ")",
            name="status_known",
        ),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint(
            "approved_by IS NULL OR lower(approved_by) <> lower(registered_by)",
            name="four_eyes",
        ),
    )

    name: Mapped[str] = mapped_column(String(MODEL_NAME), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(CODE))
    status: Mapped[str] = mapped_column(String(CODE))
    content_hash: Mapped[str] = mapped_column(String(64))
    files: Mapped[Any] = mapped_column(JSON)
    data_fingerprint: Mapped[str] = mapped_column(String(128))
    target: Mapped[str] = mapped_column(String(128))
    features: Mapped[Any] = mapped_column(JSON)
    params: Mapped[Any] = mapped_column(JSON)
    metrics: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    source_dir: Mapped[str | None] = mapped_column(Text)
    registered_by: Mapped[str] = mapped_column(String(USER))
    registered_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(USER))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    retired_by: Mapped[str | None] = mapped_column(String(USER))
    retired_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class ModelEvent(Base):
    """One step of a model version's life (registered, approved, retired): who, when, why.

    Rows are only ever added: the audit trail is what a regulator asks for when a model's
    decisions are questioned.
    """

    __tablename__ = "model_event"
    __table_args__ = (
        ForeignKeyConstraint(
            ["name", "version"], ["model_version.name", "model_version.version"]
        ),
        Index("ix_model_event_name_version", "name", "version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(MODEL_NAME))
    version: Mapped[int]
    from_status: Mapped[str | None] = mapped_column(String(CODE))
    to_status: Mapped[str] = mapped_column(String(CODE))
    actor: Mapped[str] = mapped_column(String(USER))
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    note: Mapped[str | None] = mapped_column(Text)

    model_version: Mapped[ModelVersion] = relationship()



STRATEGY_STATUSES = ("draft", "approved", "live", "superseded", "rolled_back", "withdrawn")
STRATEGY_NAME = 63  # a pack's name is a word in CLI references and in decision records


class StrategyVersion(Base):
    """One submitted version of a strategy pack: its files as text, its content hash, and where
    it stands in its life cycle (see :mod:`xiaowei.strategies.lifecycle`).

    The files live here, not on disk, so that every server reading the store sees the same
    pack and its state in one transaction. ``(name, version)`` is the primary key (concurrent
    submissions cannot take one number twice) and ``(name, content_hash)`` is unique (the same
    behaviour is never submitted twice). Maker–checker (the approver is not the author) is a
    check constraint, so no code path can bypass it.
    """

    __tablename__ = "strategy_version"
    __table_args__ = (
        UniqueConstraint("name", "content_hash", name="uq_strategy_version_name_content_hash"),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in STRATEGY_STATUSES) + ")",
            name="status_known",
        ),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint(
            "approved_by IS NULL OR lower(approved_by) <> lower(submitted_by)",
            name="maker_checker",
        ),
    )

    name: Mapped[str] = mapped_column(String(STRATEGY_NAME), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(CODE))
    content_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(64))
    main_file: Mapped[str] = mapped_column(String(255))
    files: Mapped[Any] = mapped_column(JSON)
    source_path: Mapped[str | None] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(String(USER))
    submitted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(USER))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class StrategyEvent(Base):
    """One step of a pack version's life (submitted, approved, live, superseded, rolled back,
    withdrawn): who, when, from, to and why. Rows are only ever added."""

    __tablename__ = "strategy_event"
    __table_args__ = (
        ForeignKeyConstraint(
            ["name", "version"], ["strategy_version.name", "strategy_version.version"]
        ),
        Index("ix_strategy_event_name_version", "name", "version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(STRATEGY_NAME))
    version: Mapped[int]
    from_status: Mapped[str | None] = mapped_column(String(CODE))
    to_status: Mapped[str] = mapped_column(String(CODE))
    actor: Mapped[str] = mapped_column(String(USER))
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    note: Mapped[str | None] = mapped_column(Text)

    strategy_version: Mapped[StrategyVersion] = relationship()


class StrategyLive(Base):
    """Which version of each pack is live: one row per pack name, so the primary key itself
    allows exactly one live version, and a server learns of a switch with one key lookup.

    ``content_hash`` is copied here so that a poll needs no join.
    """

    __tablename__ = "strategy_live"
    __table_args__ = (
        ForeignKeyConstraint(
            ["name", "version"], ["strategy_version.name", "strategy_version.version"]
        ),
    )

    name: Mapped[str] = mapped_column(String(STRATEGY_NAME), primary_key=True)
    version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))
    since: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    switched_by: Mapped[str] = mapped_column(String(USER))

    strategy_version: Mapped[StrategyVersion] = relationship()


# --- users, sign-in and the audit chain (migration 0005; see xiaowei.security) -------------

SECRET_HASH = 64  # hex SHA-256 of a token or session secret; the secret itself is never stored


class AppUser(Base):
    """A person (or a system) who signs in: role, branch and, for a customer manager, the
    ``customer_manager`` row whose customers they hold. Roles are data (``roles.yaml``)."""

    __tablename__ = "app_user"

    user_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    name: Mapped[str] = mapped_column(String(USER), unique=True)
    display_name: Mapped[str] = mapped_column(String(USER))
    role: Mapped[str] = mapped_column(String(CODE))
    branch_id: Mapped[str | None] = mapped_column(ForeignKey("branch.branch_id"), index=True)
    manager_id: Mapped[str | None] = mapped_column(
        ForeignKey("customer_manager.manager_id"), unique=True
    )
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool]
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    password_changed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())

    branch: Mapped[Branch | None] = relationship()
    manager: Mapped[CustomerManager | None] = relationship()


class ApiToken(Base):
    """A scoped, revocable bearer token; only the SHA-256 of its secret is kept."""

    __tablename__ = "api_token"

    token_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.user_id"), index=True)
    secret_sha256: Mapped[str] = mapped_column(String(SECRET_HASH))
    scopes: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    user: Mapped[AppUser] = relationship()


class WebSession(Base):
    """A signed-in browser: the key is the SHA-256 of the cookie's secret, and the CSRF
    token's hash sits beside it (synchronizer token), so a copied table signs nobody in."""

    __tablename__ = "web_session"

    session_id: Mapped[str] = mapped_column(String(SECRET_HASH), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.user_id"), index=True)
    csrf_sha256: Mapped[str] = mapped_column(String(SECRET_HASH))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    user: Mapped[AppUser] = relationship()


class LoginAttempt(Base):
    """One sign-in attempt; throttling counts recent failures here, so every server agrees."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_name_at", "name", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(USER))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    ok: Mapped[bool]
    remote: Mapped[str | None] = mapped_column(String(64))


class AuditLog(Base):
    """One audited act, chained: ``hash`` = SHA-256(``prev_hash`` + canonical JSON of the
    entry), so an edited, deleted or reordered entry breaks every hash after it.

    ``seq`` is assigned 1, 2, 3 … under the chain head's lock (not by a sequence, which
    would leave gaps on rollback), so a gap itself shows a deleted entry.
    """

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(USER))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject_kind: Mapped[str] = mapped_column(String(CODE))
    subject_id: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[Any] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(SECRET_HASH))
    hash: Mapped[str] = mapped_column(String(SECRET_HASH), unique=True)


class AuditHead(Base):
    """The chain's head (one row, ``id`` 1): the last ``seq`` and ``hash``. Appenders lock it,
    so concurrent appends cannot fork the chain; a deleted tail no longer matches it."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(SECRET_HASH))
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


# --- customer managers' behaviour events (migration 0007; see xiaowei.staff.events) ----------

STAFF_EVENT_KINDS = ("checkin", "track_point", "visit_log", "operation")


class StaffEvent(Base):
    """One behaviour event a customer manager's phone (or the simulator) reported: a check-in,
    a path point, a visit log or an app operation, stored once under the sender's id.

    Why the located fields are columns and the rest JSON: GPS integrity signals (distance from
    the customer, impossible travel, mocked or identical fixes) scan ``lat``, ``lon``,
    ``accuracy_m``, ``mock_location`` and ``device_id`` over many events; a kind's other fields
    (action, object, visit notes …) are read one event at a time. ``content_hash`` is the
    SHA-256 of the normalised event, so a resend is recognised and a reused id with other
    content is refused. ``(manager_id, occurred_at)`` serves one manager's timeline (and any
    lookup by manager), ``(kind, occurred_at)`` a period's events of one kind.
    """

    __tablename__ = "staff_event"
    __table_args__ = (
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in STAFF_EVENT_KINDS) + ")",
            name="kind_known",
        ),
        Index("ix_staff_event_manager_id_occurred_at", "manager_id", "occurred_at"),
        Index("ix_staff_event_kind_occurred_at", "kind", "occurred_at"),
    )

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(CODE))
    manager_id: Mapped[str] = mapped_column(ForeignKey("customer_manager.manager_id"))
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    mock_location: Mapped[bool | None]
    device_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[Any] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[str] = mapped_column(ForeignKey("load_batch.batch_id"))

    manager: Mapped[CustomerManager] = relationship()
    batch: Mapped[LoadBatch] = relationship()


ALL_TABLES = tuple(Base.metadata.sorted_tables)
