from __future__ import annotations

from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from xiaowei.entities.organisation import Branch, CustomerManager


def test_branch() -> None:
    sub = Branch(branch_id="HZ-XH-01", name="西湖支行", region_code="330106", parent_id="HZ")
    assert sub.parent_id == "HZ"
    with pytest.raises(ValidationError, match="cannot be its own parent"):
        Branch(branch_id="HZ", name="杭州分行", region_code="330100", parent_id="HZ")
    with pytest.raises(ValidationError, match="region_code"):
        Branch(branch_id="BJ-CW", name="崇文支行", region_code="110103")


@pytest.mark.parametrize("tier", [0, 4])
def test_risk_tier_is_one_to_three(tier: int) -> None:
    with pytest.raises(ValidationError, match="risk_tier"):
        CustomerManager(manager_id="M1", name="赵六", branch_id="HZ", risk_tier=tier,
                        hired_on=date(2020, 1, 1))  # fmt: skip


def test_manager() -> None:
    m = CustomerManager(manager_id="M1", name="赵六", branch_id="HZ", risk_tier=3,
                        hired_on=date(2020, 1, 1), phone="13912345678")  # fmt: skip
    assert m.phone == "+8613912345678"
    with pytest.raises(ValidationError, match="hired_on"):
        CustomerManager(manager_id="M1", name="赵六", branch_id="HZ", risk_tier=1,
                        hired_on=date.today() + timedelta(days=3))  # fmt: skip
    with pytest.raises(ValidationError, match="manager_id"):
        CustomerManager(manager_id="M 1", name="赵六", branch_id="HZ", risk_tier=1,
                        hired_on=date(2020, 1, 1))  # fmt: skip
