"""Source contracts as YAML: one per simulated raw source, errors with file:line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from xiaowei.data.sources import SourceContract, known_at, parse_contract
from xiaowei.entities.datafiles import DataFileError
from xiaowei.sim import SimResult

GOOD = """\
source: demo
version: 1
columns:
  - {name: party_id, type: string, required: true}
  - {name: day, type: date, required: true}
  - {name: amount, type: float, min: 0}
business_date: {column: day}
known_at: {business_date_plus_days: 3}
party_keys:
  uscc: [party_id]
"""


def test_one_contract_per_raw_table_of_the_sim(tiny_sim: SimResult,
                                               contracts: dict[str, SourceContract]) -> None:
    raw = {p.stem for p in (Path(tiny_sim.out) / "raw").glob("*.parquet")}
    assert set(contracts) == raw
    for contract in contracts.values():
        assert contract.party_keys, f"{contract.source} cannot be pulled online"


def test_a_good_contract_parses() -> None:
    contract = parse_contract(GOOD, "demo.yaml")
    assert contract.names == ["party_id", "day", "amount"]
    assert contract.arrow_schema.field("day").type == pa.date32()


@pytest.mark.parametrize(("text", "line", "words"), [
    (GOOD.replace("type: float", "type: money"), 6, "columns.2.type"),
    (GOOD.replace("min: 0}", "min: 0, colour: red}"), 6, "colour"),
    (GOOD.replace("{column: day}", "{column: when}"), 7, "no column 'when'"),
    (GOOD.replace("{business_date_plus_days: 3}", "{}"), 8, "exactly one"),
    (GOOD.replace("[party_id]", "[nobody]"), 10, "no column 'nobody'"),
    (GOOD.replace("required: true}\n  - {name: day", "regex: '(('}\n  - {name: day"), 4,
     "regex does not compile"),
    (GOOD.replace("type: float, min: 0", "type: string, min: 0"), 6, "min/max do not apply"),
    (GOOD.replace("source: demo", "source: other"), 1, "must match the file name"),
    (GOOD + "unique: [party_id]\nunique: [day]\n", 12, "duplicate key 'unique'"),
    (GOOD.replace("{column: day}", "{column: party_id}"), 7, "give formats"),
])
def test_errors_name_file_line_and_key(text: str, line: int, words: str) -> None:
    with pytest.raises(DataFileError) as caught:
        parse_contract(text, "demo.yaml")
    message = str(caught.value)
    assert message.startswith(f"demo.yaml:{line}:"), message
    assert words in message


def test_known_at_rules() -> None:
    contract = parse_contract(GOOD, "demo.yaml")
    table = pa.table({"party_id": ["a"], "day": [dt.date(2024, 3, 30)], "amount": [1.0]},
                     schema=contract.arrow_schema)
    assert known_at(contract, table).to_pylist() == [dt.date(2024, 4, 2)]
    by_column = parse_contract(GOOD.replace("{business_date_plus_days: 3}", "{column: day}"),
                               "demo.yaml")
    assert known_at(by_column, table).to_pylist() == [dt.date(2024, 3, 30)]
    on_load = parse_contract(GOOD.replace("{business_date_plus_days: 3}", "{on_load: true}"),
                             "demo.yaml")
    assert known_at(on_load, table, dt.date(2025, 1, 2)).to_pylist() == [dt.date(2025, 1, 2)]


def test_tax_grades_are_known_in_april_of_the_next_year(
        contracts: dict[str, SourceContract]) -> None:
    grades = contracts["tax_credit_grades"]
    table = pa.table({"taxpayer_id": ["x"], "year": [2024], "grade": ["A"]},
                     schema=grades.arrow_schema)
    (day,) = known_at(grades, table).to_pylist()
    assert day.year == 2025 and day.month == 4
