"""Deciding applications end to end on a governed `tiny` bank with a fitted scorecard."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from xiaowei.data.pipeline import simulate_and_load
from xiaowei.modelling.errors import NotForProduction
from xiaowei.modelling.workbench import fit
from xiaowei.origination.decide import (
    DEFAULT_PACK,
    ApplicationError,
    DefaultDecider,
    batch_tag_reader,
    decide_application,
    demo_training_table,
    validate_application,
)
from xiaowei.origination.model_resolver import RegistryModelResolver
from xiaowei.store.analytic import AnalyticStore
from xiaowei.store.database import make_engine
from xiaowei.store.migrate import upgrade
from xiaowei.strategies import StrategyStore

KEYS = {"outcome", "limit", "price", "term", "dd_level", "manager_tier", "mode", "reasons",
        "scores", "pack_version", "segment", "trace"}


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("decide")
    brought = simulate_and_load(root, "tiny", 15)
    with AnalyticStore(brought.analytic_path) as analytic:
        data = demo_training_table(analytic.connection, root / "train.parquet")
        fit(data, "bad", root / "model")
        rows = analytic.connection.sql(
            "select a.application_id, a.party_id, p.party_type, a.product_intent, a.channel, "
            "a.amount_yuan, a.applied_on, a.declared_revenue_yuan, a.employees "
            "from gov.application a join (select party_id, any_value(party_type) party_type "
            "from gov.party_profile group by 1) p using (party_id) "
            "order by a.application_id").fetchall()
        dishonest = analytic.connection.sql(
            "select party_id, min(known_at) from gov.dishonest_listing group by 1").fetchall()
        with batch_tag_reader(analytic) as tags:
            resolver = RegistryModelResolver(overrides={"app_score": root / "model"})
            yield {"root": root, "analytic": analytic, "decider":
                   DefaultDecider(tags=tags, resolver=resolver), "rows": rows,
                   "dishonest": dishonest, "model": root / "model"}


def _app(row: tuple) -> dict[str, Any]:
    keys = ("application_id", "party_id", "party_type", "product_intent", "channel", "amount",
            "applied_on", "declared_revenue", "employees")
    app = dict(zip(keys, row, strict=True))
    app["applied_on"] = app["applied_on"].isoformat()
    return {k: v for k, v in app.items() if v is not None}


def _clean_case(bank: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The first application the pack approves automatically (found once per module)."""
    if "clean" in bank:
        return bank["clean"]
    for row in bank["rows"]:
        app = _app(row)
        result = bank["decider"].decide(app)
        if result["outcome"] == "approve" and result["mode"] == "automatic":
            bank["clean"] = (app, result)
            return app, result
    raise AssertionError("no clean applicant in the tiny bank")


def test_clean_applicant_is_approved_automatically_with_a_limit(bank: dict[str, Any]) -> None:
    app, result = _clean_case(bank)
    assert set(result) >= KEYS
    assert result["limit"] >= 10_000 and result["limit"] % 10_000 == 0
    assert result["limit"] <= float(app["amount"])
    assert result["dd_level"] == "none" and result["manager_tier"] == "junior"
    assert result["grade"] in ("A1", "A2", "B1", "B2") and 0 < result["price"] < 0.1
    assert "app_score" in result["scores"]
    assert not [r for r in result["reasons"] if r["code"].startswith(("MD", "SYS"))]
    nodes = [t["node"] for t in result["trace"]]
    assert {"antifraud", "admission_courts", "score", "grade", "limit", "decision_mode"} \
        <= set(nodes)
    assert result["models"] == {"app_score@approved": f"dir:{bank['model']}"}


def test_same_application_same_decision(bank: dict[str, Any]) -> None:
    app, first = _clean_case(bank)
    again = bank["decider"].decide(app)
    strip = lambda d: {k: v for k, v in d.items() if k not in ("trace", "micros")}  # noqa: E731
    assert strip(again) == strip(first)


def test_no_automation_sends_the_case_to_a_person(bank: dict[str, Any]) -> None:
    app, _ = _clean_case(bank)
    result = bank["decider"].decide(app, automated_ok=False)
    assert result["mode"] == "human"
    assert "SYS_AUTOMATION_REFUSED" in [r["code"] for r in result["reasons"]]


def test_dishonest_debtor_is_rejected_with_that_reason(bank: dict[str, Any]) -> None:
    party, listed = bank["dishonest"][0]
    row = next(r for r in bank["rows"] if r[1] == party) if any(
        r[1] == party for r in bank["rows"]) else None
    app = _app(row) if row else {"application_id": "T-DISHONEST", "party_id": party,
                                 "party_type": "enterprise", "product_intent": "working_capital",
                                 "channel": "walk_in", "amount": 300000}
    app["applied_on"] = (listed + dt.timedelta(days=30)).isoformat()
    result = bank["decider"].decide(app)
    assert result["outcome"] == "reject" and result["limit"] == 0
    assert "AC01" in [r["code"] for r in result["reasons"]]
    assert next(r for r in result["reasons"] if r["code"] == "AC01")["zh"] == "失信被执行人"


