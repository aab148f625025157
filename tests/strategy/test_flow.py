"""Executing a pack: routing, actions, tables, formulas, splits, sources, lists, fail-safe."""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaowei.engine.strategy.flow import CaseError, Decider, decide
from xiaowei.engine.strategy.nodes.route import BUCKETS, bucket
from xiaowei.engine.strategy.pack import load_pack

DATA = Path(__file__).parent / "data"
PACK = load_pack(DATA / "example_pack.yaml")


class Models:
    """A resolver over fixed scores, standing in for the model registry."""

    def __init__(self, score: float = 0.9) -> None:
        self.score = score
        self.resolved: list[str] = []

    def resolve(self, ref: str):
        self.resolved.append(ref)
        return lambda variables: self.score


def ok_sources(**answers):
    return {"bureau": lambda request, timeout: {"bureau.hits": 0},
            "weather": lambda request, timeout: {"ext.index": 2}, **answers}


def case(**overrides):
    base = {"app.party_type": "company", "app.scenario": "loan",
            "app.amount": Decimal("500000"), "app.phone": "13600000000", "tag.age": 40,
            "tag.overdue_90d": 0, "tag.tax_sales_12m": Decimal("300000")}
    return {**base, **overrides}


def run(inputs=None, *, score=0.9, sources=None, case_id="c1", **kw):
    return decide(PACK, case_id, inputs or case(), resolver=Models(score),
                  sources=ok_sources() if sources is None else sources, **kw)


def test_clean_case_is_approved_automatically_with_limit_price_and_trace():
    d = run()
    assert (d.outcome, d.mode, d.segment) == ("approve", "automatic", "company_loan")
    assert d.variables["grade"] == "A"
    assert d.variables["limit"] == Decimal("150000")
    assert d.variables["price"] == Decimal("0.045")
    assert d.scores == {"app_score": 0.9}
    assert d.reasons == ()
    assert d.pack == PACK.hash
    steps = [(t.node, t.flow) for t in d.trace]
    assert steps[-2:] == [("route", "company"), ("limit_a", "generous")]
    grade = next(t for t in d.trace if t.node == "grade")
    assert grade.inputs == {"score.app": 0.9} and grade.hits == ("g1",)
    assert grade.outputs == {"grade": "A", "factor": Decimal("0.5")}
    assert all(t.micros >= 0 for t in d.trace)


def test_no_segment_goes_to_fail_safe_review_with_reason():
    d = run(case(**{"app.party_type": "martian"}))
    assert (d.outcome, d.mode, d.segment) == ("review", "human", None)
    assert [r.code for r in d.reasons] == ["SYS_NO_SEGMENT"]
    assert d.reasons[0].zh and d.reasons[0].en
    assert d.trace == ()


def test_rule_actions_most_severe_wins_and_reject_stops_the_flow():
    d = run(case(**{"tag.overdue_90d": 2, "tag.tax_sales_12m": Decimal("50000")}))
    assert d.outcome == "review"
    assert [(r.code, r.rule, r.weight) for r in d.reasons] == [("A002", "A002", 20),
                                                               ("A003", "A003", 5)]
    d = run(case(**{"tag.age": 70, "tag.overdue_90d": 2}))
    assert d.outcome == "reject"
    assert {r.code for r in d.reasons} == {"A001", "A002"}  # the whole rule set reports
    assert d.trace[-1].node == "admission"  # reject is a stop outcome: nothing after it ran
    assert d.mode == "automatic"


def test_decision_table_grades_and_review_rule_on_grade():
    d = run(score=0.6)
    assert d.variables["grade"] == "B"
    d = run(score=0.1)
    assert (d.variables["grade"], d.outcome) == ("C", "review")
    assert d.reasons[0].code == "R001"


def test_split_is_deterministic_and_roughly_proportional():
    arms = [run(score=0.6, case_id=f"case-{i}").arm for i in range(2000)]
    assert arms == [run(score=0.6, case_id=f"case-{i}").arm for i in range(2000)]
    share = arms.count("challenger") / len(arms)
    assert 0.17 < share < 0.23
    d = run(score=0.6, case_id="case-0")
    node = "limit_challenger" if d.arm == "challenger" else "limit_champion"
    assert d.trace[-1].node == node and d.arms == {"ab": d.arm}
    factor = Decimal("1.2") if d.arm == "challenger" else 1
    assert d.variables["limit"] == min(Decimal("500000"), Decimal("300000") * Decimal("0.3")
                                       * factor)


def test_grade_a_skips_the_split():
    assert run(score=0.95).arms == {}


def test_critical_source_timeout_goes_to_review_never_approve():
    def slow(request, timeout):
        time.sleep(timeout * 1.5)
        return {"bureau.hits": 0}

    def raising(request, timeout):
        raise TimeoutError

    for fetch in (slow, raising):
        d = run(sources=ok_sources(bureau=fetch))
        assert (d.outcome, d.mode) == ("review", "human")
        failed = [r for r in d.reasons if r.code == "SYS_SOURCE_FAILED"]
        assert failed and failed[0].node == "bureau" and "bureau" in failed[0].detail
        assert d.variables["bureau.hits"] == 0  # the fallback was written


def test_critical_source_wrong_type_or_missing_fetcher_fails_safe():
    d = run(sources=ok_sources(bureau=lambda r, t: {"bureau.hits": "many"}))
    assert d.outcome == "review" and "expected number" in d.reasons[0].detail
    d = run(sources={"weather": lambda r, t: {"ext.index": 2}})
    assert d.outcome == "review" and "no fetcher" in d.reasons[0].detail


