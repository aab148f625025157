"""Approval authority (审批权限): the largest loan a reviewer's role may approve or confirm.

Why a check of its own, before :class:`~xiaowei.origination.review_queue.ReviewQueue` is
called: the review queue knows people only by name, while authority belongs to a role
(``authority_yuan`` in ``security/roles.yaml``: an approver up to 3,000,000 yuan, a senior
approver more). Every interface that lets a person decide a review — the API, the web pages —
calls :func:`check_review_authority` with the signed-in principal first, so a case above the
approver's authority is refused before anything is written, whoever clicks.

What counts: an approval at the amount it would be made at (the amount given, else the
engine's limit, else the amount applied for — as :meth:`ReviewQueue.approve` decides it), and
a checker's confirmation of an approval at the maker's approved amount. Rejecting, claiming
and refusing a maker's approval commit no money and need no authority.
"""

from __future__ import annotations

from decimal import Decimal

from xiaowei.engine.workflow import TaskView
from xiaowei.origination.review_queue import ReviewError
from xiaowei.security.principal import Principal
from xiaowei.security.roles import RoleBook, default_roles


class OutsideAuthority(ReviewError):
    """The amount is above the reviewer's approval authority (an HTTP 403)."""


def authority_of(principal: Principal, roles: RoleBook | None = None) -> Decimal:
    """The largest amount (yuan) ``principal``'s role may approve; 0 when it has none."""
    limit = (roles or default_roles()).role(principal.role).authority_yuan
    return limit if limit is not None and principal.has("review:decide") else Decimal(0)


def approval_amount(task: TaskView, amount: Decimal | None) -> Decimal:
    """The amount an approval of ``task`` would be made at (see ``ReviewQueue._decide``)."""
    if amount is not None:
        return amount
    limit = (task.payload.get("proposal") or {}).get("limit")
    return Decimal(limit) if limit else Decimal(str(task.payload.get("amount_applied", "0")))


def check_review_authority(principal: Principal, task: TaskView, action: str,
                           amount: Decimal | None = None,
                           roles: RoleBook | None = None) -> None:
    """Refuse (:class:`OutsideAuthority`) an ``approve`` or ``confirm`` of ``task`` above the
    principal's authority; other actions pass."""
    if action == "approve":
        value = approval_amount(task, amount)
    elif action == "confirm":
        result = dict(task.result or {})
        if result.get("outcome") != "approve" or not result.get("approved_amount"):
            return
        value = Decimal(str(result["approved_amount"]))
    else:
        return
    limit = authority_of(principal, roles)
    if value > limit:
        raise OutsideAuthority(
            f"超出审批权限 · {value:,.0f} yuan is above the approval authority of "
            f"{principal.name} ({principal.role}: up to {limit:,.0f} yuan); a senior approver "
            "with enough authority must decide it")


__all__ = ["OutsideAuthority", "approval_amount", "authority_of", "check_review_authority"]
