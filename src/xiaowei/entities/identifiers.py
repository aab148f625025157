"""Normalise and validate the identifiers every party carries: USCC, resident ID, phone.

Why normalise first: numbers arrive typed at branch counters, pasted from PDFs and read from
scanned licences, so they come with full-width digits (１３８), ideographic spaces and hyphens.
A validator that rejected those would push staff to retype; one that accepted them without
normalising would store two spellings of one number and break entity resolution. So every
validator returns one canonical spelling, and every rejection is an ``InvalidIdentifier`` whose
message names the field and shows the value masked.

The checks themselves are python-stdnum's (GB 32100, GB 11643) and phonenumbers' (CN number
plan); this module only maps their failures to reasons a bank clerk can act on.
"""

from __future__ import annotations

import datetime as dt

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric, uscc

from xiaowei.entities.check_digits import (
    ric_check_char,
    ric_check_chars,
    uscc_check_char,
    uscc_check_chars,
)
from xiaowei.entities.errors import InvalidIdentifier
from xiaowei.entities.masking import mask_id_number, mask_phone, mask_uscc, mask_value

__all__ = [
    "is_valid_phone",
    "is_valid_resident_id",
    "is_valid_uscc",
    "normalise_text",
    "ric_check_char",
    "ric_check_chars",
    "uscc_check_char",
    "uscc_check_chars",
    "validate_phone",
    "validate_resident_id",
    "validate_uscc",
]

USCC_WHAT = "unified social credit code"
RIC_WHAT = "resident ID number"
PHONE_WHAT = "phone number"


def _build_translation() -> dict[int, str | None]:
    table: dict[int, str | None] = {
        code: chr(code - 0xFEE0)
        for code in range(0xFF01, 0xFF5F)  # full-width ASCII
    }
    separators = [0x3000, 0x00A0, 0x2002, 0x2003, 0x2009, 0x202F]  # ideographic, no-break …
    separators += [0x200B, 0x200C, 0x200D, 0xFEFF]  # zero-width characters from copy-paste
    separators += [0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212]  # dashes, minus
    separators += [ord(" "), ord("-"), ord("\t"), 0xFF0D]  # 0xFF0D: full-width hyphen
    # One translation pass: separators must map straight to None, not to ' ' or '-'.
    table.update(dict.fromkeys(separators))
    return table


_TRANSLATION = _build_translation()


def normalise_text(value: str) -> str:
    """Canonical spelling of an identifier as typed: half-width, no separators, upper case.

    Full-width ASCII (``１３８－１２３４``) becomes half-width, ideographic and no-break spaces
    and every kind of dash are removed along with ordinary spaces and hyphens, zero-width
    characters are dropped, and letters are upper-cased ('x' → 'X' in ID numbers).
    """
    return value.translate(_TRANSLATION).strip().upper()


