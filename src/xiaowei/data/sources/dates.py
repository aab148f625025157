"""When a row is about (its business date) and when the bank learned it (``known_at``).

Why apart: bulk loads select rows by business date, and every later history table carries
``known_at`` so that no backfill leaks a value the bank did not yet know; both follow the
contract's declared rule, whatever the column's type (a date, a timestamp, a month, a year,
or a date written as text in several formats).
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from xiaowei.data.sources.contract import SourceContract
from xiaowei.data.sources.text import as_text, cast_lenient


def business_dates(contract: SourceContract, typed: pa.Table) -> pa.Array | None:
    """Each row's business date (date32; null where it cannot be read), or None if undeclared.

    A month stands for its first day and an int year for 1 January, so that consecutive bulk
    loads over adjacent date ranges take every row exactly once.
    """
    rule = contract.business_date
    if rule is None:
        return None
    values = typed.column(rule.column).combine_chunks()
    kind = contract.column(rule.column).type
    if kind == "date":
        return values
    if kind == "timestamp":
        return pc.cast(pc.floor_temporal(values, unit="day"), pa.date32())
    if kind == "month":
        return cast_lenient(pc.binary_join_element_wise(values, "-01", ""), pa.date32())[0]
    if kind == "int":
        years = pc.if_else(pc.and_(pc.greater_equal(values, 1), pc.less_equal(values, 9999)),
                           values, pa.scalar(None, values.type))
        text = pc.binary_join_element_wise(pc.utf8_lpad(as_text(years), 4, "0"), "-01-01", "")
        return cast_lenient(text, pa.date32())[0]
    formats = rule.formats or []
    return pa.array([_parse_text_date(v, formats) for v in values.to_pylist()], pa.date32())


def _parse_text_date(text: str | None, formats: list[str]) -> dt.date | None:
    if text is None:
        return None
    for fmt in formats:
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def known_at(contract: SourceContract, accepted: pa.Table,
             loaded_on: dt.date | None = None) -> pa.Array:
    """The day the bank learned each accepted row (date32), by the contract's rule."""
    rule = contract.known_at
    if rule.column is not None:
        values = accepted.column(rule.column).combine_chunks()
        return values if values.type == pa.date32() else pc.cast(
            pc.floor_temporal(values, unit="day"), pa.date32())
    if rule.business_date_plus_days is not None:
        dates = business_dates(contract, accepted)
        assert dates is not None  # the contract's cross-check guarantees a business date
        days = pc.add(pc.cast(dates, pa.int32()),
                      pa.scalar(rule.business_date_plus_days, pa.int32()))
        return pc.cast(pc.cast(days, pa.int32()), pa.date32())
    return pa.repeat(pa.scalar(loaded_on or dt.date.today(), pa.date32()), accepted.num_rows)