def test_non_critical_source_failure_uses_fallback_and_still_approves():
    def down(request, timeout):
        raise ConnectionError("refused")

    d = run(sources=ok_sources(weather=down))
    assert d.outcome == "approve" and d.mode == "automatic"
    assert d.variables["ext.index"] == 1
    assert [r.code for r in d.reasons] == ["SYS_SOURCE_FALLBACK"]


def test_source_receives_declared_inputs_and_timeout():
    seen = []
    run(sources=ok_sources(bureau=lambda r, t: seen.append((r, t)) or {"bureau.hits": 1}))
    assert seen == [({"app.phone": "13600000000"}, 0.05)]


def test_blacklist_rejects_and_whitelist_flags_into_a_variable():
    d = run(case(**{"app.phone": "13800000000"}))
    assert d.outcome == "reject" and d.reasons[0].code == "F001"
    assert len(d.trace) == 1
    d = run(case(**{"app.phone": "13700000000"}))
    assert d.outcome == "approve" and d.variables["vip.hit"] is True


def test_model_failure_fails_safe():
    class Broken:
        def resolve(self, ref):
            def fail(variables):
                raise RuntimeError("model file missing")
            return fail

    d = decide(PACK, "c1", case(), resolver=Broken(), sources=ok_sources())
    assert d.outcome == "review"
    assert any(r.code == "SYS_MODEL_FAILED" for r in d.reasons)


def test_pipl_refusal_of_automated_decision_goes_to_a_person():
    d = run(automated_ok=False)
    assert (d.outcome, d.mode) == ("approve", "human")
    assert d.reasons[-1].code == "SYS_AUTOMATION_REFUSED"


def test_invalid_inputs_raise_one_error_listing_every_problem():
    bad = case(**{"app.amount": "lots", "tag.age": "forty"})
    del bad["app.phone"]
    with pytest.raises(CaseError) as info:
        run(bad)
    assert len(info.value.problems) == 3
    text = str(info.value)
    assert "app.phone: required but missing" in text
    assert "app.amount: expected decimal" in text and "tag.age: expected number" in text


def test_optional_inputs_may_be_missing():
    inputs = case()
    del inputs["tag.tax_sales_12m"]
    d = run(inputs)
    assert d.variables["limit"] == Decimal("0")
    assert [r.code for r in d.reasons] == []  # null < 100000 is not met: no flag


def test_same_inputs_give_the_same_decision_and_trace():
    decider = Decider(PACK, resolver=Models(0.6), sources=ok_sources())
    a, b = decider.decide("c7", case()), decider.decide("c7", case())
    assert a == b  # microseconds are excluded from equality
    strip = [dataclasses.replace(t, micros=0) for t in a.trace]
    assert strip == [dataclasses.replace(t, micros=0) for t in b.trace]
    assert decider.decide("c7", case(), trace=False).trace == ()
    assert dataclasses.replace(decider.decide("c7", case(), trace=False), trace=a.trace) == a


def test_decider_resolves_models_once_and_needs_a_resolver():
    models = Models()
    decider = Decider(PACK, resolver=models, sources=ok_sources())
    for i in range(3):
        decider.decide(str(i), case())
    assert models.resolved == ["appscore@3"]
    with pytest.raises(ValueError, match="pass a resolver"):
        Decider(PACK)


def test_node_error_at_run_time_fails_safe_instead_of_crashing():
    d = run(case(**{"app.amount": 5}), score=0.95)  # int where decimal: still valid
    assert d.outcome == "approve"
    d = run(case(**{"app.scenario": "loan"}), score=float("nan"))
    assert d.outcome == "review" and d.reasons[0].code == "SYS_MODEL_FAILED"


def test_plugin_function_raising_fails_safe_and_unknown_plugin_is_refused_at_load():
    from xiaowei.engine.strategy.expr import FunctionRegistry
    from xiaowei.engine.strategy.expr.functions import DEFAULT_FUNCTIONS
    from xiaowei.engine.strategy.pack import PackError, load_pack_text

    text = (DATA / "example_pack.yaml").read_text("utf-8").replace(
        'O001, when: "tag.age < 22"', 'O001, when: "shaky(tag.age) < 22"')
    with pytest.raises(PackError, match="unknown function 'shaky'"):
        load_pack_text(text, "p.yaml", base_dir=DATA)
    registry = FunctionRegistry(dict(DEFAULT_FUNCTIONS._functions))

    def shaky(x: float) -> float:
        raise ArithmeticError("plugin bug")

    registry.register("shaky", shaky, "(number) -> number")
    pack = load_pack_text(text, "p.yaml", base_dir=DATA, functions=registry)
    d = decide(pack, "c1", case(**{"app.party_type": "owner"}), resolver=Models())
    assert (d.segment, d.outcome) == ("owner_loan", "review")
    assert d.reasons[0].code == "SYS_NODE_ERROR" and "plugin bug" in d.reasons[0].detail
    assert d.trace[0].hits == ("error",)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=40))
def test_split_arm_depends_only_on_the_case_id(case_id):
    split = next(n for n in PACK.flows["standard"] if n.kind == "split")
    assert split.arm_of(case_id) == split.arm_of(case_id)
    assert split.arm_of(case_id)[0] in ("champion", "challenger")
    assert 0 <= bucket("s", "n", case_id) < BUCKETS


def test_buckets_are_uniform_over_many_ids():
    counts = Counter(bucket("salt", "node", f"id-{i}") * 10 // BUCKETS for i in range(20000))
    assert all(1800 < counts[d] < 2200 for d in range(10))