def _require_text(value: object, field: str, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidIdentifier.from_raw(
            field, value, f"must be text, got {type(value).__name__}", what
        )
    return value


def validate_uscc(value: object, field: str = "uscc") -> str:
    """The 18-character canonical USCC, or ``InvalidIdentifier`` naming ``field``.

    Only the structure and check character are verified (GB 32100); whether the code was ever
    issued is a question for the business registry, not for a validator.
    """
    text = normalise_text(_require_text(value, field, USCC_WHAT))
    if not text:
        raise InvalidIdentifier(field, "''", "is empty", USCC_WHAT)
    try:
        return str(uscc.validate(text))
    except stdnum_errors.InvalidLength:
        reason = f"must be 18 characters, got {len(text)}"
    except stdnum_errors.InvalidFormat:
        reason = (
            "the first 8 characters must be digits and the rest digits or letters "
            "other than I, O, S, V, Z"
        )
    except stdnum_errors.InvalidChecksum:
        reason = "checksum does not match"
    except stdnum_errors.ValidationError:
        reason = "not a valid code"
    raise InvalidIdentifier(field, mask_uscc(text), reason, USCC_WHAT)


def _resident_id_component_reason(text: str) -> str:
    """Say which part stdnum's single InvalidComponent was about: the date or the place."""
    try:
        ric.get_birth_date(text)
    except stdnum_errors.ValidationError:
        return "birth date is not a real date"
    return "birth-place code is unknown or was not in use in the birth year"


def validate_resident_id(value: object, field: str = "id_number") -> str:
    """The 18-character resident ID number (check 'X' upper-cased), or ``InvalidIdentifier``.

    Beyond stdnum's checks (length, digits, GB 11643 checksum, real birth date, birth-place
    code in use at the birth year) a birth date after today is rejected: such a number can only
    be a typing error or a fabricated identity.
    """
    text = normalise_text(_require_text(value, field, RIC_WHAT))
    if not text:
        raise InvalidIdentifier(field, "''", "is empty", RIC_WHAT)
    try:
        number = str(ric.validate(text))
    except stdnum_errors.InvalidLength:
        reason = (
            "15-digit first-generation numbers are no longer accepted; need 18 characters"
            if len(text) == 15
            else f"must be 18 characters, got {len(text)}"
        )
    except stdnum_errors.InvalidFormat:
        reason = "the first 17 characters must be digits"
    except stdnum_errors.InvalidChecksum:
        reason = "checksum does not match"
    except stdnum_errors.InvalidComponent:
        reason = _resident_id_component_reason(text)
    except stdnum_errors.ValidationError:
        reason = "not a valid number"
    else:
        if ric.get_birth_date(number) > dt.date.today():
            raise InvalidIdentifier(
                field, mask_id_number(number), "birth date is in the future", RIC_WHAT
            )
        return number
    raise InvalidIdentifier(field, mask_id_number(text), reason, RIC_WHAT)


_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}

_LENGTH_REASONS = {
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "wrong number of digits",
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    # A landline typed without its area code: dialable locally, ambiguous anywhere else.
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "a landline needs its area code, e.g. 0571-",
}


def validate_phone(value: object, field: str = "phone") -> str:
    """The E.164 form (``+8613812345678``) of a mainland China phone, or ``InvalidIdentifier``.

    Accepts mobiles and landlines as people write them: ``138 1234 5678``, ``+86-138…``,
    ``0086…``, ``0571-88888888``, ``(0571)88888888``. Numbers of other countries are refused:
    the bank's contact, fraud-ring and collection rules all assume the CN number plan.
    """
    text = normalise_text(_require_text(value, field, PHONE_WHAT))
    if not text:
        raise InvalidIdentifier(field, "''", "is empty", PHONE_WHAT)
    masked = mask_phone(text)
    try:
        number = phonenumbers.parse(text, "CN")
    except NumberParseException as exc:
        reason = _PARSE_REASONS.get(exc.error_type, "not a phone number")
        raise InvalidIdentifier(field, mask_value(text), reason, PHONE_WHAT) from None
    if number.country_code != 86:
        reason = f"not a mainland China number (country code +{number.country_code})"
        raise InvalidIdentifier(field, masked, reason, PHONE_WHAT)
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible in _LENGTH_REASONS:
        raise InvalidIdentifier(field, masked, _LENGTH_REASONS[possible], PHONE_WHAT)
    if not phonenumbers.is_valid_number(number):
        reason = "not in any assigned mainland China number range"
        raise InvalidIdentifier(field, masked, reason, PHONE_WHAT)
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))


def is_valid_uscc(value: object) -> bool:
    """Whether ``validate_uscc`` would accept the value."""
    try:
        validate_uscc(value)
    except InvalidIdentifier:
        return False
    return True


def is_valid_resident_id(value: object) -> bool:
    """Whether ``validate_resident_id`` would accept the value."""
    try:
        validate_resident_id(value)
    except InvalidIdentifier:
        return False
    return True


def is_valid_phone(value: object) -> bool:
    """Whether ``validate_phone`` would accept the value."""
    try:
        validate_phone(value)
    except InvalidIdentifier:
        return False
    return True
