"""Intake: one transaction per application, idempotent by key, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from xiaowei.origination import intake
from xiaowei.origination.decide import ApplicationError, DefaultDecider, batch_tag_reader
from xiaowei.origination.intake import (
    IntakeConflict,
    UnknownParty,
    get_application,
    governed_party_key,
)
from xiaowei.origination.model_resolver import RegistryModelResolver
from xiaowei.store.analytic import AnalyticStore
from xiaowei.store.database import make_engine
from xiaowei.store.tables import (
    Application,
    ApplicationIntake,
    Decision,
    DecisionLog,
    Party,
    QuarantinedRow,
    Task,
)


class CountingDecider:
    """The real decider, counting calls (so a test can see that a retry did not decide)."""

    def __init__(self, inner: DefaultDecider, party_key: Any) -> None:
        self.inner, self.calls, self.party_key = inner, 0, party_key

    def decide_with_inputs(self, application: Any, *, automated_ok: bool = True) -> Any:
        self.calls += 1
        return self.inner.decide_with_inputs(application, automated_ok=automated_ok)


@pytest.fixture(scope="module")
def real_decider(pipeline_bank: dict[str, Any]) -> Iterator[dict[str, Any]]:
    with AnalyticStore(pipeline_bank["analytic"]) as analytic, \
            batch_tag_reader(analytic) as tags:
        resolver = RegistryModelResolver(overrides={"app_score": pipeline_bank["model"]})
        decider = DefaultDecider(tags=tags, resolver=resolver)
        key = governed_party_key(analytic)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("XIAOWEI_HOME", str(pipeline_bank["home"]))
            engine = make_engine(pipeline_bank["url"])
            with engine.connect() as c:
                uscc = dict(c.execute(select(Party.party_id, Party.uscc)).all())
            engine.dispose()
        clean = next(a for a in pipeline_bank["apps"] if uscc.get(a["party_id"])
                     and (d := decider.decide({**a, "party_id": key(uscc[a["party_id"]], None)}))
                     ["outcome"] == "approve" and d["mode"] == "automatic")
        yield {"decider": decider, "party_key": key,
               "clean": {**clean, "application_id": "N-" + clean["application_id"]}}


@pytest.fixture
def decider(real_decider: dict[str, Any]) -> CountingDecider:
    return CountingDecider(real_decider["decider"], real_decider["party_key"])


def submit(engine: Engine, decider: CountingDecider, app: Any, **kw: Any) -> Any:
    return intake.submit(engine, decider, app, party_key=decider.party_key, **kw)


def submit_batch(engine: Engine, decider: CountingDecider, rows: Any, **kw: Any) -> Any:
    return intake.submit_batch(engine, decider, rows, party_key=decider.party_key, **kw)


@pytest.fixture
def clean(real_decider: dict[str, Any]) -> dict[str, Any]:
    return dict(real_decider["clean"])


def _count(engine: Engine, table: Any, key: str) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(table)
                         .where(table.application_id == key)).scalar_one()


def test_submission_stores_application_log_decision_and_manager(
        pipeline_store: Engine, decider: CountingDecider, clean: dict[str, Any]) -> None:
    result = submit(pipeline_store, decider, clean, user="wang.li")
    key = clean["application_id"]
    assert result.created and result.status == "decided"
    assert result.decision["outcome"] == "approve" and "trace" not in result.decision
    with pipeline_store.connect() as c:
        app = c.execute(select(Application).where(Application.application_id == key)).one()
        log = c.execute(select(DecisionLog).where(DecisionLog.application_id == key)).one()
        official = c.execute(select(Decision).where(Decision.application_id == key)).one()
        intake = c.execute(select(ApplicationIntake)
                           .where(ApplicationIntake.application_id == key)).one()
    assert app.status == "approved" and app.manager_id == result.manager["manager_id"]
    assert app.manager_id is not None and result.manager["explanation"]["zh"]
    assert {"app.amount", "lim.cap"} <= set(log.inputs)
    assert any(k.startswith("tag.") for k in log.inputs)
    assert log.trace and log.outcome == "approve" and log.mode == "automatic"
    assert log.manager_tier == 1 and log.limit_amount == result.decision["limit"]
    assert official.outcome == "approve" and official.decided_by.startswith("engine:")
    assert intake.received_by == "wang.li" and intake.automated_ok is True
    assert len(intake.payload_sha256) == 64


def test_same_key_same_payload_returns_the_stored_result_without_deciding(
        pipeline_store: Engine, decider: CountingDecider, clean: dict[str, Any]) -> None:
    first = submit(pipeline_store, decider, clean, user="wang.li")
    again = submit(pipeline_store, decider, {**clean, "amount": str(clean["amount"])},
                   user="li.na")
    assert decider.calls == 1 and not again.created
    assert again.decision == first.decision and again.manager == first.manager
    assert _count(pipeline_store, DecisionLog, clean["application_id"]) == 1
    assert get_application(pipeline_store, clean["application_id"]) == again


def test_same_key_other_payload_is_refused(pipeline_store: Engine, decider: CountingDecider,
                                           clean: dict[str, Any]) -> None:
    submit(pipeline_store, decider, clean, user="wang.li")
    with pytest.raises(IntakeConflict, match="different payload"):
        submit(pipeline_store, decider, {**clean, "amount": float(clean["amount"]) + 1},
               user="wang.li")
    with pytest.raises(IntakeConflict, match="different payload"):
        submit(pipeline_store, decider, clean, user="wang.li", automated_ok=False)
    assert decider.calls == 1


def test_a_key_loaded_before_intake_is_refused(pipeline_store: Engine, decider: CountingDecider,
                                               pipeline_bank: dict[str, Any]) -> None:
    with pytest.raises(IntakeConflict, match="already exists"):
        submit(pipeline_store, decider, pipeline_bank["apps"][0], user="wang.li")


def test_unknown_party_is_refused_before_deciding(pipeline_store: Engine,
                                                  decider: CountingDecider,
                                                  clean: dict[str, Any]) -> None:
    with pytest.raises(UnknownParty, match="P-NOBODY"):
        submit(pipeline_store, decider, {**clean, "party_id": "P-NOBODY"}, user="wang.li")
    assert decider.calls == 0 and _count(pipeline_store, Application,
                                         clean["application_id"]) == 0


def test_bad_fields_list_every_problem(pipeline_store: Engine, decider: CountingDecider) -> None:
    with pytest.raises(ApplicationError) as caught:
        submit(pipeline_store, decider, {"party_id": "P1", "amount": "abc"}, user="wang.li")
    assert {p.split(":")[0] for p in caught.value.problems} >= {
        "application_id", "party_type", "channel", "amount", "applied_on"}


def test_refused_automation_goes_to_a_person_and_is_recorded(
        pipeline_store: Engine, decider: CountingDecider, clean: dict[str, Any]) -> None:
    result = submit(pipeline_store, decider, clean, user="wang.li", automated_ok=False)
    assert result.decision["mode"] == "human" and result.status == "in_review"
    assert not result.automated_ok
    assert _count(pipeline_store, Decision, clean["application_id"]) == 0
    with pipeline_store.connect() as c:
        intake = c.execute(select(ApplicationIntake.automated_ok, ApplicationIntake.status)
                           .where(ApplicationIntake.application_id == clean["application_id"])
                           ).one()
    assert tuple(intake) == (False, "in_review")


def test_batch_reports_and_quarantines_bad_rows(pipeline_store: Engine,
                                                decider: CountingDecider,
                                                pipeline_bank: dict[str, Any]) -> None:
    good = [{**a, "application_id": f"B-{a['application_id']}"}
            for a in pipeline_bank["apps"][:3]]
    rows = [good[0], good[1], {"party_id": "P1", "application_id": "B-BAD"},
            {**good[2], "party_id": "P-NOBODY"}, good[0]]
    seen: list[int] = []
    out = submit_batch(pipeline_store, decider, rows, user="wang.li", progress=seen.append)
    assert seen == [1, 2, 3, 4, 5]
    assert [r.application_id for r in out.results] == [good[0]["application_id"],
                                                       good[1]["application_id"],
                                                       good[0]["application_id"]]
    assert [e["row"] for e in out.errors] == [3, 4]
    assert "amount: required but missing" in out.errors[0]["problems"]
    with pipeline_store.connect() as c:
        kept = c.execute(select(QuarantinedRow.row_number, QuarantinedRow.reason,
                                QuarantinedRow.raw)
                         .where(QuarantinedRow.batch_id == out.batch_id)
                         .order_by(QuarantinedRow.row_number)).all()
    assert [k.row_number for k in kept] == [3, 4]
    assert "P-NOBODY" in kept[1].reason and kept[1].raw["row"]["party_id"] == "P-NOBODY"


def test_concurrent_duplicates_end_with_one_application(
        pipeline_store: Engine, decider: CountingDecider, clean: dict[str, Any]) -> None:
    results: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def one() -> None:
        start.wait()
        try:
            results.append(submit(pipeline_store, decider, clean, user="wang.li"))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(results) == 6 and sum(r.created for r in results) == 1
    assert len({r.manager["manager_id"] for r in results}) == 1
    key = clean["application_id"]
    assert [_count(pipeline_store, t, key) for t in (Application, ApplicationIntake,
                                                     DecisionLog, Decision)] == [1, 1, 1, 1]


def test_a_case_for_a_person_opens_its_review_task_once(
        pipeline_store: Engine, decider: CountingDecider, clean: dict[str, Any]) -> None:
    result = submit(pipeline_store, decider, clean, user="wang.li", automated_ok=False)
    assert [t["kind"] for t in result.tasks] == ["manual_review"]
    assert result.tasks[0]["status"] == "open"
    again = submit(pipeline_store, decider, clean, user="wang.li", automated_ok=False)
    assert again.tasks == result.tasks and decider.calls == 1
    with pipeline_store.connect() as c:
        count = c.execute(select(func.count()).select_from(Task)
                          .where(Task.application_id == clean["application_id"])).scalar_one()
    assert count == 1


def test_an_automatic_approval_without_dd_opens_no_work(
        pipeline_store: Engine, decider: CountingDecider, clean: dict[str, Any]) -> None:
    result = submit(pipeline_store, decider, clean, user="wang.li")
    assert result.decision["dd_level"] == "none" and result.tasks == ()


def test_due_diligence_goes_to_the_assigned_manager(
        pipeline_store: Engine, decider: CountingDecider, real_decider: dict[str, Any],
        pipeline_bank: dict[str, Any]) -> None:
    """The strategy's DD level becomes a task held by the manager the matching chose."""
    for app in pipeline_bank["apps"]:
        case = {**app, "application_id": "DD-" + app["application_id"]}
        try:
            result = submit(pipeline_store, decider, case, user="wang.li")
        except intake.IntakeError:
            continue  # a customer the transactional store does not know
        if result.decision["dd_level"] != "none" and result.decision["outcome"] != "reject":
            break
    else:
        raise AssertionError("no application in the tiny bank asks for due diligence")
    dd = [t for t in result.tasks if t["kind"] == "due_diligence_visit"]
    assert len(dd) == 1
    with pipeline_store.connect() as c:
        task = c.execute(select(Task).where(Task.task_id == dd[0]["task_id"])).one()
    assert task.claimed_by == result.manager["manager_id"] is not None
    assert task.payload["dd_level"] == result.decision["dd_level"]
    kinds = {t["kind"] for t in result.tasks}
    assert ("manual_review" in kinds) == (result.decision["outcome"] == "review"
                                          or result.decision["mode"] != "automatic")
