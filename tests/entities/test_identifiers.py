from __future__ import annotations

import pickle
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaowei.entities.errors import InvalidIdentifier
from xiaowei.entities.identifiers import (
    is_valid_phone,
    is_valid_resident_id,
    is_valid_uscc,
    normalise_text,
    validate_phone,
    validate_resident_id,
    validate_uscc,
)

# Valid numbers from python-stdnum's own doctests.
STDNUM_USCC = "91110000600037341L"
STDNUM_RIC = "360426199101010071"


def _assert_safe(exc: InvalidIdentifier, field: str, raw: str) -> None:
    """The error names the field and never carries the raw value anywhere."""
    message = str(exc)
    assert f"field '{field}'" in message
    assert exc.field == field
    assert raw not in message
    assert all(raw not in str(arg) for arg in exc.args)
    assert raw not in exc.masked_value


# --- normalisation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("９１１１００００６０００３７３４１Ｌ", "91110000600037341L"),
        ("9111 0000 6000 3734 1l", "91110000600037341L"),
        ("\u3000911100-00600037341L\u3000", "91110000600037341L"),
        ("9111\u200b0000\u2014600037341L", "91110000600037341L"),
        ("１３８－１２３４－５６７８", "13812345678"),
        ("\t+86 138\u00a01234 5678 ", "+8613812345678"),
    ],
)
def test_normalise_text(typed: str, canonical: str) -> None:
    assert normalise_text(typed) == canonical


# --- USCC ------------------------------------------------------------------------------------


def test_stdnum_sample_uscc_is_valid() -> None:
    assert validate_uscc(STDNUM_USCC) == STDNUM_USCC
    assert is_valid_uscc(STDNUM_USCC)


@pytest.mark.parametrize(
    "typed",
    [
        "９１１１００００６０００３７３４１Ｌ",
        "91110000600037341l",
        "9 1 110000 600037341L",
        "9111-0000-6000-3734-1L",
    ],
)
def test_uscc_as_typed_is_normalised(typed: str) -> None:
    assert validate_uscc(typed) == STDNUM_USCC


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("91110000600037341X", "checksum does not match"),
        ("A1110000600037341L", "first 8 characters must be digits"),
        ("911100006000373I1L", "first 8 characters must be digits"),
        ("9111000060003734", "must be 18 characters, got 16"),
        ("12345", "must be 18 characters, got 5"),
        ("", "is empty"),
    ],
)
def test_uscc_rejections_name_field_and_mask(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_uscc(raw, field="applicant_uscc")
    assert reason in caught.value.reason
    assert "unified social credit code" in str(caught.value)
    if raw:
        _assert_safe(caught.value, "applicant_uscc", raw)


def test_uscc_must_be_text() -> None:
    with pytest.raises(InvalidIdentifier, match="must be text, got int"):
        validate_uscc(91110000600037341)
    assert not is_valid_uscc(None)


# --- resident ID -----------------------------------------------------------------------------


def test_stdnum_sample_resident_id_is_valid() -> None:
    assert validate_resident_id(STDNUM_RIC) == STDNUM_RIC
    assert is_valid_resident_id(STDNUM_RIC)


def test_lowercase_and_full_width_x_normalised(ric_x: str) -> None:
    assert validate_resident_id(ric_x[:-1] + "x") == ric_x
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in ric_x[:-1]) + "ｘ"
    assert validate_resident_id(full_width) == ric_x


def test_message_shape_matches_the_documented_form(ric_x: str) -> None:
    wrong = ric_x[:-1] + "0"
    with pytest.raises(InvalidIdentifier) as caught:
        validate_resident_id(wrong, field="legal_rep_id")
    assert str(caught.value) == (
        f"field 'legal_rep_id': invalid resident ID number 330***********{wrong[-4:]} "
        "(checksum does not match)"
    )


