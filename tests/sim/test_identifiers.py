"""Every simulated identifier is valid (python-stdnum, phonenumbers) unless dirt made it so."""

from __future__ import annotations

import phonenumbers
from stdnum.cn import ric, uscc


def test_every_party_uscc_valid(small) -> None:
    codes = small.column("SELECT uscc FROM truth.parties WHERE uscc <> ''")
    assert len(codes) > 10_000
    assert all(uscc.is_valid(c) for c in codes)
    assert len(set(codes)) == len(codes)


def test_every_key_person_id_valid(small) -> None:
    ids = small.column("SELECT key_person_id FROM truth.parties")
    assert all(ric.is_valid(i) for i in ids)


def test_people_in_other_tables_have_valid_ids(small) -> None:
    for sql in ("SELECT holder_id FROM raw.registry_shareholders",
                "SELECT guarantor_id FROM bank.application_guarantors"):
        ids = small.column(sql)
        assert ids and all(ric.is_valid(i) for i in ids), sql


def test_outside_counterparties_have_valid_uscc(small) -> None:
    codes = small.column("SELECT DISTINCT buyer_tax_id FROM raw.tax_invoices")
    assert all(uscc.is_valid(c) for c in codes)


def test_phones_valid_mobile_numbers(small) -> None:
    phones = small.column("SELECT phone FROM bank.applications WHERE phone IS NOT NULL")
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(p, "CN")) for p in phones)


def test_same_person_same_id_everywhere(small) -> None:
    """A legal representative's ID in the registry equals the one on the application."""
    mismatches = small.one("""
        SELECT COUNT(*) FROM bank.applications a JOIN truth.applications t USING (application_no)
        JOIN truth.parties p USING (party_idx)
        WHERE a.id_number <> p.key_person_id""")
    total = small.one("SELECT COUNT(*) FROM bank.applications")
    # Only the 0.8% typing errors differ.
    assert 0 < mismatches < 0.02 * total