def test_unknown_party_type_goes_to_review_with_a_reason(bank: dict[str, Any]) -> None:
    app, _ = _clean_case(bank)
    result = bank["decider"].decide({**app, "party_type": "cooperative"})
    assert result["outcome"] == "review" and result["mode"] == "human"
    assert result["segment"] is None
    assert [r["code"] for r in result["reasons"]] == ["SYS_NO_SEGMENT"]


def test_unknown_product_goes_to_review(bank: dict[str, Any]) -> None:
    app, _ = _clean_case(bank)
    result = bank["decider"].decide({**app, "product_intent": "crypto_loan"})
    assert result["outcome"] == "review"
    assert "BZ16" in [r["code"] for r in result["reasons"]]


def test_failing_critical_source_goes_to_review(bank: dict[str, Any]) -> None:
    app, _ = _clean_case(bank)

    def down(_request: Any, _timeout: float) -> dict[str, Any]:
        raise ConnectionError("bureau unreachable")

    decider = bank["decider"]
    decider.sources = {"bureau_live": down}
    try:
        result = decider.decide(app)
    finally:
        decider.sources = {}
    assert result["outcome"] == "review" and result["mode"] == "human"
    failed = [r for r in result["reasons"] if r["code"] == "SYS_SOURCE_FAILED"]
    assert failed and "bureau unreachable" in failed[0]["detail"]


def test_failing_tag_computation_goes_to_review(bank: dict[str, Any]) -> None:
    app, _ = _clean_case(bank)

    def broken(_party: str, _day: dt.date) -> dict[str, Any]:
        raise OSError("governed snapshot missing")

    decider = DefaultDecider(tags=broken, resolver=RegistryModelResolver(
        overrides={"app_score": bank["model"]}))
    result = decider.decide(app)
    assert result["outcome"] == "review"
    assert "SYS_SOURCE_FAILED" in [r["code"] for r in result["reasons"]]


def test_bad_application_lists_every_problem() -> None:
    with pytest.raises(ApplicationError) as caught:
        validate_application({"party_id": "P1", "amount": "-5", "applied_on": "yesterday",
                              "term_months": 0, "colour": "red"})
    problems = caught.value.problems
    text = "\n".join(problems)
    for needle in ("application_id: required", "party_type: required",
                   "product_intent: required", "channel: required", "amount:", "applied_on:",
                   "term_months:", "unknown fields ['colour']"):
        assert needle in text, needle
    assert len(problems) == 8


def test_decide_application_entry_point(bank: dict[str, Any]) -> None:
    app, expected = _clean_case(bank)
    result = decide_application(app, analytic=bank["analytic"], resolver=RegistryModelResolver(
        overrides={"app_score": bank["model"]}))
    assert result["outcome"] == expected["outcome"] and result["limit"] == expected["limit"]


def test_registry_refuses_drafts_in_production(bank: dict[str, Any]) -> None:
    class DraftOnly:
        def resolve(self, ref: str, *, allow_draft: bool = False) -> Any:
            if not allow_draft:
                raise NotForProduction(f"{ref} is draft")
            raise AssertionError("unreachable in this test")

    with pytest.raises(NotForProduction):
        RegistryModelResolver(DraftOnly()).resolve("app_score@approved")


def test_a_server_follows_the_live_pack_version_without_a_restart(
        bank: dict[str, Any], tmp_path: Path) -> None:
    """One DefaultDecider, held like a server holds it: publishing a new version or rolling
    back changes the version its next decision runs on; nothing is rebuilt by the caller."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        store = StrategyStore(engine)
        text = DEFAULT_PACK.read_text("utf-8")
        versions = {}
        for folder, edited in (("v1", text), ("v2", text.replace(
                "团伙欺诈评分极高", "团伙欺诈评分极高（第二版）"))):
            (tmp_path / folder).mkdir()
            (tmp_path / folder / "pack.yaml").write_text(edited, "utf-8")
            ref = store.submit(tmp_path / folder, "zhao.min").record.ref
            store.approve(ref, "li.na")
            versions[folder] = ref
        store.publish(versions["v1"], "chen.gang")
        resolver = RegistryModelResolver(overrides={"app_score": bank["model"]})
        server = DefaultDecider(tags=bank["decider"].tags, resolver=resolver).follow(
            store, "origination-default", interval=0.0)
        app, first = _clean_case(bank)
        assert server.decide(app)["pack_version"] == first["pack_version"]
        store.publish(versions["v2"], "chen.gang")
        second = server.decide(app)
        assert second["pack_version"] != first["pack_version"]
        assert second["outcome"] == first["outcome"]  # only a reason's wording changed
        store.rollback("origination-default", "chen.gang", note="回退到第一版")
        assert server.decide(app)["pack_version"] == first["pack_version"]
    finally:
        engine.dispose()
