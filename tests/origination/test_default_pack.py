"""The default origination pack: loads clean, ~100 rules, inputs are real tags or app fields."""

from __future__ import annotations

from decimal import Decimal

import yaml

from xiaowei.data.tags.service import bank_catalogue
from xiaowei.engine.strategy import load_pack
from xiaowei.origination.credit_limit import load_parameters
from xiaowei.origination.decide import DEFAULT_PACK, OPTIONAL, REQUIRED

TAG_TYPES = {"int": "number", "float": "number", "bool": "bool", "string": "string"}


def _spec() -> dict:
    return yaml.safe_load(DEFAULT_PACK.read_text("utf-8"))


def test_default_pack_loads_without_problems() -> None:
    pack = load_pack(DEFAULT_PACK)  # raises PackError listing every problem otherwise
    assert pack.name == "origination-default" and len(pack.hash) == 64
    assert [s.id for s in pack.segments] == ["supply_chain_dealer", "enterprise_tax_invoice",
                                              "enterprise", "individual_business",
                                              "business_owner"]
    assert pack.models == {"app_score": "app_score@approved"}
    assert pack.sources["bureau_live"].critical


def test_about_one_hundred_rules_with_zh_en_reasons() -> None:
    spec = _spec()
    rules = [r for nodes in spec["flows"].values() for n in nodes if n["kind"] == "rules"
             for r in n["rules"]]
    rows = [r for nodes in spec["flows"].values() for n in nodes if n["kind"] == "table"
            for r in n["rows"]]
    assert 90 <= len(rules) <= 120, len(rules)
    assert len(rows) >= 40
    for code, text in spec["reasons"].items():
        assert text["zh"] and text["en"], code


def test_every_input_is_a_real_tag_or_an_application_field() -> None:
    pack = load_pack(DEFAULT_PACK)
    tags = {t.definition.name: t.definition.type for t in bank_catalogue().tags.values()}
    for name, kind in pack.inputs.items():
        prefix, _, field = name.partition(".")
        if prefix == "tag":
            assert field in tags, f"{name} is not a catalogue tag"
            assert TAG_TYPES[tags[field]] == kind, f"{name}: {kind} vs catalogue {tags[field]}"
            assert name not in pack.required, f"{name}: tags are optional (a party may lack one)"
        elif prefix == "app":
            assert field in (*REQUIRED, *OPTIONAL), name
        else:
            assert prefix == "lim", name  # the credit-limit policy's steps, from decide.py


def test_limit_multipliers_agree_with_the_credit_limit_policy() -> None:
    policy = load_parameters().rating_multipliers
    spec = _spec()
    table = next(n for n in spec["flows"]["main"] if n["id"] == "limit_multiplier")
    for grade, mult in policy.items():
        row = next(r for r in table["rows"]
                   if r["when"][1] == "-" and (f'"{grade}"' in r["when"][0]
                                               or r["when"][0] == "-"))
        assert Decimal(str(row["then"]["lim.multiplier"])) == Decimal(str(mult)), grade
