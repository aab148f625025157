"""``xiaowei model fit | score | report`` on any table: real public data and bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from xiaowei.cli.main import app
from xiaowei.modelling import workbench

TARGET = "default.payment.next.month"


def _shared() -> Path:
    env = os.environ.get("XIAOWEI_SHARED")
    for base in [*([Path(env)] if env else []), Path(__file__).resolve().parents[3] / "..",
                 Path.cwd() / ".."]:
        folder = (base / "shared" if (base / "shared").is_dir() else base) / "data"
        if (folder / "taiwan_credit_default" / "UCI_Credit_Card.csv").is_file():
            return folder
    raise FileNotFoundError("../shared/data with the Taiwan credit-card data was not found")


@pytest.fixture(scope="module")
def taiwan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The fixed 70/30 split of the Taiwan credit-card defaults as two CSV files."""
    data = _shared()
    folder = tmp_path_factory.mktemp("taiwan")
    con = duckdb.connect()
    for part in ("train", "test"):
        con.execute(
            "COPY (SELECT d.* EXCLUDE (ID, rn) FROM (SELECT *, row_number() OVER () - 1 AS rn "
            "FROM read_csv($data)) d JOIN read_csv($split) s ON s.row = d.rn "
            f"WHERE s.split = $part ORDER BY d.rn) TO '{folder / part}.csv'",
            {"data": str(data / "taiwan_credit_default" / "UCI_Credit_Card.csv"),
             "split": str(data / "splits" / "taiwan.csv"), "part": part})
    return folder / "train.csv", folder / "test.csv"


def _run(*args: object) -> dict:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _refused(*args: object) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 2, result.output
    return result.output


@pytest.mark.parametrize("kind", ["scorecard", "gbdt"])
def test_fit_score_report_on_real_data(taiwan, tmp_path: Path, kind: str) -> None:
    train, test = taiwan
    model = tmp_path / "model"
    fitted = _run("model", "fit", "--data", train, "--target", TARGET, "--kind", kind,
                  "--categorical", "SEX,EDUCATION,MARRIAGE", "--out", model, "--json")
    assert fitted["model_dir"] == str(model) and fitted["features"]
    assert 0.70 < fitted["auc_train"] < 0.95
    manifest = json.loads((model / "model.json").read_text("utf-8"))
    assert manifest["kind"] == kind and len(manifest["data_fingerprint"]) == 64
    scored = tmp_path / "scored.parquet"
    _run("model", "score", "--model", model, "--data", test, "--out", scored, "--json")
    con = duckdb.connect()
    rows = con.sql(f"SELECT * FROM '{scored}'").to_arrow_table()
    original = con.sql(f"SELECT * FROM read_csv('{test}')").to_arrow_table()
    assert rows.num_rows == original.num_rows == 9000
    assert rows.column("LIMIT_BAL").to_pylist() == original.column("LIMIT_BAL").to_pylist()
    assert {"score", "pd", "grade", "reasons"} <= set(rows.column_names)
    pd = rows.column("pd").to_numpy()
    points = rows.column("score").to_numpy()
    assert ((pd > 0) & (pd < 1)).all() and (points[pd.argmin()] > points[pd.argmax()])
    reasons = [r for r in rows.column("reasons").to_pylist() if r]
    assert len(reasons) > 8000 and all(set(r.split("|")) <= set(fitted["features"])
                                       for r in reasons)
    report = _run("model", "report", "--model", model, "--data", test,
                  "--out", tmp_path / "report", "--json")
    recent = {r["measure"]: r["value"] for r in report["summary"]["rows"]
              if r["sample"] == "recent"}
    assert recent["auc"] > 0.75  # the bar on this split is 0.760 (scorecard)
    csi = json.loads((tmp_path / "report" / "report.json").read_text("utf-8"))["stability"]["csi"]
    if kind == "scorecard":  # a characteristic stability index for every feature of the card
        assert {c["feature"] for c in csi} == set(fitted["features"])
        assert all(c["value"] < 0.1 for c in csi)  # a random split: nothing has shifted
    html = (tmp_path / "report" / "report.html").read_text("utf-8")
    assert "<svg" in html and "http://" not in html and "https://" not in html


def test_score_keeps_the_order_and_needs_no_target(tmp_path: Path) -> None:
    train, test = tmp_path / "train.csv", tmp_path / "new.csv"
    train.write_text("income,sector,bad\n" + "".join(
        f"{1000 + (i * 37) % 900},{'ab'[i % 2]},{int(((i * 37) % 900 < 300) != (i % 7 == 0))}\n"
        for i in range(600)), "utf-8")
    test.write_text("sector,income\nb,1100\na,1850\nzz,\n", "utf-8")  # unseen, missing
    _run("model", "fit", "--data", train, "--target", "bad", "--out", tmp_path / "m", "--json")
    _run("model", "score", "--model", tmp_path / "m", "--data", test,
         "--out", tmp_path / "out.csv", "--json")
    lines = (tmp_path / "out.csv").read_text("utf-8").splitlines()
    assert lines[0].startswith("sector,income,score,pd,grade,reasons")
    assert [line.split(",")[0] for line in lines[1:]] == ["b", "a", "zz"]


