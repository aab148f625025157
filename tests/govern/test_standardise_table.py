"""The declarative table step: its spec checks, its output shape, and its refusal of SQL."""

from __future__ import annotations

import duckdb
import pytest

from xiaowei.data.govern.standardise import parse_spec, register, standardise_table


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute(
        "CREATE TABLE src AS SELECT * FROM (VALUES "
        "('１', '2024/3/5', '500万元', 5.0, '万元', ' 杭州（康隆）科技有限责任公司'), "
        "('2', '2023-02-29', '500万美元', 1.0, '元', NULL), "
        "('3', NULL, NULL, NULL, '元', '浙江省杭州市西湖区')"
        ") t(id, day, capital, sales, unit, name)")
    return connection


SPEC = {"id": "text", "day": "date_text", "capital": "amount_text",
        "sales": "amount_in_unit:unit", "name": "company_name"}


def test_standardised_table_lists_issues_per_row(con: duckdb.DuckDBPyConnection) -> None:
    assert standardise_table(con, "src", "out", SPEC) == 1
    rows = con.execute("SELECT id, day::VARCHAR, capital::VARCHAR, sales::VARCHAR, name, "
                       "name_display, name_key, std_issues FROM out ORDER BY id").fetchall()
    assert rows[0] == ("1", "2024-03-05", "5000000.00", "50000.00", "杭州（康隆）科技有限公司",
                       "杭州（康隆）科技有限责任公司", "康隆科技", [])
    assert rows[1][1:3] == (None, None)
    assert rows[1][-1] == ["day: no such date",
                           "capital: unknown unit (need 元, 千元, 万元 or 亿元)"]
    assert rows[2][-1] == []  # missing values are not standardisation issues
    types = dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() "
                             "WHERE table_name = 'out'").fetchall())
    assert (types["day"], types["capital"], types["sales"]) == (
        "DATE", "DECIMAL(18,2)", "DECIMAL(18,2)")


def test_register_is_idempotent(con: duckdb.DuckDBPyConnection) -> None:
    register(con)
    register(con)
    assert con.execute("SELECT std_uscc('91330114934618306C').value").fetchall() == [
        ("91330114934618306C",)]


@pytest.mark.parametrize(("source", "target", "spec", "message"), [
    ("src; DROP TABLE src", "out", SPEC, "source table"),
    ("src", "Out", SPEC, "target table"),
    ("src", "src", SPEC, "must differ"),
    ("src", "out", {"id": "nonsense"}, "unknown rule 'nonsense'"),
    ("src", "out", {"id\"": "text"}, "column name"),
    ("src", "out", {"missing": "text"}, "'missing' is not in table 'src'"),
    ("src", "out", {"sales": "amount_in_unit"}, "needs 'amount_in_unit:<unit column>'"),
    ("src", "out", {"sales": "text:unit"}, "takes no ':'"),
    ("src", "out", {"sales": "amount_in_unit:unit'--"}, "unit column"),
])  # fmt: skip
def test_bad_names_and_specs_are_refused(con: duckdb.DuckDBPyConnection, source: str,
                                         target: str, spec: dict[str, str],
                                         message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        standardise_table(con, source, target, spec)
    assert con.execute("SELECT count(*) FROM src").fetchall() == [(3,)]


def test_parse_spec_reads_the_unit_column() -> None:
    parsed = parse_spec({"sales": "amount_in_unit:unit"})
    assert parsed["sales"][1] == "unit"
    assert parsed["sales"][0].sql_function == "std_amount_in_unit"
