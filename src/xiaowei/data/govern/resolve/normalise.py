"""The minimal normalisation entity resolution needs until the standardisation package lands.

Why this is one small module: ``xiaowei.data.govern.standardise`` will own the full rules for
names, identifiers and addresses. Until then resolution needs just enough to make the same
party spelt two ways compare equal — full-width to half-width, no spaces, 有限责任公司 →
有限公司, no brackets — and a *name core* (the trade name without place and legal form) so
that news that say 海通食品 can meet the registry's 台州海通食品有限公司. Everything here is
a pure function of one value, so swapping in the standardisation package means replacing the
functions named in ``Normaliser`` and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from stdnum import numdb

from xiaowei.entities.identifiers import is_valid_resident_id, is_valid_uscc, normalise_text

__all__ = [
    "IdentifierReading",
    "looks_like_person_name",
    "name_core",
    "name_key",
    "normalise_address",
    "normalise_phone",
    "read_identifier",
]

_BRACKETS = str.maketrans("", "", "()（）[]【】〔〕")
# Longest first: 股份有限公司 must be stripped whole, not as 有限公司 leaving 股份.
_LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "合伙企业", "个人独资企业")
# A business word at the end of a short name says "firm" even when it has no legal form.
# Single characters that are also common in given names (园, 华, 家) are left out.
_BUSINESS_ENDINGS = (*"店部坊厂队室馆司所站铺", "商行", "中心", "贸易", "食品", "百货", "科技")
_CJK = re.compile(r"^[\u3400-\u9fff·]+$")
_YEARS = re.compile(r"^\[[^\]]*\]")


@cache
def _place_prefixes() -> tuple[str, ...]:
    """Province and prefecture names (with and without 省/市) from stdnum's division table.

    Read from the same table the identifier validators use, so that every place a USCC or ID
    number can name is also a place a firm name can start with. Longest first, so that
    浙江省 is stripped before 浙江.
    """
    names: set[str] = set()
    for _length, _low, _high, props, children in numdb.get("cn/loc").prefixes:
        names.add(_YEARS.sub("", props.get("province", "")))
        for _l2, low, _h2, child_props, _c in children:
            if low.endswith("00"):
                names.add(_YEARS.sub("", child_props.get("county", "")))
    prefixes: set[str] = set()
    for name in names:
        if len(name) < 2:
            continue
        prefixes.add(name)
        for suffix in ("省", "市", "自治州", "地区", "盟"):
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                prefixes.add(name[: -len(suffix)])
    return tuple(sorted(prefixes, key=len, reverse=True))


@cache
def _place_pattern() -> re.Pattern[str]:
    """One alternation of every place prefix (longest first), so stripping is one match."""
    return re.compile("|".join(re.escape(p) for p in _place_prefixes()))


@cache
def name_key(value: str | None) -> str | None:
    """Exact-comparison key of a party name: half-width, no spaces or brackets, 有限公司.

    Brackets are dropped but their content kept, because the registry's format variants put
    part of the name in brackets (湖州（盛启）食品有限公司) rather than adding a branch name.
    """
    if value is None:
        return None
    text = normalise_text(value).translate(_BRACKETS)
    text = text.replace("有限责任公司", "有限公司")
    return text or None


@cache
def name_core(key: str | None) -> str | None:
    """The trade name: a name key without its leading place names and trailing legal form.

    Why: web news and many people say 海通食品 for 台州海通食品有限公司 and 吴强火锅店 for
    丽水市吴强火锅店; only the core is shared by every way of naming the firm.
    """
    if key is None:
        return None
    text = key
    for form in _LEGAL_FORMS:
        if text.endswith(form) and len(text) > len(form) + 1:
            text = text[: -len(form)]
            break
    while (match := _place_pattern().match(text)) and len(text) - match.end() >= 2:
        text = text[match.end() :]  # 浙江省杭州市… carries two place names
    return text or None


@cache
def looks_like_person_name(key: str | None) -> bool:
    """Two to four Chinese characters with no business word: how a person is named.

    Used only when no identifier says what the subject is; a four-character trade name
    such as 海业贸易 ends with a business word and stays a firm.
    """
    if key is None or not 2 <= len(key) <= 4 or not _CJK.match(key):
        return False
    return not key.endswith(_BUSINESS_ENDINGS)


def normalise_phone(value: str | None) -> str | None:
    """Digits of a CN phone number without the +86 / 0086 country prefix."""
    if value is None:
        return None
    text = normalise_text(value).replace("(", "").replace(")", "")
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text or None


@cache
def normalise_address(value: str | None) -> str | None:
    """Half-width address without spaces and without the leading province name."""
    if value is None:
        return None
    text = normalise_text(value).translate(_BRACKETS)
    for prefix in ("浙江省",):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text or None


@dataclass(frozen=True, slots=True)
class IdentifierReading:
    """What an identifier field says: the canonical text, its kind and whether it is valid.

    ``kind`` is 'uscc' or 'resident_id' (by validity, else by shape) or None when the text is
    neither shape; an invalid identifier keeps its text for fuzzy comparison but must never be
    used as an exact key.
    """

    text: str | None
    kind: str | None
    valid: bool


@cache
def read_identifier(value: str | None) -> IdentifierReading:
    """Classify and validate an identifier field that may hold a USCC or a resident ID."""
    if value is None:
        return IdentifierReading(None, None, False)
    text = normalise_text(value)
    if not text:
        return IdentifierReading(None, None, False)
    if is_valid_uscc(text):
        return IdentifierReading(text, "uscc", True)
    if is_valid_resident_id(text):
        return IdentifierReading(text, "resident_id", True)
    if len(text) == 18 and text[:17].isdigit() and text[0] in "123456":
        return IdentifierReading(text, "resident_id", False)
    if len(text) == 18 and text[:2].isalnum():
        return IdentifierReading(text, "uscc", False)
    return IdentifierReading(text, None, False)