@pytest.mark.parametrize(
    ("first17", "reason"),
    [
        ("36042619911301007", "birth date is not a real date"),  # month 13
        ("36042619910230007", "birth date is not a real date"),  # 30 February
        ("00000019910101007", "birth-place code"),  # no such place
        ("11010320150101007", "birth-place code"),  # 崇文区, abolished after 2010
        ("11010120990101007", "birth date is in the future"),
    ],
)
def test_resident_id_with_good_checksum_but_bad_parts(
    make_ric: Callable[[str], str], first17: str, reason: str
) -> None:
    raw = make_ric(first17)
    with pytest.raises(InvalidIdentifier) as caught:
        validate_resident_id(raw, field="operator_id")
    assert reason in caught.value.reason
    _assert_safe(caught.value, "operator_id", raw)


def test_abolished_place_is_fine_for_someone_born_while_it_existed(
    make_ric: Callable[[str], str],
) -> None:
    number = make_ric("11010319800101007")  # 崇文区 existed in 1980
    assert validate_resident_id(number) == number


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("360426199101010072", "checksum does not match"),
        ("36042619910101007", "must be 18 characters, got 17"),
        ("360426910101007", "15-digit first-generation"),
        ("36042619910101A071", "first 17 characters must be digits"),
        ("", "is empty"),
    ],
)
def test_resident_id_rejections(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_resident_id(raw)
    assert reason in caught.value.reason
    if raw:
        _assert_safe(caught.value, "id_number", raw)
    assert not is_valid_resident_id(raw)


def test_error_pickles_without_the_raw_value() -> None:
    raw = "360426199101010072"
    with pytest.raises(InvalidIdentifier) as caught:
        validate_resident_id(raw, field="id_number")
    data = pickle.dumps(caught.value)
    assert raw.encode() not in data
    again = pickle.loads(data)
    assert str(again) == str(caught.value)
    assert again.field == "id_number"


# --- phones ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("13812345678", "+8613812345678"),
        ("138 1234 5678", "+8613812345678"),
        ("+86-138-1234-5678", "+8613812345678"),
        ("0086 138 1234 5678", "+8613812345678"),
        ("１３８１２３４５６７８", "+8613812345678"),
        ("19912345678", "+8619912345678"),
        ("0571-88888888", "+8657188888888"),
        ("(0571)88888888", "+8657188888888"),
        ("010-12345678", "+861012345678"),
        ("+86 571 8888 8888", "+8657188888888"),
    ],
)
def test_valid_phones_become_e164(typed: str, e164: str) -> None:
    assert validate_phone(typed) == e164
    assert is_valid_phone(typed)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("+14155552671", "not a mainland China number"),
        ("88888888", "not in any assigned"),
        ("12345", "needs its area code"),
        ("1381234567", "not in any assigned"),
        ("+86 138 1234 5678 9999", "too long"),
        ("abcdefgh", "not a phone number"),
        ("", "is empty"),
    ],
)
def test_invalid_phones(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_phone(raw, field="contact_phone")
    assert reason in caught.value.reason
    if raw:
        _assert_safe(caught.value, "contact_phone", normalise_text(raw))
        _assert_safe(caught.value, "contact_phone", raw)
    assert not is_valid_phone(raw)


def test_phone_must_be_text() -> None:
    with pytest.raises(InvalidIdentifier, match="must be text"):
        validate_phone(13812345678)


# --- properties ------------------------------------------------------------------------------

_identifier_text = st.text(alphabet="0123456789XABCDEFG +-", min_size=8, max_size=24)


@settings(max_examples=300)
@given(_identifier_text)
def test_validators_only_raise_invalid_identifier_and_never_echo(raw: str) -> None:
    compact = normalise_text(raw)
    for validate in (validate_uscc, validate_resident_id, validate_phone):
        try:
            validate(raw)
        except InvalidIdentifier as exc:
            if len(compact) >= 8:
                assert compact not in str(exc)
