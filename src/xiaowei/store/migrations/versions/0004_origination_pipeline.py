"""origination pipeline: intake records, the decision log, task claiming and task events.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-14

Written by hand after 0003's pattern, with plain SQL types. Why these tables:

- ``application_intake`` is the idempotency record of a submission: the application's own
  key is its primary key, so two concurrent submissions of one application cannot both land,
  and ``payload_sha256`` tells a retry (same payload) from a key reused for other content.
- ``decision_log`` keeps every engine decision with every input it used (数据埋点), so each
  node's real performance can be measured once outcomes are known. ``(application_id,
  pack_version, seq)`` is unique, so a retried submission cannot log one decision twice.
- ``task`` gains what a work queue needs: who claimed it and when, when it closed and with
  what result, the queue it sits in, and ``revision`` for optimistic locking; ``task_event``
  is its audit trail (rows only ever added).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=32), nullable=nullable)


def _instant(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _user(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=64), nullable=nullable)


def _code(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=32), nullable=nullable)


def _to_application(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["application_id"], ["application.application_id"],
        name=op.f(f"fk_{table}_application_id_application"),
    )


def upgrade() -> None:
    # Plain ADD COLUMN (no batch rebuild) works on both backends and in offline --sql mode.
    op.add_column("task", _user("claimed_by", nullable=True))
    op.add_column("task", _instant("claimed_at", nullable=True))
    op.add_column("task", _instant("closed_at", nullable=True))
    op.add_column("task", sa.Column("result", sa.JSON(), nullable=True))
    op.add_column("task", _code("queue", nullable=True))
    op.add_column("task", sa.Column("revision", sa.Integer(), server_default=sa.text("0"),
                                    nullable=False))
    op.create_index(op.f("ix_task_queue"), "task", ["queue"], unique=False)

    op.create_table(
        "task_event",
        sa.Column("event_id", sa.Integer(), autoincrement=True, nullable=False),
        _id("task_id"),
        _instant("at"),
        _user("actor"),
        _code("action"),
        _code("from_status", nullable=True),
        _code("to_status", nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["task_id"], ["task.task_id"],
                                name=op.f("fk_task_event_task_id_task")),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_task_event")),
    )
    op.create_index(op.f("ix_task_event_task_id"), "task_event", ["task_id"], unique=False)

    op.create_table(
        "application_intake",
        _id("application_id"),
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
        _instant("received_at"),
        _user("received_by"),
        sa.Column("channel_ref", sa.String(length=128), nullable=True),
        sa.Column("automated_ok", sa.Boolean(), nullable=False),
        _code("status"),
        _to_application("application_intake"),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_application_intake")),
    )

    op.create_table(
        "decision_log",
        _id("decision_id"),
        _id("application_id"),
        sa.Column("seq", sa.Integer(), nullable=False),
        _instant("decided_at"),
        sa.Column("pack", sa.String(length=63), nullable=False),
        sa.Column("pack_version", sa.String(length=64), nullable=False),
        sa.Column("models", sa.JSON(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("trace", sa.JSON(), nullable=False),
        _code("outcome"),
        _code("mode"),
        _code("dd_level", nullable=True),
        sa.Column("manager_tier", sa.Integer(), nullable=True),
        sa.Column("limit_amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("micros", sa.Float(), nullable=False),
        _id("superseded_by", nullable=True),
        _to_application("decision_log"),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_decision_log")),
        sa.UniqueConstraint("application_id", "pack_version", "seq",
                            name=op.f("uq_decision_log_application_pack_seq")),
    )
    op.create_index(op.f("ix_decision_log_application_id"), "decision_log",
                    ["application_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_decision_log_application_id"), table_name="decision_log")
    op.drop_table("decision_log")
    op.drop_table("application_intake")
    op.drop_index(op.f("ix_task_event_task_id"), table_name="task_event")
    op.drop_table("task_event")
    op.drop_index(op.f("ix_task_queue"), table_name="task")
    for column in ("revision", "queue", "result", "closed_at", "claimed_at", "claimed_by"):
        op.drop_column("task", column)
