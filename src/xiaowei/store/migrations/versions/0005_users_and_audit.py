"""users and audit: people who sign in, their tokens and sessions, login attempts, and the
hash-chained audit log with its head.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-21

Written by hand after 0004's pattern, with plain SQL types. Why these tables:

- ``app_user`` holds role and branch (the row-level scope) and, for a customer manager, the
  ``customer_manager`` row whose customers they hold; only an argon2 hash of the password.
- ``api_token`` and ``web_session`` keep the SHA-256 of each secret, never the secret: a
  copied database signs nobody in.
- ``login_attempt`` lets every server count one name's recent failures (throttling).
- ``audit_log`` is append-only and chained by hash; ``audit_head`` (exactly one row, created
  here) is what appenders lock, so two appends cannot fork the chain, and what ``xiaowei
  audit verify`` compares the chain's end with, so a deleted tail is found too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64


def _id(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=32), nullable=nullable)


def _instant(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _user(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=64), nullable=nullable)


def _sha(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=64), nullable=False)


def _to_user(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["user_id"], ["app_user.user_id"],
                                   name=op.f(f"fk_{table}_user_id_app_user"))


def upgrade() -> None:
    op.create_table(
        "app_user",
        _id("user_id"),
        _user("name"),
        _user("display_name"),
        sa.Column("role", sa.String(length=32), nullable=False),
        _id("branch_id", nullable=True),
        _id("manager_id", nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _instant("created_at"),
        _instant("password_changed_at"),
        sa.ForeignKeyConstraint(["branch_id"], ["branch.branch_id"],
                                name=op.f("fk_app_user_branch_id_branch")),
        sa.ForeignKeyConstraint(["manager_id"], ["customer_manager.manager_id"],
                                name=op.f("fk_app_user_manager_id_customer_manager")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("name", name=op.f("uq_app_user_name")),
        sa.UniqueConstraint("manager_id", name=op.f("uq_app_user_manager_id")),
    )
    op.create_index(op.f("ix_app_user_branch_id"), "app_user", ["branch_id"], unique=False)

    op.create_table(
        "api_token",
        _id("token_id"),
        _id("user_id"),
        _sha("secret_sha256"),
        sa.Column("scopes", sa.JSON(), nullable=False),
        _instant("created_at"),
        _instant("expires_at"),
        _instant("revoked_at", nullable=True),
        _instant("last_used_at", nullable=True),
        _to_user("api_token"),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_api_token")),
    )
    op.create_index(op.f("ix_api_token_user_id"), "api_token", ["user_id"], unique=False)

    op.create_table(
        "web_session",
        _sha("session_id"),
        _id("user_id"),
        _sha("csrf_sha256"),
        _instant("created_at"),
        _instant("expires_at"),
        _instant("revoked_at", nullable=True),
        _to_user("web_session"),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_web_session")),
    )
    op.create_index(op.f("ix_web_session_user_id"), "web_session", ["user_id"], unique=False)

    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _user("name"),
        _instant("at"),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("remote", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempt")),
    )
    op.create_index("ix_login_attempt_name_at", "login_attempt", ["name", "at"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        _instant("at"),
        _user("actor"),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject_kind", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=128), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        _sha("prev_hash"),
        _sha("hash"),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_log_hash")),
    )
    op.create_index(op.f("ix_audit_log_action"), "audit_log", ["action"], unique=False)

    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        _sha("hash"),
        _instant("updated_at"),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    if op.get_context().dialect.name == "sqlite":  # stored as UTC without offset, as UtcDateTime
        start = start.replace(tzinfo=None)
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS, "updated_at": start}])


def downgrade() -> None:
    op.drop_table("audit_head")
    op.drop_index(op.f("ix_audit_log_action"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_login_attempt_name_at", table_name="login_attempt")
    op.drop_table("login_attempt")
    op.drop_index(op.f("ix_web_session_user_id"), table_name="web_session")
    op.drop_table("web_session")
    op.drop_index(op.f("ix_api_token_user_id"), table_name="api_token")
    op.drop_table("api_token")
    op.drop_index(op.f("ix_app_user_branch_id"), table_name="app_user")
    op.drop_table("app_user")
