"""initial: parties, branches and managers, applications to repayments, tasks, loads.

Revision ID: 0001
Revises:
Create Date: 2026-11-29

Written from Alembic's autogenerate output and checked by hand. Column types are the plain
SQL types that xiaowei's own types (``EncryptedString``, ``ExactDecimal``, ``UtcDateTime``)
store as, so that this file never changes when those Python types evolve.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "branch",
    "load_batch",
    "party",
    "customer_manager",
    "quarantined_row",
    "application",
    "decision",
    "loan",
    "task",
    "repayment",
)


def _id(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=32), nullable=nullable)


def _money(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.Numeric(precision=18, scale=2), nullable=nullable)


def _instant(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _code(name: str, length: int = 32, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def _fk(table: str, column: str, target: str, **kwargs: str) -> sa.ForeignKeyConstraint:
    """A foreign key to the same-named primary key column of ``target``."""
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.{column}"], name=op.f(f"fk_{table}_{column}_{target}"), **kwargs
    )


def _index(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "branch",
        _id("branch_id"),
        sa.Column("name", sa.String(length=128), nullable=False),
        _code("region_code", 12),
        _id("parent_id", nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["branch.branch_id"], name=op.f("fk_branch_parent_id_branch")
        ),
        sa.PrimaryKeyConstraint("branch_id", name=op.f("pk_branch")),
    )
    _index("branch", "parent_id")

    op.create_table(
        "load_batch",
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("source_dir", sa.Text(), nullable=False),
        _instant("started_at"),
        _instant("finished_at", nullable=True),
        _code("status"),
        sa.Column("rows_in", sa.Integer(), nullable=False),
        sa.Column("rows_accepted", sa.Integer(), nullable=False),
        sa.Column("rows_quarantined", sa.Integer(), nullable=False),
        _code("fingerprint", 128, nullable=True),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_load_batch")),
    )

    op.create_table(
        "party",
        _id("party_id"),
        _code("party_type"),
        _code("uscc", 18, nullable=True),
        sa.Column("id_number", sa.Text(), nullable=True),
        _code("id_number_index", 64, nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        _code("name_masked", 64),
        sa.Column("phone", sa.Text(), nullable=True),
        _code("region_code", 12),
        _code("industry_code", 8, nullable=True),
        sa.Column("established_on", sa.Date(), nullable=True),
        _instant("created_at"),
        sa.CheckConstraint(
            "party_type IN ('enterprise', 'individual_business', 'business_owner')",
            name=op.f("ck_party_party_type_known"),
        ),
        sa.PrimaryKeyConstraint("party_id", name=op.f("pk_party")),
        sa.UniqueConstraint("id_number_index", name=op.f("uq_party_id_number_index")),
        sa.UniqueConstraint("uscc", name=op.f("uq_party_uscc")),
    )

    op.create_table(
        "customer_manager",
        _id("manager_id"),
        _code("name", 64),
        _id("branch_id"),
        sa.Column("risk_tier", sa.Integer(), nullable=False),
        sa.Column("hired_on", sa.Date(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "risk_tier BETWEEN 1 AND 3", name=op.f("ck_customer_manager_risk_tier_range")
        ),
        _fk("customer_manager", "branch_id", "branch"),
        sa.PrimaryKeyConstraint("manager_id", name=op.f("pk_customer_manager")),
    )
    _index("customer_manager", "branch_id")

    op.create_table(
        "quarantined_row",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        _code("table_name", 64),
        sa.Column("row_number", sa.Integer(), nullable=False),
        _code("column_name", 64, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        _fk("quarantined_row", "batch_id", "load_batch", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantined_row")),
    )
    _index("quarantined_row", "batch_id")

    op.create_table(
        "application",
        _id("application_id"),
        _id("party_id"),
        _instant("applied_at"),
        _code("channel"),
        _code("product_intent", 64),
        _money("amount"),
        sa.Column("term_months", sa.Integer(), nullable=False),
        _id("manager_id", nullable=True),
        _id("branch_id"),
        _code("status"),
        _code("source_ref", 128, nullable=True),
        _fk("application", "branch_id", "branch"),
        _fk("application", "manager_id", "customer_manager"),
        _fk("application", "party_id", "party"),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_application")),
    )
    _index("application", "branch_id", "manager_id", "party_id")

    op.create_table(
        "decision",
        _id("decision_id"),
        _id("application_id"),
        _code("outcome"),
        _instant("decided_at"),
        _code("decided_by", 64),
        sa.Column("reasons", sa.JSON(), nullable=False),
        _money("approved_amount", nullable=True),
        _code("strategy_version", 64, nullable=True),
        _fk("decision", "application_id", "application"),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_decision")),
    )
    _index("decision", "application_id")

    op.create_table(
        "loan",
        _id("loan_id"),
        _id("application_id"),
        _id("party_id"),
        _money("principal"),
        sa.Column("annual_rate", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("maturity_date", sa.Date(), nullable=False),
        _code("repayment_method"),
        _code("status"),
        _fk("loan", "application_id", "application"),
        _fk("loan", "party_id", "party"),
        sa.PrimaryKeyConstraint("loan_id", name=op.f("pk_loan")),
        sa.UniqueConstraint("application_id", name=op.f("uq_loan_application_id")),
    )
    _index("loan", "party_id")

    op.create_table(
        "task",
        _id("task_id"),
        _code("kind", 64),
        _code("status"),
        _id("party_id", nullable=True),
        _id("application_id", nullable=True),
        _id("assignee_id", nullable=True),
        _instant("created_at"),
        _instant("due_at", nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        _fk("task", "application_id", "application"),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["customer_manager.manager_id"],
            name=op.f("fk_task_assignee_id_customer_manager"),
        ),
        _fk("task", "party_id", "party"),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_task")),
    )
    _index("task", "application_id", "assignee_id", "party_id")

    op.create_table(
        "repayment",
        _id("loan_id"),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        _money("principal_due"),
        _money("interest_due"),
        sa.Column("paid_on", sa.Date(), nullable=True),
        _money("paid_amount"),
        _fk("repayment", "loan_id", "loan"),
        sa.PrimaryKeyConstraint("loan_id", "period", name=op.f("pk_repayment")),
    )


def downgrade() -> None:
    # Dropping a table drops its indexes; children go before the parents they refer to.
    for table in reversed(TABLES):
        op.drop_table(table)
