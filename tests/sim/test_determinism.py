"""Same seed and size → same data (fingerprint); another seed → other data."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from xiaowei.sim import SimResult, generate, get_size


def test_same_seed_same_fingerprint(tiny_bank: SimResult, tmp_path: Path) -> None:
    again = generate("tiny", 7, tmp_path / "again")
    assert again.fingerprint == tiny_bank.fingerprint
    assert again.tables == tiny_bank.tables


def test_same_seed_same_content_file_by_file(tiny_bank: SimResult, tmp_path: Path) -> None:
    again = generate("tiny", 7, tmp_path / "again")
    for name in ("bank/applications", "raw/tax_invoices", "truth/parties"):
        a = pq.read_table(tiny_bank.out / f"{name}.parquet")
        b = pq.read_table(again.out / f"{name}.parquet")
        assert a.equals(b), name


def test_other_seed_other_fingerprint(tiny_bank: SimResult, tmp_path: Path) -> None:
    other = generate("tiny", 8, tmp_path / "other")
    assert other.fingerprint != tiny_bank.fingerprint


def test_fingerprint_sees_a_changed_value(tiny_bank: SimResult, tmp_path: Path) -> None:
    """The fingerprint is over content: the manifest records one digest per table."""
    manifest = json.loads((tiny_bank.out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["fingerprint"] == tiny_bank.fingerprint
    assert set(manifest["table_digests"]) == set(manifest["tables"])
    assert len(set(manifest["table_digests"].values())) == len(manifest["table_digests"])


def test_every_zone_written(tiny_bank: SimResult) -> None:
    zones = {name.split(".")[0] for name in tiny_bank.tables}
    assert zones == {"bank", "raw", "truth"}
    for name, rows in tiny_bank.tables.items():
        assert rows > 0, name


def test_unknown_size_is_refused() -> None:
    with pytest.raises(ValueError, match="size 'huge' is not one of tiny, small, bank"):
        get_size("huge")


def test_negative_seed_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="seed must be ≥ 0"):
        generate("tiny", -1, tmp_path)


def test_sizes_are_what_the_issue_names() -> None:
    assert get_size("tiny").parties == 512
    assert 19_000 <= get_size("small").parties <= 21_000
    assert get_size("bank").parties == 1_000_000
    for name in ("tiny", "small", "bank"):
        size = get_size(name)
        assert size.chunk % 64 == 0  # fraud-ring blocks never straddle chunks
