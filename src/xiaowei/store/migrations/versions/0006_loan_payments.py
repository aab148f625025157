"""loan payments: money received for loans, booked once by payment id with its allocation.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

Written by hand after 0005's pattern, with plain SQL types. Why a table of its own rather than
updating ``repayment`` rows: a payment is what arrived (one bank transfer, one id from the core
system), the schedule is what was due; a payment may cover several instalments or part of one,
so it is booked once, keyed by the sender's payment id (a resent file books nothing twice), and
carries how it was allocated (penalty, interest, principal, money waiting in suspense).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "loan_payment",
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("loan_id", sa.String(length=32), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("allocation", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loan.loan_id"]),
        sa.PrimaryKeyConstraint("payment_id"),
    )
    op.create_index("ix_loan_payment_loan_id", "loan_payment", ["loan_id"])


def downgrade() -> None:
    op.drop_index("ix_loan_payment_loan_id", table_name="loan_payment")
    op.drop_table("loan_payment")
