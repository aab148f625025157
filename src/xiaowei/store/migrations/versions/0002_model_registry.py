"""model registry: registered model versions and the audit trail of their life cycle.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06

Written from Alembic's autogenerate output and checked by hand. As in 0001, column types are
the plain SQL types xiaowei's own types store as, so this file never changes when they evolve.
The four-eyes rule is a check constraint so that no code path (a script, a later API) can
record an approval by the person who registered the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _instant(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _user(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=64), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "model_version",
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("data_fingerprint", sa.String(length=128), nullable=False),
        sa.Column("target", sa.String(length=128), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        _instant("created_at"),
        sa.Column("source_dir", sa.Text(), nullable=True),
        _user("registered_by"),
        _instant("registered_at"),
        _user("approved_by", nullable=True),
        _instant("approved_at", nullable=True),
        _user("retired_by", nullable=True),
        _instant("retired_at", nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'approved', 'retired')",
            name=op.f("ck_model_version_status_known"),
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_model_version_version_positive")),
        sa.CheckConstraint(
            "approved_by IS NULL OR lower(approved_by) <> lower(registered_by)",
            name=op.f("ck_model_version_four_eyes"),
        ),
        sa.PrimaryKeyConstraint("name", "version", name=op.f("pk_model_version")),
        sa.UniqueConstraint(
            "name", "content_hash", name=op.f("uq_model_version_name_content_hash")
        ),
    )

    op.create_table(
        "model_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        _user("actor"),
        _instant("occurred_at"),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["name", "version"],
            ["model_version.name", "model_version.version"],
            name=op.f("fk_model_event_name_model_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_event")),
    )
    op.create_index(
        op.f("ix_model_event_name_version"), "model_event", ["name", "version"], unique=False
    )


def downgrade() -> None:
    # The events refer to the versions, so they go first; dropping a table drops its index.
    op.drop_table("model_event")
    op.drop_table("model_version")
