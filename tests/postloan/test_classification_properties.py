"""Property: with every other fact fixed, more days past due never gives a better class."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from xiaowei.postloan.classification import (
    LoanClass,
    LoanState,
    UpgradeFacts,
    classify,
    default_rules,
)

AS_OF = dt.date(2025, 6, 30)
dates = st.none() | st.dates(min_value=dt.date(2022, 1, 1), max_value=dt.date(2025, 12, 31))


@st.composite
def facts(draw: st.DrawFn) -> dict:
    restructured = draw(st.booleans())
    return {
        "product": draw(st.sampled_from([None, "credit_card", "working_capital"])),
        "segment": draw(st.sampled_from([None, "retail", "small_micro", "corporate"])),
        "impaired": draw(st.booleans()),
        "ecl_ratio": draw(st.none() | st.decimals(min_value=0, max_value=1, places=4)),
        "signals": draw(st.lists(st.sampled_from(list(default_rules().signals)), max_size=3,
                                 unique=True)),
        "restructured": restructured,
        "observation_passed": draw(st.sampled_from([None, True, False])) if restructured
        else None,
        "first_payment_after_restructuring": draw(dates) if restructured else None,
        "periods_paid_since": draw(st.integers(0, 6)),
        "last_missed_on": draw(dates) if restructured else None,
        "restructured_again_in_observation": restructured and draw(st.booleans()),
        "current_class": draw(st.none() | st.sampled_from(list(LoanClass))),
        "upgrade": draw(st.none() | st.builds(UpgradeFacts, st.booleans(), st.integers(0, 4),
                                              st.integers(0, 12), st.booleans())),
    }


@settings(max_examples=300, deadline=None)
@given(facts(), st.integers(0, 800), st.integers(0, 800))
def test_class_never_improves_as_dpd_increases(common: dict, a: int, b: int) -> None:
    low, high = sorted((a, b))
    better = classify(LoanState("P", dpd=low, **common), as_of=AS_OF).klass
    worse = classify(LoanState("P", dpd=high, **common), as_of=AS_OF).klass
    assert worse >= better


def test_the_property_is_not_vacuous() -> None:
    common = {"ecl_ratio": Decimal("0.1")}
    assert classify(LoanState("P", dpd=8, **common)).klass > \
        classify(LoanState("P", dpd=7, **common)).klass
