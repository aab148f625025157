"""strategy versions: submitted strategy packs, their audit trail and the live switch.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07

Written by hand after 0002's pattern, with plain SQL types so this file never changes when
xiaowei's own types evolve. Maker–checker (the approver is not the author) is a check
constraint, and "exactly one live version per pack" is the primary key of ``strategy_live``,
so neither rule depends on every code path remembering it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("draft", "approved", "live", "superseded", "rolled_back", "withdrawn")


def _instant(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _user(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=64), nullable=nullable)


def _version_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["name", "version"],
        ["strategy_version.name", "strategy_version.version"],
        name=op.f(f"fk_{table}_name_strategy_version"),
    )


def upgrade() -> None:
    op.create_table(
        "strategy_version",
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("main_file", sa.String(length=255), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("source_path", sa.Text(), nullable=True),
        _user("submitted_by"),
        _instant("submitted_at"),
        _user("approved_by", nullable=True),
        _instant("approved_at", nullable=True),
        sa.CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")",
            name=op.f("ck_strategy_version_status_known"),
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_strategy_version_version_positive")),
        sa.CheckConstraint(
            "approved_by IS NULL OR lower(approved_by) <> lower(submitted_by)",
            name=op.f("ck_strategy_version_maker_checker"),
        ),
        sa.PrimaryKeyConstraint("name", "version", name=op.f("pk_strategy_version")),
        sa.UniqueConstraint(
            "name", "content_hash", name=op.f("uq_strategy_version_name_content_hash")
        ),
    )

    op.create_table(
        "strategy_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        _user("actor"),
        _instant("occurred_at"),
        sa.Column("note", sa.Text(), nullable=True),
        _version_key("strategy_event"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategy_event")),
    )
    op.create_index(
        op.f("ix_strategy_event_name_version"), "strategy_event", ["name", "version"],
        unique=False,
    )

    op.create_table(
        "strategy_live",
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        _instant("since"),
        _user("switched_by"),
        _version_key("strategy_live"),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_strategy_live")),
    )


def downgrade() -> None:
    # Both other tables refer to the versions, so they go first.
    op.drop_table("strategy_live")
    op.drop_table("strategy_event")
    op.drop_table("strategy_version")
