"""ECL staging: backstops, SICR triggers, rebuttal; the batch path; class–stage reconciliation."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from xiaowei.entities.datafiles import DataFileError
from xiaowei.postloan.classification import LoanClass
from xiaowei.postloan.staging import (
    Stage,
    default_staging_rules,
    load_staging_rules,
    reconcile,
    stage,
    stage_batch,
)
from xiaowei.postloan.staging.rules import DEFAULT_FILE

SM, SS = LoanClass.SPECIAL_MENTION, LoanClass.SUBSTANDARD


@pytest.mark.parametrize(("dpd", "expected", "code"), [
    (0, 1, "NO_SICR"), (30, 1, "NO_SICR"), (31, 2, "DPD_SICR_BACKSTOP"),
    (90, 2, "DPD_SICR_BACKSTOP"), (91, 3, "DPD_DEFAULT_BACKSTOP"),
])
def test_dpd_backstops(dpd: int, expected: int, code: str) -> None:
    result = stage(dpd=dpd)
    assert result.stage == expected
    assert result.codes[0] == code


def test_the_30_day_presumption_can_be_rebutted_with_evidence_but_not_the_90_day() -> None:
    rebutted = stage(dpd=45, sicr_rebuttal="系统切换导致扣款失败，客户已补足")
    assert rebutted.stage == Stage.PERFORMING
    assert rebutted.codes == ["DPD_SICR_REBUTTED", "NO_SICR"]
    assert stage(dpd=45, sicr_rebuttal="  ").stage == Stage.UNDERPERFORMING
    assert stage(dpd=91, sicr_rebuttal="evidence").stage == Stage.IMPAIRED


def test_rebuttal_is_ignored_where_the_rules_say_the_presumption_is_firm() -> None:
    rules = default_staging_rules()
    firm = rules.model_copy(update={"backstops": rules.backstops.model_copy(
        update={"sicr_rebuttable": False})})
    assert stage(dpd=45, sicr_rebuttal="evidence", rules=firm).stage == Stage.UNDERPERFORMING


@pytest.mark.parametrize(("kwargs", "expected", "code"), [
    ({"impaired": True}, 3, "CREDIT_IMPAIRED"),
    ({"klass": SS}, 3, "CLASS_NON_PERFORMING"),
    ({"klass": LoanClass.LOSS}, 3, "CLASS_NON_PERFORMING"),
    ({"klass": SM}, 2, "CLASS_SPECIAL_MENTION"),
    ({"klass": LoanClass.PASS}, 1, "NO_SICR"),
    ({"rating_downgrade_notches": 2}, 1, "NO_SICR"),
    ({"rating_downgrade_notches": 3}, 2, "RATING_DOWNGRADE"),
    ({"warning_level": "yellow"}, 1, "NO_SICR"),
    ({"warning_level": "orange"}, 2, "WARNING_LEVEL"),
    ({"warning_level": "red"}, 2, "WARNING_LEVEL"),
    ({"watch_list": True}, 2, "WATCH_LIST"),
])
def test_sicr_and_impairment_triggers(kwargs: dict, expected: int, code: str) -> None:
    result = stage(dpd=0, **kwargs)
    assert result.stage == expected
    assert result.codes == [code]


def test_every_trigger_is_listed_and_unknown_levels_are_refused() -> None:
    result = stage(dpd=40, klass=SM, rating_downgrade_notches=4, warning_level="red")
    assert result.codes == ["DPD_SICR_BACKSTOP", "CLASS_SPECIAL_MENTION", "RATING_DOWNGRADE",
                            "WARNING_LEVEL"]
    with pytest.raises(ValueError, match="unknown warning level 'purple'"):
        stage(dpd=0, warning_level="purple")


def test_special_mention_mapping_is_a_switch_and_reconciliation_follows_it() -> None:
    rules = default_staging_rules()
    loose = rules.model_copy(update={"sicr": rules.sicr.model_copy(
        update={"special_mention_is_sicr": False})})
    assert stage(dpd=10, klass=SM, rules=loose).stage == Stage.PERFORMING
    assert reconcile([("L1", SM, 1)], loose) == []
    assert len(reconcile([("L1", SM, 1)])) == 1


def test_reconcile_returns_only_the_inconsistent_pairs() -> None:
    book = [("A", "正常", 1), ("B", "关注", 2), ("C", "次级", 3), ("D", "可疑", 2),
            ("E", "正常", 3), ("F", "关注", 1), ("G", LoanClass.LOSS, Stage.IMPAIRED),
            ("H", "正常", 2)]
    found = reconcile(book)
    assert [(i.loan_id, i.klass.value, int(i.stage)) for i in found] == [
        ("D", "可疑", 2), ("E", "正常", 3), ("F", "关注", 1)]
    assert "第三阶段" in found[0].zh and "Stage 3" in found[0].en


def test_stage_batch_agrees_with_stage() -> None:
    rng = random.Random(11)
    rows = [{"dpd": rng.choice([0, 30, 31, 90, 91, rng.randrange(400)]),
             "klass": rng.choice([None, *LoanClass]), "impaired": rng.random() < 0.15,
             "rating_downgrade_notches": rng.randrange(5),
             "warning_level": rng.choice([None, "none", "yellow", "orange", "red"]),
             "watch_list": rng.random() < 0.1,
             "sicr_rebuttal": "evidence" if rng.random() < 0.2 else None} for _ in range(2000)]
    got = stage_batch(
        np.array([r["dpd"] for r in rows]),
        class_rank=[r["klass"].rank if r["klass"] else -1 for r in rows],
        impaired=[r["impaired"] for r in rows],
        rating_downgrade_notches=[r["rating_downgrade_notches"] for r in rows],
        warning_level=[r["warning_level"] for r in rows],
        watch_list=[r["watch_list"] for r in rows],
        sicr_rebutted=[r["sicr_rebuttal"] is not None for r in rows])
    expected = [int(stage(**r).stage) for r in rows]
    assert got.tolist() == expected
    assert set(expected) == {1, 2, 3}


def test_staging_file_errors_name_the_line(tmp_path: Path) -> None:
    packaged = (Path(__file__).resolve().parents[2] / "src/xiaowei/postloan/staging"
                / DEFAULT_FILE).read_text(encoding="utf-8")
    path = tmp_path / "staging.yaml"
    path.write_text(packaged.replace("default_dpd_above: 90", "default_dpd_above: 30"),
                    encoding="utf-8")
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1)
                if "default_dpd_above: 30" in t)
    with pytest.raises(DataFileError, match=rf"staging.yaml:{line}: backstops.default_dpd_above"):
        load_staging_rules(path)
