"""The bank's own side: branches and the customer managers (客户经理) who serve borrowers.

Why in the foundation: origination assigns applications to a manager of a required risk tier,
and staff analytics compares managers within a branch, so both need the same validated notion of
who a manager is and where they sit.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from xiaowei.entities.fields import (
    DomainModel,
    EntityId,
    OrganisationName,
    PastDate,
    PersonName,
    Phone,
    RegionCode,
)


class Branch(DomainModel):
    """A branch or sub-branch; ``parent_id`` links a sub-branch (支行) to its branch (分行)."""

    branch_id: EntityId
    name: OrganisationName
    region_code: RegionCode
    parent_id: EntityId | None = None

    @model_validator(mode="after")
    def _not_own_parent(self) -> Branch:
        if self.parent_id == self.branch_id:
            raise ValueError(f"parent_id: branch {self.branch_id} cannot be its own parent")
        return self


class CustomerManager(DomainModel):
    """A customer manager (客户经理).

    ``risk_tier`` 1–3 is the authority a manager holds: 1 for the newest managers, 3 for the
    most experienced, whom strategies require for the riskiest or largest cases.
    """

    manager_id: EntityId
    name: PersonName
    branch_id: EntityId
    risk_tier: int = Field(ge=1, le=3)
    hired_on: PastDate
    phone: Phone | None = None
