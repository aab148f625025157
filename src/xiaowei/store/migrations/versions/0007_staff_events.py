"""staff events: customer managers' check-ins, path points, visit logs and app operations.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Written by hand after 0006's pattern, with plain SQL types. Why one table for four kinds: the
staff signals read a manager's whole timeline (a check-in, then the path, then an edit in the
app) in time order, and every kind is taken in the same way — once, keyed by the sender's event
id, refused with reasons into ``quarantined_row`` otherwise. The located fields (coordinates,
accuracy, mocked location, device) are columns because signals scan them; the rest of a kind's
fields are JSON. ``content_hash`` tells a resend from a reused id with other content.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("checkin", "track_point", "visit_log", "operation")  # frozen here, as of 0007


def upgrade() -> None:
    op.create_table(
        "staff_event",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("manager_id", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("mock_location", sa.Boolean(), nullable=True),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in KINDS) + ")",
            name=op.f("ck_staff_event_kind_known"),
        ),
        sa.ForeignKeyConstraint(["manager_id"], ["customer_manager.manager_id"],
                                name=op.f("fk_staff_event_manager_id_customer_manager")),
        sa.ForeignKeyConstraint(["batch_id"], ["load_batch.batch_id"],
                                name=op.f("fk_staff_event_batch_id_load_batch")),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_staff_event")),
    )
    op.create_index("ix_staff_event_manager_id_occurred_at", "staff_event",
                    ["manager_id", "occurred_at"], unique=False)
    op.create_index("ix_staff_event_kind_occurred_at", "staff_event", ["kind", "occurred_at"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_staff_event_kind_occurred_at", table_name="staff_event")
    op.drop_index("ix_staff_event_manager_id_occurred_at", table_name="staff_event")
    op.drop_table("staff_event")