def test_bad_input_is_refused_with_the_reason(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("x,y\n" + "".join(f"{i},{int((i < 60) != (i % 9 == 0))}\n"
                                       for i in range(200)), "utf-8")
    assert "not in the data" in _refused("model", "fit", "--data", good, "--target", "bad",
                                         "--out", tmp_path / "m")
    constant = tmp_path / "constant.csv"
    constant.write_text("x,y\n" + "".join(f"{i},0\n" for i in range(50)), "utf-8")
    assert "constant" in _refused("model", "fit", "--data", constant, "--target", "y",
                                  "--out", tmp_path / "m")
    three = tmp_path / "three.csv"
    three.write_text("x,y\n" + "".join(f"{i},{i % 3}\n" for i in range(60)), "utf-8")
    assert "only 0 and 1" in _refused("model", "fit", "--data", three, "--target", "y",
                                      "--out", tmp_path / "m")
    _run("model", "fit", "--data", good, "--target", "y", "--out", tmp_path / "m", "--json")
    other = tmp_path / "other.csv"
    other.write_text("z\n1\n", "utf-8")
    assert "lacks columns" in _refused("model", "score", "--model", tmp_path / "m",
                                       "--data", other, "--out", tmp_path / "o.csv")
    assert "no such file" in _refused("model", "fit", "--data", tmp_path / "none.csv",
                                      "--target", "y", "--out", tmp_path / "m")


def test_garbage_in_a_numeric_column_lands_in_its_own_bin(tmp_path: Path) -> None:
    rows = "".join(f"{'n/a' if i == 7 else 'abc' if i % 97 == 5 else i * 10},"
                   f"{int((i < 150) != (i % 11 == 0))}\n" for i in range(500))
    data = tmp_path / "dirty.csv"
    data.write_text("turnover,bad\n" + rows, "utf-8")
    fitted = _run("model", "fit", "--data", data, "--target", "bad", "--out", tmp_path / "m",
                  "--json")
    assert fitted["features"] == ["turnover"]
    bins = {r["bin"]: r["count"] for r in workbench.load(tmp_path / "m").model.points_table()}
    assert bins["garbage (not a number)"] == 6  # 'abc' on rows 5, 102, 199, 296, 393, 490
    assert bins["missing"] == 1  # 'n/a' means no value, not garbage
    _run("model", "score", "--model", tmp_path / "m", "--data", data,
         "--out", tmp_path / "s.parquet", "--json")
    scored = duckdb.connect().execute(f"SELECT count(*) FROM '{tmp_path / 's.parquet'}' "
                                      "WHERE score IS NULL").fetchall()[0][0]
    assert scored == 0


def test_monitor_flags_the_month_whose_applicants_shifted(taiwan, tmp_path: Path) -> None:
    """Three months of the test split: two as they are, one where every applicant's recent
    repayment status reads one month worse — the drift a monitoring job exists to catch."""
    train, test = taiwan
    _run("model", "fit", "--data", train, "--target", TARGET, "--out", tmp_path / "m", "--json")
    months = tmp_path / "months.csv"
    duckdb.connect().execute(
        f"COPY (SELECT * REPLACE (CASE WHEN n % 3 = 2 THEN PAY_0 + 1 ELSE PAY_0 END AS PAY_0), "
        f"'2025-0' || (n % 3 + 1) AS month FROM (SELECT *, row_number() OVER () AS n "
        f"FROM read_csv('{test}'))) TO '{months}'")
    result = _run("model", "monitor", "--model", tmp_path / "m", "--data", months,
                  "--period", "month", "--json")
    by_month = {row["period"]: row for row in result["periods"]}
    assert sorted(by_month) == ["2025-01", "2025-02", "2025-03"]
    assert by_month["2025-01"]["psi"] < 0.1 and by_month["2025-02"]["psi"] < 0.1
    assert by_month["2025-03"]["psi"] > 0.1 and by_month["2025-03"]["flags"]
    assert [row["period"] for row in result["flagged"]] == ["2025-03"]
    assert all(0.7 < by_month[m]["auc"] < 0.85 for m in by_month)
    _run("model", "report", "--model", tmp_path / "m", "--data", months,
         "--out", tmp_path / "r", "--json")
    csi = json.loads((tmp_path / "r" / "report.json").read_text("utf-8"))["stability"]["csi"]
    assert csi[0]["feature"] == "PAY_0"  # the characteristic that moved leads the CSI table
    gaps = tmp_path / "gaps.csv"
    duckdb.connect().execute(f"COPY (SELECT * REPLACE (CASE WHEN PAY_0 > 1 THEN NULL "
                             f"ELSE month END AS month) FROM read_csv('{months}')) TO '{gaps}'")
    assert "without a period" in _refused("model", "monitor", "--model", tmp_path / "m",
                                          "--data", gaps, "--period", "month")
    assert "not in the data" in _refused("model", "monitor", "--model", tmp_path / "m",
                                         "--data", test, "--period", "month")
