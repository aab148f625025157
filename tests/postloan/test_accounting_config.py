"""accounting.yaml: the shipped defaults, and mistakes reported with file and line."""

from __future__ import annotations

from decimal import Decimal as D
from importlib import resources

import pytest

from xiaowei.entities.datafiles import DataFileError
from xiaowei.postloan.accounting import (
    Component,
    DayCount,
    RateConvention,
    default_config,
    load_config,
    parse_config,
)

TEXT = resources.files("xiaowei.postloan.accounting").joinpath("accounting.yaml").read_text(
    "utf-8")


def line_of(fragment: str) -> int:
    return next(n for n, line in enumerate(TEXT.splitlines(), 1) if fragment in line)


def test_shipped_defaults():
    config = default_config()
    assert (config.day_count, config.convention) == (DayCount.ACT_360,
                                                     RateConvention.ACTUAL_DAYS)
    assert config.penalty.markup == D("0.5") and config.penalty.compound
    assert config.waterfall.order == (Component.PENALTY, Component.INTEREST,
                                      Component.PRINCIPAL)
    assert config.ladder.edges == (0, 30, 60, 90, 120, 150, 180)
    assert config.grace_days == 0
    assert (config.restructuring.observation_min_periods,
            config.restructuring.observation_min_months) == (2, 12)
    assert config.recovery_order.order[0] is Component.PRINCIPAL


def test_remembered_facts_are_marked_for_checking():
    for key in ("markup:", "compound:", "order:", "recovery_order:", "fee_rate:"):
        assert "[check]" in TEXT.splitlines()[line_of(key) - 1], key


@pytest.mark.parametrize(("old", "new", "key", "message"), [
    ('markup: "0.5"', "markup: 0.5", "penalty.markup", "not float"),
    ('markup: "0.5"', 'markup: "2"', "penalty.markup", "less than or equal to 1"),
    ("day_count: ACT/360 ", "day_count: ACT/366 ", "interest.day_count", "Input should be"),
    ("[0, 30, 60, 90, 120, 150, 180]", "[0, 30, 30]", "delinquency.bucket_edges",
     "strictly increase"),
    ("order: [penalty, interest, principal]", "order: [penalty, interest]",
     "allocation.order", "order must name each"),
    ("grace_days: 0", "grace_days: -1", "delinquency.grace_days", "greater than or equal"),
])
def test_mistakes_name_file_line_and_key(old, new, key, message):
    assert old in TEXT
    line = line_of(old)
    with pytest.raises(DataFileError) as caught:
        parse_config(TEXT.replace(old, new, 1))
    assert f"accounting.yaml:{line}: {key}" in str(caught.value)
    assert message in str(caught.value)


def test_unknown_keys_and_duplicates_are_refused(tmp_path):
    path = tmp_path / "bank.yaml"
    path.write_text(TEXT.replace("interest:\n", "interest:\n  colour: red\n", 1), "utf-8")
    with pytest.raises(DataFileError, match=r"bank.yaml:\d+: interest.colour: Extra inputs"):
        load_config(path)
    path.write_text(TEXT + "version: 2\n", "utf-8")
    with pytest.raises(DataFileError, match="duplicate key 'version'"):
        load_config(path)


def test_a_deployment_file_changes_the_policy(tmp_path):
    path = tmp_path / "bank.yaml"
    path.write_text(TEXT.replace('markup: "0.5"', 'markup: "0.3"')
                    .replace("across_periods: oldest_first", "across_periods: by_component"),
                    "utf-8")
    config = load_config(path)
    assert config.penalty.rate(D("0.05")) == D("0.065")
    assert config.waterfall.across.value == "by_component"
