"""customer_manager.staff_tier_cap: the staff batch's cap on the cases a manager may handle.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

Why a column beside ``risk_tier`` and not an update of it: ``risk_tier`` is what the bank
granted (a person's decision); the cap is what the latest ability rating, portfolio quality and
behaviour risk advise (能力评级建议), written by ``xiaowei staff run`` and only ever lower.
Origination's matching uses the lower of the two; clearing the cap restores the grant, and a
promotion still goes through a person. NULL: no cap.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("customer_manager", sa.Column("staff_tier_cap", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customer_manager") as batch:
        batch.drop_column("staff_tier_cap")
