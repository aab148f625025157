"""Who is asking, and which rows they may see (row-level security).

Why clauses rather than checks after loading: a list endpoint must count and page only what
the caller may see, and a detail endpoint must answer "not found" for a record outside the
caller's scope — so the scope is a SQL condition added to the query itself, one function per
kind of record, used by every endpoint and page alike.

The scope comes from the role's permission for the resource (``customers:read:own|branch|
all``, see ``roles.yaml``): ``own`` is what is assigned to the user's customer-manager row
(applications they manage, tasks assigned to them), ``branch`` what belongs to the user's
branch, ``all`` everything. No permission means nothing, never everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from xiaowei.security.roles import SCOPES, RoleBook, default_roles, grants
from xiaowei.store.tables import Application, AppUser, CustomerManager, Party, Task


class PermissionDenied(PermissionError):
    """The principal lacks a permission (an HTTP 403, a CLI error)."""


@dataclass(frozen=True)
class Principal:
    """A signed-in user as a request sees them; ``permissions`` is the role's permissions,
    narrowed by the token's scopes when the request came with a token."""

    user_id: str
    name: str
    role: str
    branch_id: str | None
    manager_id: str | None
    permissions: frozenset[str]

    @classmethod
    def of(cls, user: AppUser, scopes: list[str] | None = None,
           roles: RoleBook | None = None) -> Principal:
        """The principal of ``user``; with ``scopes`` (a token's), only what they cover."""
        granted = (roles or default_roles()).role(user.role).permissions
        if scopes is not None:
            granted = frozenset(p for p in granted if any(grants(s, p) for s in scopes))
        return cls(user.user_id, user.name, user.role, user.branch_id, user.manager_id, granted)

    def has(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        """Raise :class:`PermissionDenied` unless the principal holds ``permission``."""
        if not self.has(permission):
            raise PermissionDenied(f"{self.name} ({self.role}) lacks permission {permission!r}")

    def scope(self, resource: str, action: str = "read") -> str | None:
        """The widest scope held for ``resource:action`` (``own``, ``branch``, ``all``)."""
        held = [s for s in SCOPES if f"{resource}:{action}:{s}" in self.permissions]
        return held[-1] if held else None

    def can_read(self, resource: str) -> bool:
        return self.scope(resource) is not None


def _own_applications(principal: Principal) -> ColumnElement[bool]:
    if principal.manager_id is None:
        return false()
    tasked = select(Task.application_id).where(Task.assignee_id == principal.manager_id,
                                               Task.application_id.is_not(None))
    return or_(Application.manager_id == principal.manager_id,
               Application.application_id.in_(tasked))


def visible_applications(principal: Principal) -> ColumnElement[bool]:
    """Condition on ``application``: the applications the principal may read."""
    scope = principal.scope("applications")
    if scope == "all":
        return true()
    if scope == "branch" and principal.branch_id is not None:
        return Application.branch_id == principal.branch_id
    if scope == "own":
        return _own_applications(principal)
    return false()


def visible_parties(principal: Principal) -> ColumnElement[bool]:
    """Condition on ``party``: the customers the principal may read — a customer manager the
    parties of applications and tasks assigned to them, approver and supervisor those who
    applied at their branch, analyst, auditor and admin all."""
    scope = principal.scope("customers")
    if scope == "all":
        return true()
    if scope == "branch" and principal.branch_id is not None:
        return Party.party_id.in_(select(Application.party_id)
                                  .where(Application.branch_id == principal.branch_id))
    if scope == "own" and principal.manager_id is not None:
        managed = select(Application.party_id).where(_own_applications(principal))
        tasked = select(Task.party_id).where(Task.assignee_id == principal.manager_id,
                                             Task.party_id.is_not(None))
        return or_(Party.party_id.in_(managed), Party.party_id.in_(tasked))
    return false()


STAFF_PAGES_ONLY = ("staff_alert",)
"""Queues no generic task list shows: a staff alert is about a customer manager and is worked
only from the staff pages, under the staff scope (``staff:read:*``) — never in a task list a
manager, or anyone without that scope, could open."""


def visible_tasks(principal: Principal) -> ColumnElement[bool]:
    """Condition on ``task``: own (assigned to them), the branch's (by the application's
    branch, or for post-loan work by the holding manager's branch), or all — never the queues
    of :data:`STAFF_PAGES_ONLY`."""
    generic = or_(Task.queue.is_(None), Task.queue.not_in(STAFF_PAGES_ONLY))
    return and_(generic, _task_scope(principal))


def _task_scope(principal: Principal) -> ColumnElement[bool]:
    scope = principal.scope("tasks")
    if scope == "all":
        return true()
    if scope == "branch" and principal.branch_id is not None:
        # A credit task belongs to its application's branch; post-loan work (warnings,
        # collection) has no application and belongs to the branch of the manager holding it.
        return or_(Task.application_id.in_(select(Application.application_id)
                                           .where(Application.branch_id == principal.branch_id)),
                   and_(Task.application_id.is_(None), Task.assignee_id.in_(
                       select(CustomerManager.manager_id)
                       .where(CustomerManager.branch_id == principal.branch_id))))
    if scope == "own" and principal.manager_id is not None:
        return Task.assignee_id == principal.manager_id
    return false()
